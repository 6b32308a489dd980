// The numbers that shape requests: S3's own limits for the embedded server, and the tighter ones of a request
// through API Gateway and Lambda, which bind the deployed stack (ARCHITECTURE.md, "Limits that shape the design").
import { MAX_PART_SIZE } from './format';

const MiB = 1024 * 1024;

/**
 * Largest request body one call through API Gateway and Lambda may carry. A synchronous Lambda invocation
 * payload is at most 6 MiB, API Gateway passes binary bodies base64-encoded (4/3 growth), and the event
 * envelope (headers, request context) needs room: (6 MiB − 64 KiB) × 3/4 = 4,669,440 bytes.
 */
export const MAX_REQUEST_BODY_BYTES = ((6 * MiB - 64 * 1024) * 3) / 4;

/** S3's key length limit, in UTF-8 bytes. */
export const MAX_KEY_BYTES = 1024;

/** Items per ListObjects page, as S3 caps it. */
export const MAX_LIST_KEYS = 1000;

/** Which limits a running store applies to request bodies. */
export interface RequestLimits {
  /** 's3': S3's own limits (embedded server). 'lambda': what one request through API Gateway and Lambda carries. */
  readonly mode: 's3' | 'lambda';
  /** Largest single PutObject body. */
  readonly maxObjectBytes: number;
  /** Largest UploadPart body. */
  readonly maxPartBytes: number;
  /** Smallest part but the last that CompleteMultipartUpload accepts. */
  readonly minPartBytes: number;
  /** Largest XML or JSON request body (DeleteObjects, CompleteMultipartUpload, the admin API). */
  readonly maxDocumentBytes: number;
}

/** S3's limits: 5 GiB per PUT and per part, parts of at least 5 MiB. */
export const S3_LIMITS: RequestLimits = {
  mode: 's3',
  maxObjectBytes: MAX_PART_SIZE,
  maxPartBytes: MAX_PART_SIZE,
  minPartBytes: 5 * MiB,
  // As the XML parser bounds them: a 10,000-part completion with checksums is about 1.3 MB.
  maxDocumentBytes: 2 * MiB,
};

/**
 * The deployed stack's limits: every body under what one request through API Gateway carries. Parts of 1 MiB at
 * least keep 10,000 parts meaningful (≥ 10 GiB objects) while leaving clients the 1–4.45 MiB range: S3's 5 MiB
 * minimum part cannot apply when no request can carry 5 MiB.
 */
export const LAMBDA_LIMITS: RequestLimits = {
  mode: 'lambda',
  maxObjectBytes: MAX_REQUEST_BODY_BYTES,
  maxPartBytes: MAX_REQUEST_BODY_BYTES,
  minPartBytes: MiB,
  maxDocumentBytes: MAX_REQUEST_BODY_BYTES,
};

/** The largest body any operation accepts under these limits. */
export function maxBodyBytes(limits: RequestLimits): number {
  return Math.max(limits.maxObjectBytes, limits.maxPartBytes, limits.maxDocumentBytes);
}

/** Parts per multipart upload, as S3 caps them. */
export const MAX_PARTS = 10_000;

/**
 * Largest response a Lambda function streams through API Gateway (Lambda's streamed-response limit, 200 MB).
 * Only the first 6 MB of a streamed response is sent at full speed: Lambda caps the rest at 2 MB/s, and API
 * Gateway (transfer mode STREAM) caps what passes 10 MB the same way.
 */
export const LAMBDA_MAX_RESPONSE_BYTES = 200_000_000;
const LAMBDA_RESPONSE_BURST_BYTES = 6_000_000;

/** How a client should read a large object: ranged GETs of at most this many bytes each. */
export function rangeChunkBytes(limits: RequestLimits): number {
  // On the stack: the largest whole number of MiB inside the uncapped burst of one streamed response (5 MiB).
  // Embedded: responses stream from disk with no cap; 64 MiB ranges keep a few GETs in flight for a large object.
  return limits.mode === 'lambda' ? Math.floor(LAMBDA_RESPONSE_BURST_BYTES / MiB) * MiB : 64 * MiB;
}
