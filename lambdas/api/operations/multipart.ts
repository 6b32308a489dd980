// Multipart operations: CreateMultipartUpload, UploadPart, UploadPartCopy, ListParts, CompleteMultipartUpload,
// AbortMultipartUpload, ListMultipartUploads.
import { InvalidArgumentError, InvalidRequestError } from '../../core/errors';
import { MAX_PART_SIZE } from '../../core/format';
import { checkIfNoneMatchForm } from '../../core/object-commit';
import type { PartChecksum } from '../../core/object-service';
import { extractStoredHeaders, extractUserMetadata } from '../../http/headers';
import { checkEncoding, checksumHeaderAlgorithm, checksumHeaderName, parseChecksumAlgorithm } from '../../http/checksums';
import { lookup } from '../../http/request';
import * as xml from '../../http/xml';
import { partLimit } from '../payload-limits';
import { respond, xmlResponse } from '../response';
import type { Operation } from './context';
import { parseEncodingType, parseLimit } from './listing';
import { copySource, copySourceVersionHeader, sseHeaders, versionHeader, writeProtections } from './objects';

export const CreateMultipartUpload: Operation = async (ctx) => {
  ctx.can('WriteObject', ctx.bucket);
  const protections = writeProtections(ctx);
  const h = ctx.req.headers;
  const algorithmHeader = lookup(h, 'x-amz-checksum-algorithm');
  const typeHeader = lookup(h, 'x-amz-checksum-type');
  const upload = await ctx.service.createMultipartUpload({
    ...protections,
    bucket: ctx.bucket,
    key: ctx.key,
    contentType: lookup(h, 'content-type'),
    headers: extractStoredHeaders(h),
    userMetadata: extractUserMetadata(h),
    ...(algorithmHeader !== undefined ? { checksumAlgorithm: parseChecksumAlgorithm(algorithmHeader, 'x-amz-checksum-algorithm') } : {}),
    ...(typeHeader !== undefined ? { checksumType: typeHeader.trim().toUpperCase() } : {}),
  });
  return xmlResponse(ctx.requestId, xml.renderInitiateMultipartUpload({ bucket: ctx.bucket, key: ctx.key, uploadId: upload.uploadId }), {
    ...sseHeaders(upload.keyId),
    ...(upload.checksumAlgorithm !== undefined ? { 'x-amz-checksum-algorithm': upload.checksumAlgorithm } : {}),
    ...(upload.checksumType !== undefined ? { 'x-amz-checksum-type': upload.checksumType } : {}),
  });
};

export const UploadPart: Operation = async (ctx) => {
  ctx.can('WriteObject', ctx.bucket);
  const limit = partLimit(ctx.limits);
  ctx.checkPayloadLength(limit);
  let opened: ReturnType<typeof ctx.payload> | undefined;
  const part = await ctx.service.uploadPart({
    bucket: ctx.bucket,
    key: ctx.key,
    uploadId: ctx.route.uploadId ?? '',
    partNumber: ctx.route.partNumber ?? 0,
    body: () => (opened = ctx.payload(limit)),
    checksum: () => opened?.checksum(),
  });
  const checksum = opened?.checksum();
  const echo: Record<string, string> = checksum ? { [checksumHeaderName(checksum.algorithm)]: checksum.value } : {};
  return respond(200, { etag: `"${part.etag}"`, ...sseHeaders(part.keyId), 'x-amz-request-id': ctx.requestId, ...echo });
};

export const UploadPartCopy: Operation = async (ctx) => {
  ctx.can('WriteObject', ctx.bucket);
  const source = await copySource(ctx);
  const part = await ctx.service.uploadPartCopy({
    bucket: ctx.bucket,
    key: ctx.key,
    uploadId: ctx.route.uploadId ?? '',
    partNumber: ctx.route.partNumber ?? 0,
    source,
    range: checkCopyPartSize(parseCopySourceRange(lookup(ctx.req.headers, 'x-amz-copy-source-range'), source.size), source.size),
  });
  return xmlResponse(ctx.requestId, xml.renderCopyResult('CopyPartResult', { etag: part.etag, lastModified: part.lastModified }), {
    ...sseHeaders(part.keyId),
    ...copySourceVersionHeader(source),
  });
};

export const ListParts: Operation = async (ctx) => {
  ctx.can('ReadBucket', ctx.bucket);
  const q = ctx.req.query;
  const maxParts = parseLimit(lookup(q, 'max-parts'), 'max-parts', 1000);
  const markerText = lookup(q, 'part-number-marker');
  const marker = markerText ? parseLimit(markerText, 'part-number-marker', 10_000) : 0;
  const result = await ctx.service.listParts({ bucket: ctx.bucket, key: ctx.key, uploadId: ctx.route.uploadId ?? '', partNumberMarker: marker, maxParts: Math.max(1, maxParts) });
  // The bucket's owner owns its objects (ACLs disabled); who initiated an upload is not recorded, so both name it.
  const { owner } = await ctx.service.headBucket(ctx.bucket);
  return xmlResponse(
    ctx.requestId,
    xml.renderListParts({
      bucket: ctx.bucket,
      key: ctx.key,
      uploadId: result.upload.uploadId,
      partNumberMarker: marker,
      nextPartNumberMarker: result.nextPartNumberMarker,
      maxParts,
      isTruncated: result.isTruncated,
      parts: result.parts.map((p) => ({ partNumber: p.partNumber, lastModified: p.lastModified, etag: p.etag, size: p.plaintextSize })),
      owner: { id: owner },
    }),
  );
};

export const CompleteMultipartUpload: Operation = async (ctx) => {
  ctx.can('WriteObject', ctx.bucket);
  const h = ctx.req.headers;
  checkIfNoneMatchForm(lookup(h, 'if-none-match'));
  const request = xml.parseCompleteMultipartUpload(await ctx.document());
  const checksum = wholeObjectChecksum(h);
  const typeHeader = lookup(h, 'x-amz-checksum-type');
  const record = await ctx.service.completeMultipartUpload({
    bucket: ctx.bucket,
    key: ctx.key,
    uploadId: ctx.route.uploadId ?? '',
    parts: request.parts,
    preconditions: { ifNoneMatch: lookup(h, 'if-none-match'), ifMatch: lookup(h, 'if-match') },
    ...(checksum ? { checksum } : {}),
    ...(typeHeader !== undefined ? { checksumType: typeHeader.trim().toUpperCase() } : {}),
  });
  const host = lookup(h, 'host') ?? 'localhost';
  const encodedKey = ctx.key.split('/').map(encodeURIComponent).join('/');
  const location = `${lookup(h, 'x-forwarded-proto') ?? 'http'}://${host}/${encodeURIComponent(ctx.bucket)}/${encodedKey}`;
  return xmlResponse(
    ctx.requestId,
    xml.renderCompleteMultipartUpload({ location, bucket: ctx.bucket, key: ctx.key, etag: record.etag, ...(record.checksum ? { checksum: record.checksum } : {}) }),
    { ...sseHeaders(record.keyId), ...versionHeader(record) },
  );
};

/** The whole-object checksum a completion names in an x-amz-checksum-* header (at most one). */
function wholeObjectChecksum(headers: Readonly<Record<string, string>>): PartChecksum | undefined {
  const sent: PartChecksum[] = [];
  for (const [name, value] of Object.entries(headers)) {
    const algorithm = checksumHeaderAlgorithm(name);
    if (algorithm === undefined) continue;
    // A composite value carries "-N"; the digest before it must still be well formed.
    const digest = value.trim().replace(/-[0-9]+$/, '');
    checkEncoding(name.toLowerCase(), algorithm, digest);
    sent.push({ algorithm, value: value.trim() });
  }
  if (sent.length > 1) throw new InvalidRequestError('Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.');
  return sent[0];
}

export const AbortMultipartUpload: Operation = async (ctx) => {
  ctx.can('WriteObject', ctx.bucket);
  await ctx.service.abortMultipartUpload(ctx.bucket, ctx.key, ctx.route.uploadId ?? '');
  return respond(204, { 'x-amz-request-id': ctx.requestId });
};

export const ListMultipartUploads: Operation = async (ctx) => {
  ctx.can('ReadBucket', ctx.bucket);
  const q = ctx.req.query;
  const maxUploads = parseLimit(lookup(q, 'max-uploads'), 'max-uploads', 1000);
  const prefix = lookup(q, 'prefix');
  const delimiter = lookup(q, 'delimiter') || undefined;
  const keyMarker = lookup(q, 'key-marker');
  const uploadIdMarker = lookup(q, 'upload-id-marker');
  const encodingType = parseEncodingType(lookup(q, 'encoding-type'));
  const result = await ctx.service.listMultipartUploads({ bucket: ctx.bucket, prefix, delimiter, keyMarker, uploadIdMarker, maxUploads });
  return xmlResponse(
    ctx.requestId,
    xml.renderListMultipartUploads({
      bucket: ctx.bucket,
      keyMarker: keyMarker ?? '',
      uploadIdMarker: uploadIdMarker ?? '',
      nextKeyMarker: result.nextKeyMarker,
      nextUploadIdMarker: result.nextUploadIdMarker,
      prefix,
      delimiter,
      maxUploads,
      isTruncated: result.isTruncated,
      encodingType,
      uploads: result.uploads.map((u) => ({ key: u.key, uploadId: u.uploadId, initiated: u.initiated, owner: { id: result.owner } })),
      commonPrefixes: result.commonPrefixes,
    }),
  );
};

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

/**
 * A copied part is one part: at most 5 GiB, whatever the request limits (its bytes never pass through a request).
 * S3 refuses a larger source or range up front with this InvalidRequest; so do we, before a byte is read or sealed.
 */
export function checkCopyPartSize<R extends { start: number; end: number } | undefined>(range: R, sourceSize: number): R {
  const size = range ? range.end - range.start + 1 : sourceSize;
  if (size > MAX_PART_SIZE) {
    throw new InvalidRequestError(`The specified copy source is larger than the maximum allowable size for a copy source: ${MAX_PART_SIZE}`);
  }
  return range;
}
