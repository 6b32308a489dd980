// Multipart upload records: ids, part-number sets, the multipart ETag, and reading an upload in a given state.
//
// Upload states: open → completing (one CompleteMultipartUpload holds it, by completionId) → completed
// (the object is live; leftover part items are being cleaned up) → gone; or open/completing → aborting → gone.
import { createHash, randomBytes } from 'node:crypto';
import type { Buckets } from './buckets';
import { NoSuchUploadError } from './errors';
import type { Condition, RecordIndex } from './ports';
import { uploadFromItem, uploadSk, uploadsPk, type PartRecord, type UploadRecord } from './records';

/**
 * Smallest non-last part a completion accepts by default: the deployed stack's, where one request body through
 * API Gateway and Lambda carries at most ≈4.45 MiB. The embedded server passes S3's 5 MiB (minPartSize).
 */
export const MIN_PART_SIZE = 1024 * 1024;
/** A completion holds its upload at most this long (Lambda's own ceiling); a crashed one may then be retried. */
export const COMPLETION_LEASE_MS = 15 * 60 * 1000;
/**
 * A completed upload's item is kept this long after the completion, so a retried CompleteMultipartUpload (its
 * answer lost on the way) gets the same 200 and ETag, as S3 answers for a while; the upload sweep removes it after.
 */
export const COMPLETED_UPLOAD_RETENTION_MS = 15 * 60 * 1000;
const UPLOAD_ID = /^[0-9a-f]{44}$/;

/** 12 hex digits of initiation time, then 128 random bits: unguessable, and sorting by it sorts by age. */
export function newUploadId(now: Date): string {
  return now.getTime().toString(16).padStart(12, '0') + randomBytes(16).toString('hex');
}

/** S3's multipart ETag form: MD5 over the concatenated binary part ETags (keyed here), then "-" and the part count. */
export function multipartEtag(parts: readonly Pick<PartRecord, 'etag'>[]): string {
  const md5 = createHash('md5');
  for (const p of parts) md5.update(Buffer.from(p.etag, 'hex'));
  return `${md5.digest('hex')}-${parts.length}`;
}

/** "1-3,7" for [1,2,3,7]: a 10,000-part list stays a few bytes in the usual case. */
export function encodePartRanges(numbers: readonly number[]): string {
  const runs: string[] = [];
  let i = 0;
  while (i < numbers.length) {
    const start = numbers[i] as number;
    let end = start;
    while (i + 1 < numbers.length && numbers[i + 1] === end + 1) end = numbers[++i] as number;
    runs.push(start === end ? String(start) : `${start}-${end}`);
    i++;
  }
  return runs.join(',');
}

export function decodePartRanges(text: string): Set<number> {
  const out = new Set<number>();
  for (const run of text.split(',')) {
    if (run === '') continue;
    const [a, b] = run.split('-');
    const start = Number(a);
    const end = b === undefined ? start : Number(b);
    for (let n = start; n <= end; n++) out.add(n);
  }
  return out;
}

export function noSuchUpload(uploadId: string): NoSuchUploadError {
  return new NoSuchUploadError('The specified multipart upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.', { UploadId: uploadId });
}

/** A part as an object's manifest keeps it (without the upload-only fields). */
export function stripPart(p: PartRecord): PartRecord {
  return {
    partNumber: p.partNumber,
    blobId: p.blobId,
    plaintextSize: p.plaintextSize,
    sealedSize: p.sealedSize,
    header: p.header,
    etag: p.etag,
    ...(p.sealedChecksum ? { sealedChecksum: p.sealedChecksum } : {}),
  };
}

/** The condition that the upload item is still exactly in the state `upload` saw. */
export function stateCondition(upload: UploadRecord): Condition {
  return upload.state === 'completing' && upload.completionId !== undefined
    ? { kind: 'equals', attr: 'completionId', value: upload.completionId }
    : { kind: 'equals', attr: 'state', value: upload.state };
}

/** Reads upload records; a missing upload in a missing bucket is NoSuchBucket, as S3 answers. */
export class UploadRecords {
  constructor(
    private readonly index: RecordIndex,
    private readonly buckets: Buckets,
  ) {}

  async get(bucket: string, key: string, uploadId: string): Promise<UploadRecord> {
    const item = UPLOAD_ID.test(uploadId) ? await this.index.get(uploadsPk(bucket), uploadSk(key, uploadId)) : undefined;
    if (!item) {
      await this.buckets.head(bucket);
      throw noSuchUpload(uploadId);
    }
    return uploadFromItem(item);
  }

  /** The upload as it is now, without the bucket check (for re-reads after a failed condition). */
  async fresh(upload: UploadRecord): Promise<UploadRecord | undefined> {
    const item = await this.index.get(uploadsPk(upload.bucket), uploadSk(upload.key, upload.uploadId));
    return item ? uploadFromItem(item) : undefined;
  }

  async getOpen(bucket: string, key: string, uploadId: string): Promise<UploadRecord> {
    const upload = await this.get(bucket, key, uploadId);
    if (upload.state !== 'open') throw noSuchUpload(uploadId);
    return upload;
  }
}
