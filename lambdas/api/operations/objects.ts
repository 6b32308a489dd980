// Object operations: PutObject, GetObject, HeadObject, GetObjectAttributes, DeleteObject, DeleteObjects, CopyObject.
import { IntegrityError, InvalidArgumentError, InvalidPartNumberError, InvalidRequestError, PreconditionFailedError, StoreError } from '../../core/errors';
import { checkIfNoneMatchForm } from '../../core/object-commit';
import type { RemoveResult, StoredChecksum } from '../../core/object-service';
import { ObjectChangedError } from '../../core/part-reader';
import type { ObjectRecord } from '../../core/records';
import { checksumHeaderName, type ChecksumAlgorithm } from '../../http/checksums';
import { directoryBucketCondition } from '../../http/unsupported-headers';
import { evaluateConditions } from '../../http/conditional';
import { extractStoredHeaders, extractUserMetadata, putContentType, responseOverrides } from '../../http/headers';
import { checkAclHeaders } from '../../http/acl';
import { parseRange } from '../../http/range';
import { parseSseRequest, sseResponseHeaders } from '../../http/sse';
import { lookup } from '../../http/request';
import * as xml from '../../http/xml';
import { objectLimit } from '../payload-limits';
import { respond, xmlResponse } from '../response';
import type { Operation, OperationContext } from './context';
import { refuseUnexpectedSourceOwner } from './expected-owner';

/** The headers S3 returns for SSE-KMS objects, naming the CMK that wraps the data key. */
export const sseHeaders = sseResponseHeaders;

/**
 * The protection headers of a write (PutObject, CopyObject, CreateMultipartUpload), checked before any body is read:
 * the CMK asked for, and ACL headers (only the owner's full control is accepted). Each is honoured or refused.
 */
export function writeProtections(ctx: OperationContext): { requestedKey?: string } {
  checkAclHeaders(ctx.req.headers, 'object');
  const sse = parseSseRequest(ctx.req.headers);
  return sse.kmsKeyId === undefined ? {} : { requestedKey: sse.kmsKeyId };
}

/** x-amz-version-id of a version written in a bucket with versioning (rows from before have none to give). */
export function versionHeader(o: { readonly versionId?: string }): Record<string, string> {
  return o.versionId === undefined ? {} : { 'x-amz-version-id': o.versionId };
}

function objectHeaders(o: ObjectRecord): Record<string, string> {
  const h: Record<string, string> = {
    ...versionHeader(o),
    etag: `"${o.etag}"`,
    'last-modified': o.lastModified.toUTCString(),
    'content-type': o.contentType,
    ...o.headers,
    'accept-ranges': 'bytes',
    ...sseHeaders(o.keyId),
  };
  for (const [k, v] of Object.entries(o.userMetadata)) h[`x-amz-meta-${k}`] = v;
  return h;
}

export const PutObject: Operation = async (ctx) => {
  ctx.can('WriteObject', ctx.bucket);
  const h = ctx.req.headers;
  checkIfNoneMatchForm(lookup(h, 'if-none-match'));
  const limit = objectLimit(ctx.limits);
  ctx.checkPayloadLength(limit);
  const protections = writeProtections(ctx);
  let opened: ReturnType<typeof ctx.payload> | undefined;
  const record = await ctx.service.putObject({
    ...protections,
    bucket: ctx.bucket,
    key: ctx.key,
    body: () => (opened = ctx.payload(limit)),
    checksum: () => opened?.checksum(),
    contentType: putContentType(h, ctx.req.query),
    headers: extractStoredHeaders(h),
    userMetadata: extractUserMetadata(h),
    ifNoneMatch: lookup(h, 'if-none-match'),
    ifMatch: lookup(h, 'if-match'),
  });
  // The checksum the body verified against (header or aws-chunked trailer), echoed as S3 does.
  const verified = opened?.checksum();
  return respond(200, {
    etag: `"${record.etag}"`,
    ...sseHeaders(record.keyId),
    ...versionHeader(record),
    'x-amz-request-id': ctx.requestId,
    ...(verified ? checksumHeaders({ ...verified, type: 'FULL_OBJECT' }) : {}),
  });
};

/** x-amz-checksum-<alg> and x-amz-checksum-type of a stored checksum. */
export function checksumHeaders(c: StoredChecksum): Record<string, string> {
  return { [checksumHeaderName(c.algorithm as ChecksumAlgorithm)]: c.value, 'x-amz-checksum-type': c.type };
}

/**
 * The bytes GET/HEAD ?partNumber=N select: that part of a multipart object, or (S3's rule) the whole of a
 * single-part object for N = 1. Any other N is 416 InvalidPartNumber.
 */
function partRange(record: ObjectRecord, partNumber: number): { start: number; end: number } | undefined {
  const notSatisfiable = () => new InvalidPartNumberError('The requested partnumber is not satisfiable', { PartNumberRequested: String(partNumber), ActualPartCount: String(record.parts.length) });
  if (!isMultipart(record)) {
    if (partNumber !== 1) throw notSatisfiable();
    return record.size === 0 ? undefined : { start: 0, end: record.size - 1 };
  }
  let start = 0;
  for (const p of record.parts) {
    if (p.partNumber === partNumber) return p.plaintextSize === 0 ? undefined : { start, end: start + p.plaintextSize - 1 };
    start += p.plaintextSize;
  }
  throw notSatisfiable();
}

function isMultipart(record: ObjectRecord): boolean {
  return record.etag.includes('-');
}

async function readObject(ctx: OperationContext, withBody: boolean) {
  ctx.can('ReadObject', ctx.bucket);
  const h = ctx.req.headers;
  // response-content-type & co. (GetObject and HeadObject): validated before any work, applied to a 200 or 206 only.
  const overrides = responseOverrides(ctx.req.query);
  // A concurrent overwrite may remove the blobs of the version just looked up; the reader then gets the new
  // version, as S3 would, instead of an error (bounded: a key rewritten faster than this is rare).
  let vanished: string | undefined;
  for (let attempt = 1; ; attempt++) {
    const record = await ctx.service.headObject(ctx.bucket, ctx.key, ctx.route.versionId);
    if (record.objectId === vanished) {
      // Its blobs are gone but its entry stands: not an overwrite, lost or deleted data under a live entry.
      throw new IntegrityError(`The stored data of ${ctx.key} is missing from the blob store although its index entry is current; nothing was served.`);
    }
    const verdict = evaluateConditions(h, { etag: record.etag, lastModified: record.lastModified }, 'read');
    if (verdict === 'not-modified') {
      return respond(304, { etag: `"${record.etag}"`, 'last-modified': record.lastModified.toUTCString(), ...versionHeader(record), 'x-amz-request-id': ctx.requestId });
    }
    const partNumber = ctx.route.partNumber;
    if (partNumber !== undefined && lookup(h, 'range') !== undefined) throw new InvalidRequestError('Cannot specify both Range header and partNumber query parameter.');
    const range = partNumber !== undefined ? partRange(record, partNumber) : parseRange(lookup(h, 'range'), record.size);
    const length = range ? range.end - range.start + 1 : partNumber !== undefined && isMultipart(record) ? 0 : record.size;
    // The stored checksum describes the whole object: S3 returns it only for whole-object reads.
    const wantsChecksum = (lookup(h, 'x-amz-checksum-mode') ?? '').toUpperCase() === 'ENABLED' && range === undefined && partNumber === undefined;
    const headers: Record<string, string> = {
      ...objectHeaders(record),
      ...overrides,
      'x-amz-request-id': ctx.requestId,
      'content-length': String(length),
      ...(range ? { 'content-range': `bytes ${range.start}-${range.end}/${record.size}` } : {}),
      ...(partNumber !== undefined && isMultipart(record) ? { 'x-amz-mp-parts-count': String(record.parts.length) } : {}),
    };
    const status = range ? 206 : 200;
    if (!withBody) {
      // HEAD has no data key at hand: returning the sealed checksum costs one KMS Decrypt, only when asked.
      const checksum = wantsChecksum ? (await ctx.service.objectChecksums(record)).object : undefined;
      return respond(status, { ...headers, ...(checksum ? checksumHeaders(checksum) : {}) });
    }
    try {
      if (wantsChecksum) {
        const { body, checksum } = await ctx.service.openObjectWithChecksum(record, range);
        return respond(status, { ...headers, ...(checksum ? checksumHeaders(checksum) : {}) }, body);
      }
      if (range === undefined && length === 0) return respond(status, headers, await ctx.service.openObject({ ...record, size: 0 }));
      return respond(status, headers, await ctx.service.openObject(record, range));
    } catch (e) {
      if (!(e instanceof ObjectChangedError) || attempt >= 3) throw e;
      vanished = record.objectId;
    }
  }
}

export const GetObject: Operation = (ctx) => readObject(ctx, true);
export const HeadObject: Operation = (ctx) => readObject(ctx, false);

/**
 * A delete conditional on an ETag tells the caller whether the object has that ETag: S3 asks for s3:GetObject as
 * well as s3:DeleteObject for it, so a delete-only key cannot probe ETags. `*` only asks whether the key exists.
 */
function canDeleteIf(ctx: OperationContext, ifMatch: string | undefined): void {
  if (ifMatch !== undefined && ifMatch.trim() !== '*') ctx.can('ReadObject', ctx.bucket);
}

export const DeleteObject: Operation = async (ctx) => {
  ctx.can('DeleteObject', ctx.bucket);
  if (ctx.route.versionId !== undefined) ctx.can('DeleteObjectVersion', ctx.bucket);
  const h = ctx.req.headers;
  const ifMatch = lookup(h, 'if-match');
  canDeleteIf(ctx, ifMatch);
  const removed = await ctx.service.deleteObject(ctx.bucket, ctx.key, { ifMatch }, ctx.route.versionId);
  return respond(204, { ...deleteHeaders(removed), 'x-amz-request-id': ctx.requestId });
};

/** x-amz-version-id and x-amz-delete-marker of a delete: the version removed, or the marker written. */
function deleteHeaders(r: RemoveResult): Record<string, string> {
  return { ...(r.versionId !== undefined ? { 'x-amz-version-id': r.versionId } : {}), ...(r.deleteMarker ? { 'x-amz-delete-marker': 'true' } : {}) };
}

export const DeleteObjects: Operation = async (ctx) => {
  ctx.can('DeleteObject', ctx.bucket);
  await ctx.service.headBucket(ctx.bucket);
  const request = xml.parseDelete(await ctx.document());
  const deleted: xml.DeletedEntry[] = [];
  const errors: Array<{ key: string; code: string; message: string }> = [];
  for (const { key, etag, directoryBucketConditions, versionId } of request.objects) {
    try {
      const [unsupported] = directoryBucketConditions ?? [];
      if (unsupported !== undefined) throw directoryBucketCondition(unsupported);
      canDeleteIf(ctx, etag);
      if (versionId !== undefined) ctx.can('DeleteObjectVersion', ctx.bucket);
      // Each entry's <ETag> is judged inside its own removing transaction, as If-Match on DeleteObject is.
      const removed = await ctx.service.deleteObject(ctx.bucket, key, etag === undefined ? {} : { ifMatch: etag }, versionId);
      deleted.push({
        key,
        ...(versionId !== undefined ? { versionId } : {}),
        ...(removed.deleteMarker ? { deleteMarker: true, ...(removed.versionId !== undefined ? { deleteMarkerVersionId: removed.versionId } : {}) } : {}),
      });
    } catch (e) {
      if (!(e instanceof StoreError)) throw e;
      errors.push({ key, code: e.code, message: e.message });
    }
  }
  return xmlResponse(ctx.requestId, xml.renderDeleteResult({ deleted, errors, quiet: request.quiet }));
};

/** The source of CopyObject / UploadPartCopy, after its x-amz-copy-source-if-* conditions (failures are 412). */
export async function copySource(ctx: OperationContext): Promise<ObjectRecord> {
  const src = ctx.route.copySource;
  if (!src) throw new InvalidArgumentError('Copy Source must mention the source bucket and key: sourcebucket/sourcekey', { ArgumentName: 'x-amz-copy-source' });
  ctx.can('ReadObject', src.bucket);
  await refuseUnexpectedSourceOwner(ctx, src.bucket);
  const source = await ctx.service.headObject(src.bucket, src.key, src.versionId);
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

/** x-amz-copy-source-version-id: the version a copy read (S3 names it when the source has one). */
export function copySourceVersionHeader(source: ObjectRecord): Record<string, string> {
  return source.versionId === undefined ? {} : { 'x-amz-copy-source-version-id': source.versionId };
}

export const CopyObject: Operation = async (ctx) => {
  ctx.can('WriteObject', ctx.bucket);
  const protections = writeProtections(ctx);
  const h = ctx.req.headers;
  checkIfNoneMatchForm(lookup(h, 'if-none-match'));
  const source = await copySource(ctx);
  const directive = (lookup(h, 'x-amz-metadata-directive') ?? 'COPY').toUpperCase();
  if (directive !== 'COPY' && directive !== 'REPLACE') {
    throw new InvalidArgumentError('Unknown metadata directive.', { ArgumentName: 'x-amz-metadata-directive', ArgumentValue: directive });
  }
  // A copy onto itself that changes its CMK is a change, as S3 counts encryption attributes.
  const changesKey = protections.requestedKey !== undefined;
  // Copying a named version onto its own key is how S3 restores a previous version: allowed.
  const restoresVersion = ctx.route.copySource?.versionId !== undefined;
  if (directive === 'COPY' && source.bucket === ctx.bucket && source.key === ctx.key && !changesKey && !restoresVersion) {
    throw new InvalidRequestError(
      "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.",
    );
  }
  const record = await ctx.service.copyObject({
    ...protections,
    source,
    bucket: ctx.bucket,
    key: ctx.key,
    metadataDirective: directive,
    contentType: lookup(h, 'content-type'),
    headers: extractStoredHeaders(h),
    userMetadata: extractUserMetadata(h),
    preconditions: { ifNoneMatch: lookup(h, 'if-none-match'), ifMatch: lookup(h, 'if-match') },
  });
  return xmlResponse(ctx.requestId, xml.renderCopyResult('CopyObjectResult', { etag: record.etag, lastModified: record.lastModified }), {
    ...sseHeaders(record.keyId),
    ...versionHeader(record),
    ...copySourceVersionHeader(source),
  });
};

const OBJECT_ATTRIBUTES = new Set(['ETag', 'Checksum', 'ObjectParts', 'StorageClass', 'ObjectSize']);

/**
 * GetObjectAttributes (GET ?attributes): the attributes x-amz-object-attributes names. Checksums are sealed under
 * the data key, so asking for Checksum or ObjectParts of an object that has checksums costs one KMS Decrypt.
 */
export const GetObjectAttributes: Operation = async (ctx) => {
  ctx.can('ReadObject', ctx.bucket);
  const h = ctx.req.headers;
  const asked = new Set(
    (lookup(h, 'x-amz-object-attributes') ?? '')
      .split(',')
      .map((a) => a.trim())
      .filter((a) => a !== ''),
  );
  if (asked.size === 0) {
    throw new InvalidArgumentError('The x-amz-object-attributes header specifying the attributes to be retrieved is either missing or empty', { ArgumentName: 'x-amz-object-attributes' });
  }
  for (const a of asked) {
    if (!OBJECT_ATTRIBUTES.has(a)) throw new InvalidArgumentError('Invalid attribute name specified.', { ArgumentName: 'x-amz-object-attributes', ArgumentValue: a });
  }
  const maxParts = parseCount(lookup(h, 'x-amz-max-parts'), 'x-amz-max-parts', 1000);
  const marker = parseCount(lookup(h, 'x-amz-part-number-marker'), 'x-amz-part-number-marker', 0);
  const record = await ctx.service.headObject(ctx.bucket, ctx.key, ctx.route.versionId);
  const verdict = evaluateConditions(h, { etag: record.etag, lastModified: record.lastModified }, 'read');
  if (verdict === 'not-modified') return respond(304, { etag: `"${record.etag}"`, 'last-modified': record.lastModified.toUTCString(), 'x-amz-request-id': ctx.requestId });
  const multipart = isMultipart(record);
  const wantsParts = asked.has('ObjectParts') && multipart;
  const checksums = asked.has('Checksum') || wantsParts ? await ctx.service.objectChecksums(record) : undefined;
  const after = record.parts.filter((p) => p.partNumber > marker);
  const page = after.slice(0, maxParts);
  const isTruncated = after.length > page.length;
  return xmlResponse(
    ctx.requestId,
    xml.renderObjectAttributes({
      ...(asked.has('ETag') ? { etag: record.etag } : {}),
      ...(asked.has('Checksum') && checksums?.object ? { checksum: checksums.object } : {}),
      ...(wantsParts
        ? {
            objectParts: {
              totalPartsCount: record.parts.length,
              partNumberMarker: marker,
              nextPartNumberMarker: page.length > 0 ? (page[page.length - 1]?.partNumber ?? marker) : marker,
              maxParts,
              isTruncated,
              parts: page.map((p) => {
                const c = checksums?.parts.get(p.partNumber);
                return { partNumber: p.partNumber, size: p.plaintextSize, ...(c ? { checksum: c } : {}) };
              }),
            },
          }
        : {}),
      ...(asked.has('StorageClass') ? { storageClass: 'STANDARD' } : {}),
      ...(asked.has('ObjectSize') ? { objectSize: record.size } : {}),
    }),
    { 'last-modified': record.lastModified.toUTCString(), ...versionHeader(record) },
  );
};

/** A non-negative integer header; `fallback` when absent. */
function parseCount(raw: string | undefined, name: string, fallback: number): number {
  if (raw === undefined) return fallback;
  if (!/^[0-9]{1,9}$/.test(raw.trim())) throw new InvalidArgumentError(`${name} must be a non-negative integer.`, { ArgumentName: name, ArgumentValue: raw });
  return Number(raw.trim());
}
