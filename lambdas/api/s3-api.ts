// The S3 API: authenticates a request, authorises its action and runs it on the object service.
// Protocol details (routing, SigV4, ranges, XML) live in lambdas/http; storage lives behind the service.
import { Readable } from 'node:stream';
import { authorize, type Action, type CredentialStore, type Principal } from '../core/access';
import { EntityTooLargeError, InvalidArgumentError, InvalidRequestError, PreconditionFailedError, StoreError } from '../core/errors';
import { newRequestId } from '../core/ids';
import { MAX_LIST_KEYS, MAX_REQUEST_BODY_BYTES } from '../core/limits';
import type { ObjectService } from '../core/object-service';
import { ObjectChangedError } from '../core/part-reader';
import type { ObjectRecord } from '../core/records';
import type { S3Request } from '../http/request';
import type { ApiResponse } from './event';
import { routeS3, type S3Route } from '../http/router';
import { verifyRequest } from '../http/sigv4';
import type { Checksum } from '../http/checksums';
import { lookup } from '../http/request';
import { parseRange } from '../http/range';
import { evaluateConditions } from '../http/conditional';
import { renderError } from '../http/errors';
import { extractUserMetadata } from '../http/headers';
import * as xml from '../http/xml';

export interface ApiLogger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export interface S3ApiDeps {
  readonly service: ObjectService;
  readonly credentials: CredentialStore;
  readonly region: string;
  readonly now?: () => Date;
  readonly logger?: ApiLogger;
  /** Admin API (keys, access keys) under /_sealstore/; absent until the key lifecycle is wired. */
  readonly admin?: (req: S3Request, principal: Principal, adminPath: string) => Promise<ApiResponse>;
}

interface Context {
  readonly req: S3Request;
  readonly route: S3Route;
  readonly principal: Principal;
  readonly payload: Buffer;
  readonly requestId: string;
  /** The flexible checksum the client sent and the signature layer verified. */
  readonly checksum?: Checksum;
}

const XML = 'application/xml';

export function makeS3Api(deps: S3ApiDeps): (req: S3Request, canonicalPath?: string) => Promise<ApiResponse> {
  const now = deps.now ?? (() => new Date());
  const service = deps.service;

  function respond(statusCode: number, headers: Record<string, string>, body: Buffer | Readable = Buffer.alloc(0)): ApiResponse {
    return { statusCode, headers, body };
  }

  function xmlResponse(requestId: string, body: string, statusCode = 200): ApiResponse {
    return respond(statusCode, { 'content-type': XML, 'x-amz-request-id': requestId }, Buffer.from(body, 'utf8'));
  }

  function sseHeaders(keyId: string, requestId: string): Record<string, string> {
    return { 'x-amz-server-side-encryption': 'aws:kms', 'x-amz-server-side-encryption-aws-kms-key-id': keyId, 'x-amz-request-id': requestId };
  }

  /** The source of CopyObject / UploadPartCopy, after its x-amz-copy-source-if-* conditions (failures are 412). */
  async function copySource(ctx: Context): Promise<ObjectRecord> {
    const src = ctx.route.op === 'Admin' ? undefined : ctx.route.copySource;
    if (!src) throw new InvalidArgumentError('Copy Source must mention the source bucket and key: sourcebucket/sourcekey', { ArgumentName: 'x-amz-copy-source' });
    authorize(ctx.principal, 'ReadObject', src.bucket);
    const source = await service.headObject(src.bucket, src.key);
    const conditions: Record<string, string> = {};
    for (const name of ['if-match', 'if-none-match', 'if-modified-since', 'if-unmodified-since']) {
      const value = lookup(ctx.req.headers, `x-amz-copy-source-${name}`);
      if (value !== undefined) conditions[name] = value;
    }
    if (evaluateConditions(conditions, { etag: source.etag, lastModified: source.lastModified }, 'read') === 'not-modified') {
      throw new PreconditionFailedError('At least one of the pre-conditions you specified did not hold', { Condition: 'x-amz-copy-source-If-None-Match' });
    }
    return source;
  }

  function objectHeaders(o: ObjectRecord): Record<string, string> {
    const h: Record<string, string> = {
      etag: `"${o.etag}"`,
      'last-modified': o.lastModified.toUTCString(),
      'content-type': o.contentType,
      'accept-ranges': 'bytes',
      'x-amz-server-side-encryption': 'aws:kms',
      'x-amz-server-side-encryption-aws-kms-key-id': o.keyId,
    };
    for (const [k, v] of Object.entries(o.userMetadata)) h[`x-amz-meta-${k}`] = v;
    return h;
  }

  async function run(ctx: Context): Promise<ApiResponse> {
    const { route, req, requestId } = ctx;
    const can = (action: Action, bucket?: string) => authorize(ctx.principal, action, bucket);
    const bucket = route.bucket ?? '';
    const key = route.key ?? '';
    switch (route.op) {
      case 'ListBuckets': {
        can('ListBuckets');
        const buckets = (await service.listBuckets()).filter((b) => ctx.principal.grants.some((g) => g.bucket === '*' || g.bucket === b.name));
        return xmlResponse(requestId, xml.renderListBuckets({ id: ctx.principal.accessKeyId }, buckets.map((b) => ({ name: b.name, creationDate: b.createdAt }))));
      }
      case 'CreateBucket': {
        can('CreateBucket', bucket);
        await service.createBucket(bucket);
        return respond(200, { location: `/${bucket}`, 'x-amz-request-id': requestId });
      }
      case 'HeadBucket': {
        can('ReadBucket', bucket);
        await service.headBucket(bucket);
        return respond(200, { 'x-amz-bucket-region': deps.region, 'x-amz-request-id': requestId });
      }
      case 'GetBucketLocation': {
        can('ReadBucket', bucket);
        await service.headBucket(bucket);
        return xmlResponse(requestId, xml.renderLocationConstraint(deps.region));
      }
      case 'DeleteBucket': {
        can('DeleteBucket', bucket);
        await service.deleteBucket(bucket);
        return respond(204, { 'x-amz-request-id': requestId });
      }
      case 'ListObjectsV2':
      case 'ListObjects': {
        can('ReadBucket', bucket);
        const q = req.query;
        const maxKeys = parseMaxKeys(q['max-keys']);
        const v2 = route.op === 'ListObjectsV2';
        const token = v2 && q['continuation-token'] ? decodeToken(q['continuation-token']) : undefined;
        const marker = v2 ? q['start-after'] : q['marker'];
        const result = await service.listObjects({
          bucket,
          prefix: q['prefix'],
          delimiter: q['delimiter'] || undefined,
          maxKeys,
          // A marker may be a common prefix a previous page returned (NextMarker): treat it like a token.
          resumeAfter: token ?? (marker || undefined),
        });
        const common = {
          bucket,
          prefix: q['prefix'] ?? '',
          delimiter: q['delimiter'] || undefined,
          maxKeys,
          encodingType: q['encoding-type'] === 'url' ? ('url' as const) : undefined,
          isTruncated: result.isTruncated,
          contents: result.objects.map((o) => ({ key: o.key, lastModified: o.lastModified, etag: o.etag, size: o.size })),
          commonPrefixes: result.commonPrefixes,
        };
        if (v2) {
          return xmlResponse(requestId, xml.renderListObjectsV2({
            ...common,
            continuationToken: q['continuation-token'],
            nextContinuationToken: result.isTruncated && result.lastReturned !== undefined ? encodeToken(result.lastReturned) : undefined,
            startAfter: q['start-after'],
          }));
        }
        return xmlResponse(requestId, xml.renderListObjectsV1({
          ...common,
          marker: q['marker'] ?? '',
          nextMarker: result.isTruncated && q['delimiter'] ? result.lastReturned : undefined,
        }));
      }
      case 'PutObject': {
        can('WriteObject', bucket);
        const record = await service.putObject({
          bucket,
          key,
          body: ctx.payload,
          contentType: req.headers['content-type'],
          userMetadata: extractUserMetadata(req.headers),
          ifNoneMatch: req.headers['if-none-match'],
          ifMatch: req.headers['if-match'],
        });
        return respond(200, {
          etag: `"${record.etag}"`,
          'x-amz-server-side-encryption': 'aws:kms',
          'x-amz-server-side-encryption-aws-kms-key-id': record.keyId,
          'x-amz-request-id': requestId,
        });
      }
      case 'GetObject':
      case 'HeadObject': {
        can('ReadObject', bucket);
        // A concurrent overwrite may remove the blobs of the version just looked up; the reader then gets the
        // new version, as S3 would, instead of an error (bounded: a key rewritten faster than this is rare).
        for (let attempt = 1; ; attempt++) {
          const record = await service.headObject(bucket, key);
          const headers: Record<string, string> = { ...objectHeaders(record), 'x-amz-request-id': requestId };
          const verdict = evaluateConditions(req.headers, { etag: record.etag, lastModified: record.lastModified }, 'read');
          if (verdict === 'not-modified') {
            return respond(304, { etag: `"${record.etag}"`, 'last-modified': record.lastModified.toUTCString(), 'x-amz-request-id': requestId });
          }
          const range = parseRange(req.headers['range'], record.size);
          const length = range ? range.end - range.start + 1 : record.size;
          const rangeHeaders: Record<string, string> = range ? { 'content-range': `bytes ${range.start}-${range.end}/${record.size}` } : {};
          const status = range ? 206 : 200;
          if (route.op === 'HeadObject') {
            return respond(status, { ...headers, ...rangeHeaders, 'content-length': String(length) });
          }
          try {
            const body = await service.openObject(record, range);
            return respond(status, { ...headers, ...rangeHeaders, 'content-length': String(length) }, body);
          } catch (e) {
            if (!(e instanceof ObjectChangedError) || attempt >= 3) throw e;
          }
        }
      }
      case 'DeleteObject': {
        can('DeleteObject', bucket);
        await service.deleteObject(bucket, key);
        return respond(204, { 'x-amz-request-id': requestId });
      }
      case 'DeleteObjects': {
        can('DeleteObject', bucket);
        await service.headBucket(bucket);
        const request = xml.parseDelete(ctx.payload);
        const deleted: Array<{ key: string }> = [];
        const errors: Array<{ key: string; code: string; message: string }> = [];
        for (const { key: k } of request.objects) {
          try {
            await service.deleteObject(bucket, k);
            deleted.push({ key: k });
          } catch (e) {
            if (!(e instanceof StoreError)) throw e;
            errors.push({ key: k, code: e.code, message: e.message });
          }
        }
        return xmlResponse(requestId, xml.renderDeleteResult({ deleted, errors, quiet: request.quiet }));
      }
      case 'CopyObject': {
        can('WriteObject', bucket);
        const source = await copySource(ctx);
        const directive = (req.headers['x-amz-metadata-directive'] ?? 'COPY').toUpperCase();
        if (directive !== 'COPY' && directive !== 'REPLACE') {
          throw new InvalidArgumentError('Unknown metadata directive.', { ArgumentName: 'x-amz-metadata-directive', ArgumentValue: directive });
        }
        if (directive === 'COPY' && source.bucket === bucket && source.key === key) {
          throw new InvalidRequestError("This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.");
        }
        const record = await service.copyObject({
          source,
          bucket,
          key,
          metadataDirective: directive,
          contentType: req.headers['content-type'],
          userMetadata: extractUserMetadata(req.headers),
          preconditions: { ifNoneMatch: req.headers['if-none-match'], ifMatch: req.headers['if-match'] },
        });
        return respond(200, { 'content-type': XML, ...sseHeaders(record.keyId, requestId) }, Buffer.from(xml.renderCopyObjectResult({ etag: record.etag, lastModified: record.lastModified }), 'utf8'));
      }
      case 'CreateMultipartUpload': {
        can('WriteObject', bucket);
        const upload = await service.createMultipartUpload({ bucket, key, contentType: req.headers['content-type'], userMetadata: extractUserMetadata(req.headers) });
        const algorithm = req.headers['x-amz-checksum-algorithm'];
        const headers = { 'content-type': XML, ...sseHeaders(upload.keyId, requestId), ...(algorithm ? { 'x-amz-checksum-algorithm': algorithm.toUpperCase() } : {}) };
        return respond(200, headers, Buffer.from(xml.renderInitiateMultipartUpload({ bucket, key, uploadId: upload.uploadId }), 'utf8'));
      }
      case 'UploadPart': {
        can('WriteObject', bucket);
        const part = await service.uploadPart({
          bucket,
          key,
          uploadId: route.uploadId ?? '',
          partNumber: route.partNumber ?? 0,
          body: ctx.payload,
          ...(ctx.checksum ? { checksum: ctx.checksum } : {}),
        });
        const echo: Record<string, string> = ctx.checksum ? { [`x-amz-checksum-${ctx.checksum.algorithm.toLowerCase()}`]: ctx.checksum.value } : {};
        return respond(200, { etag: `"${part.etag}"`, 'x-amz-server-side-encryption': 'aws:kms', 'x-amz-request-id': requestId, ...echo });
      }
      case 'UploadPartCopy': {
        can('WriteObject', bucket);
        const source = await copySource(ctx);
        const part = await service.uploadPartCopy({
          bucket,
          key,
          uploadId: route.uploadId ?? '',
          partNumber: route.partNumber ?? 0,
          source,
          range: parseCopySourceRange(req.headers['x-amz-copy-source-range'], source.size),
        });
        return respond(200, { 'content-type': XML, 'x-amz-server-side-encryption': 'aws:kms', 'x-amz-request-id': requestId }, Buffer.from(xml.renderCopyPartResult({ etag: part.etag, lastModified: part.lastModified }), 'utf8'));
      }
      case 'ListParts': {
        can('ReadBucket', bucket);
        const q = req.query;
        const maxParts = parseLimit(q['max-parts'], 'max-parts', 1000);
        const marker = q['part-number-marker'] ? parseLimit(q['part-number-marker'], 'part-number-marker', 10_000) : 0;
        const result = await service.listParts({ bucket, key, uploadId: route.uploadId ?? '', partNumberMarker: marker, maxParts: Math.max(1, maxParts) });
        return xmlResponse(requestId, xml.renderListParts({
          bucket,
          key,
          uploadId: result.upload.uploadId,
          partNumberMarker: marker,
          nextPartNumberMarker: result.nextPartNumberMarker,
          maxParts,
          isTruncated: result.isTruncated,
          parts: result.parts.map((p) => ({ partNumber: p.partNumber, lastModified: p.lastModified, etag: p.etag, size: p.plaintextSize })),
          owner: { id: ctx.principal.accessKeyId },
        }));
      }
      case 'CompleteMultipartUpload': {
        can('WriteObject', bucket);
        const request = xml.parseCompleteMultipartUpload(ctx.payload);
        const record = await service.completeMultipartUpload({
          bucket,
          key,
          uploadId: route.uploadId ?? '',
          parts: request.parts,
          preconditions: { ifNoneMatch: req.headers['if-none-match'], ifMatch: req.headers['if-match'] },
        });
        const host = req.headers['host'] ?? 'localhost';
        const location = `${req.headers['x-forwarded-proto'] ?? 'http'}://${host}/${encodeURIComponent(bucket)}/${key.split('/').map(encodeURIComponent).join('/')}`;
        return respond(200, { 'content-type': XML, ...sseHeaders(record.keyId, requestId) }, Buffer.from(xml.renderCompleteMultipartUpload({ location, bucket, key, etag: record.etag }), 'utf8'));
      }
      case 'AbortMultipartUpload': {
        can('WriteObject', bucket);
        await service.abortMultipartUpload(bucket, key, route.uploadId ?? '');
        return respond(204, { 'x-amz-request-id': requestId });
      }
      case 'ListMultipartUploads': {
        can('ReadBucket', bucket);
        const q = req.query;
        const maxUploads = parseLimit(q['max-uploads'], 'max-uploads', 1000);
        const result = await service.listMultipartUploads({
          bucket,
          prefix: q['prefix'],
          delimiter: q['delimiter'] || undefined,
          keyMarker: q['key-marker'],
          uploadIdMarker: q['upload-id-marker'],
          maxUploads,
        });
        return xmlResponse(requestId, xml.renderListMultipartUploads({
          bucket,
          keyMarker: q['key-marker'] ?? '',
          uploadIdMarker: q['upload-id-marker'] ?? '',
          nextKeyMarker: result.nextKeyMarker,
          nextUploadIdMarker: result.nextUploadIdMarker,
          prefix: q['prefix'],
          delimiter: q['delimiter'] || undefined,
          maxUploads,
          isTruncated: result.isTruncated,
          encodingType: q['encoding-type'] === 'url' ? 'url' : undefined,
          uploads: result.uploads.map((u) => ({ key: u.key, uploadId: u.uploadId, initiated: u.initiated, owner: { id: ctx.principal.accessKeyId } })),
          commonPrefixes: result.commonPrefixes,
        }));
      }
      case 'Admin': {
        // Each admin route authorises itself: rewrap and rotation are open to the rewrap role, the rest to admin.
        if (!deps.admin || route.adminPath === undefined) throw new InvalidArgumentError('The admin API is not available in this deployment.');
        return deps.admin({ ...req, body: ctx.payload }, ctx.principal, route.adminPath);
      }
      default:
        throw new InvalidArgumentError(`${(route as S3Route).op} is not supported yet.`);
    }
  }

  return async function handle(req: S3Request, canonicalPath?: string): Promise<ApiResponse> {
    const requestId = newRequestId();
    const resource = req.path;
    try {
      if (req.body.length > MAX_REQUEST_BODY_BYTES) {
        throw new EntityTooLargeError(
          `Your proposed upload of ${req.body.length} bytes exceeds the ${MAX_REQUEST_BODY_BYTES}-byte limit of one request through API Gateway and Lambda; use multipart upload with parts under that size.`,
          { MaxSizeAllowed: String(MAX_REQUEST_BODY_BYTES), ProposedSize: String(req.body.length) },
        );
      }
      const route = routeS3(req);
      let principal: Principal | undefined;
      const verified = await verifyRequest(req, {
        region: deps.region,
        now: now(),
        canonicalPath,
        lookupSecret: async (id) => {
          const found = await deps.credentials.lookup(id);
          principal = found?.principal;
          return found?.secret;
        },
      });
      if (!principal || principal.accessKeyId !== verified.accessKeyId) {
        throw new InvalidArgumentError('credentials changed during the request');
      }
      const response = await run({ req, route, principal, payload: verified.payload, requestId, ...(verified.checksum ? { checksum: verified.checksum } : {}) });
      deps.logger?.info('request', { requestId, op: route.op, bucket: route.bucket, status: response.statusCode });
      return response;
    } catch (e) {
      if (!(e instanceof StoreError)) deps.logger?.error('unexpected error', { requestId, error: e instanceof Error ? e.stack : String(e) });
      else deps.logger?.info('request failed', { requestId, code: e.code, status: e.statusCode });
      const rendered = renderError(e, resource, requestId, req.method);
      return { statusCode: rendered.statusCode, headers: rendered.headers, body: Buffer.from(rendered.body, 'utf8') };
    }
  };
}

/** A non-negative integer query parameter, capped as S3 caps it. */
function parseLimit(raw: string | undefined, name: string, cap: number): number {
  if (raw === undefined || raw === '') return cap;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`${name} must be a non-negative integer.`, { ArgumentName: name, ArgumentValue: raw });
  return Math.min(n, cap);
}

/** x-amz-copy-source-range is 'bytes=first-last', both inside the source (no open or suffix forms). */
export function parseCopySourceRange(raw: string | undefined, size: number): { start: number; end: number } | undefined {
  if (raw === undefined) return undefined;
  const m = /^bytes=(\d+)-(\d+)$/.exec(raw.trim());
  const start = m ? Number(m[1]) : NaN;
  const end = m ? Number(m[2]) : NaN;
  if (!m || start > end || end >= size) {
    throw new InvalidArgumentError(`Range specified is not valid for source object of size: ${size}`, { ArgumentName: 'x-amz-copy-source-range', ArgumentValue: raw });
  }
  return { start, end };
}

function parseMaxKeys(raw: string | undefined): number {
  if (raw === undefined || raw === '') return MAX_LIST_KEYS;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('max-keys must be a non-negative integer.', { ArgumentName: 'max-keys', ArgumentValue: raw });
  return Math.min(n, MAX_LIST_KEYS);
}

/** Continuation tokens are opaque to clients: the last key returned, base64url. */
function encodeToken(lastKey: string): string {
  return Buffer.from(lastKey, 'utf8').toString('base64url');
}
function decodeToken(token: string): string {
  const key = Buffer.from(token, 'base64url').toString('utf8');
  if (encodeToken(key) !== token.replace(/=+$/, '')) {
    throw new InvalidArgumentError('The continuation token provided is incorrect.', { ArgumentName: 'continuation-token' });
  }
  return key;
}
