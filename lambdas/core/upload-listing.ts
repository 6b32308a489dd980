// ListParts and ListMultipartUploads: what clients see of uploads in progress (hidden copy uploads and uploads
// being aborted or cleaned up after completion are not shown).
import type { Buckets } from './buckets';
import { walk } from './index-walk';
import { commonPrefixOf } from './list-keys';
import type { RecordIndex } from './ports';
import { uploadedPartFromItem, uploadFromItem, uploadPartSk, uploadPartsPk, uploadSk, uploadsPk, type UploadedPartRecord, type UploadRecord } from './records';
import { noSuchUpload, type UploadRecords } from './uploads';

export interface ListPartsInput {
  readonly bucket: string;
  readonly key: string;
  readonly uploadId: string;
  /** Parts with numbers strictly greater than this. */
  readonly partNumberMarker?: number;
  readonly maxParts: number;
}

export interface ListPartsResult {
  readonly upload: UploadRecord;
  readonly parts: UploadedPartRecord[];
  readonly isTruncated: boolean;
  readonly nextPartNumberMarker?: number;
}

export interface ListUploadsInput {
  readonly bucket: string;
  readonly prefix?: string;
  readonly delimiter?: string;
  readonly keyMarker?: string;
  readonly uploadIdMarker?: string;
  readonly maxUploads: number;
}

export interface ListUploadsResult {
  readonly uploads: UploadRecord[];
  readonly commonPrefixes: string[];
  readonly isTruncated: boolean;
  readonly nextKeyMarker?: string;
  readonly nextUploadIdMarker?: string;
  /** The bucket's owner, read with the bucket: it owns every upload in it (ACLs disabled). */
  readonly owner: string;
}

export async function listParts(index: RecordIndex, uploads: UploadRecords, input: ListPartsInput): Promise<ListPartsResult> {
  const upload = await uploads.get(input.bucket, input.key, input.uploadId);
  if (upload.state === 'aborting' || upload.state === 'completed') throw noSuchUpload(input.uploadId);
  const page = await index.query(uploadPartsPk(upload.uploadId), {
    startAfter: input.partNumberMarker ? uploadPartSk(input.partNumberMarker) : undefined,
    limit: input.maxParts,
  });
  const parts = page.items.map(uploadedPartFromItem);
  const last = parts.at(-1);
  return page.lastKey && last ? { upload, parts, isTruncated: true, nextPartNumberMarker: last.partNumber } : { upload, parts, isTruncated: false };
}

/** Every stored part of an upload, in part-number order. */
export function allParts(index: RecordIndex, uploadId: string): Promise<UploadedPartRecord[]> {
  return walk(index, uploadPartsPk(uploadId), { pageSize: 1000 }).all(uploadedPartFromItem);
}

export async function listUploads(index: RecordIndex, buckets: Buckets, input: ListUploadsInput): Promise<ListUploadsResult> {
  const { owner } = await buckets.head(input.bucket);
  const prefix = input.prefix ?? '';
  const uploads: UploadRecord[] = [];
  const commonPrefixes: string[] = [];
  let startAfter: string | undefined;
  if (input.keyMarker !== undefined && input.keyMarker !== '') {
    if (input.uploadIdMarker) startAfter = uploadSk(input.keyMarker, input.uploadIdMarker);
    else if (input.delimiter && input.keyMarker.endsWith(input.delimiter)) startAfter = `${input.keyMarker}\u{10FFFF}`;
    else startAfter = `${input.keyMarker}\u0001\u{10FFFF}`;
  }
  let lastPrefix: string | undefined;
  let last: UploadRecord | undefined;
  for await (const item of walk(index, uploadsPk(input.bucket), { prefix, startAfter, pageSize: 1000 })) {
    const u = uploadFromItem(item);
    if (u.hidden || u.state === 'aborting' || u.state === 'completed') continue;
    const cp = commonPrefixOf(u.key, prefix, input.delimiter);
    if (cp !== undefined && cp === lastPrefix) continue;
    if (uploads.length + commonPrefixes.length >= input.maxUploads) {
      return lastPrefix !== undefined && last === undefined
        ? { uploads, commonPrefixes, isTruncated: true, nextKeyMarker: lastPrefix, owner }
        : { uploads, commonPrefixes, isTruncated: true, nextKeyMarker: last?.key ?? lastPrefix, nextUploadIdMarker: last?.uploadId, owner };
    }
    if (cp !== undefined) {
      commonPrefixes.push(cp);
      lastPrefix = cp;
      last = undefined;
    } else {
      uploads.push(u);
      last = u;
    }
  }
  return { uploads, commonPrefixes, isTruncated: false, owner };
}
