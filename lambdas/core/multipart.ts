// Multipart upload over the three ports: one data key per upload, parts sealed and stored independently,
// and a completion that publishes the object atomically however many parts it has.
//
// Upload states: open → completing (one CompleteMultipartUpload holds it, by completionId) → completed
// (the object is live; leftover part items are being cleaned up) → gone; or open/completing → aborting → gone.
// Every step that moves blobs between "referenced" and "garbage" rides in an index transaction with the
// ledger, so a crash at any point leaves work the sweep can finish, never a leaked or a lost blob.
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { computeObjectMac } from './format';
import { sealedChecksum } from './etag';
import {
  ConditionalRequestConflictError,
  ConditionFailedError,
  EntityTooSmallError,
  InternalError,
  InvalidPartError,
  InvalidPartOrderError,
  NoSuchUploadError,
  SlowDownError,
} from './errors';
import type { Garbage } from './garbage';
import { newBlobId, newObjectId } from './ids';
import { withManifestShape, writeManifestChunks, deleteManifestChunks } from './manifest';
import { openRange } from './part-reader';
import { writeSealedPart } from './part-writer';
import type { BlobStore, Condition, KeyVault, ObjectIndex, WriteOp } from './ports';
import {
  LEDGER_PK,
  ledgerItem,
  objectsPk,
  uploadedPartFromItem,
  uploadedPartItem,
  uploadFromItem,
  uploadItem,
  uploadPartSk,
  uploadPartsPk,
  uploadSk,
  uploadsPk,
  type BucketRecord,
  type ObjectRecord,
  type PartRecord,
  type UploadedPartRecord,
  type UploadRecord,
} from './records';
import { blobMetadata, dataKeyContext, openStoredDataKey } from './sealing-context';
import type { ActiveKeySource, CommitOptions, WritePreconditions } from './object-service';
import { commonPrefixOf } from './list-keys';
import { nameTag } from './name-binding';

/**
 * Smallest non-last part a completion accepts. S3's 5 MiB cannot apply: one request body through API Gateway
 * and Lambda carries at most MAX_REQUEST_BODY_BYTES (≈4.45 MiB). 1 MiB keeps 10,000 parts meaningful (≥ 10 GiB)
 * and bounds per-part overhead, while leaving clients the whole 1–4.45 MiB range (docs/S3-COMPATIBILITY.md).
 */
export const MIN_PART_SIZE = 1024 * 1024;
/** A completion holds its upload at most this long (Lambda's own ceiling); a crashed one may then be retried. */
export const COMPLETION_LEASE_MS = 15 * 60 * 1000;
const PART_COMMIT_ATTEMPTS = 8;
/** Part items cleaned up per transaction: a delete and a ledger put each, within the 100-write cap. */
const CLEANUP_BATCH = 50;
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

export interface MultipartDeps {
  readonly vault: KeyVault;
  readonly blobs: BlobStore;
  readonly index: ObjectIndex;
  readonly keys: ActiveKeySource;
  readonly now: () => Date;
  readonly frameSize?: number;
  readonly minPartSize?: number;
  readonly garbage: Garbage;
  readonly logger?: { warn(message: string, fields?: Record<string, unknown>): void };
  headBucket(bucket: string): Promise<unknown>;
  commitObject(record: ObjectRecord, options: CommitOptions): Promise<void>;
}

export interface CreateUploadInput {
  readonly bucket: string;
  readonly key: string;
  readonly contentType?: string;
  readonly userMetadata?: Readonly<Record<string, string>>;
}

/** A flexible checksum (x-amz-checksum-*) a part was sent with, verified against its bytes. */
export interface PartChecksum {
  readonly algorithm: string;
  readonly value: string;
}

export interface UploadPartInput {
  readonly bucket: string;
  readonly key: string;
  readonly uploadId: string;
  readonly partNumber: number;
  /** Opens the part's body, once the upload is known to be open; a stream that errors stores nothing. */
  readonly body: () => Readable;
  /** The verified checksum, readable once the body has ended. */
  readonly checksum?: () => PartChecksum | undefined;
}

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

export interface CompletePartRequest {
  readonly partNumber: number;
  /** Bare. */
  readonly etag: string;
  /** Checksums the client sent per part, e.g. { CRC32: 'base64' }. */
  readonly checksums?: Readonly<Record<string, string>>;
}

export interface CompleteInput {
  readonly bucket: string;
  readonly key: string;
  readonly uploadId: string;
  readonly parts: readonly CompletePartRequest[];
  readonly preconditions?: WritePreconditions;
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
}

export interface UploadSweepResult {
  /** Idle uploads aborted now. */
  readonly aborted: number;
  /** Aborts and completions a crash had interrupted, finished now. */
  readonly finished: number;
}

export interface CopyPartsInput {
  readonly source: ObjectRecord;
  /** The source's unwrapped data key, MAC already verified. */
  readonly sourceKey: Buffer;
  readonly bucket: string;
  readonly key: string;
  readonly contentType: string;
  readonly userMetadata: Readonly<Record<string, string>>;
  readonly preconditions: WritePreconditions;
}

function noSuchUpload(uploadId: string): NoSuchUploadError {
  return new NoSuchUploadError('The specified multipart upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.', { UploadId: uploadId });
}

function stripPart(p: PartRecord): PartRecord {
  return { partNumber: p.partNumber, blobId: p.blobId, plaintextSize: p.plaintextSize, sealedSize: p.sealedSize, header: p.header, etag: p.etag };
}

export class MultipartUploads {
  constructor(private readonly d: MultipartDeps) {}

  // ---- create, upload, list ------------------------------------------------------------------

  /** One GenerateDataKey for the whole upload; only the wrapped key is kept. */
  async create(input: CreateUploadInput): Promise<UploadRecord> {
    await this.d.headBucket(input.bucket);
    const { upload, dataKey } = await this.open(input, false);
    dataKey.fill(0);
    return upload;
  }

  private async open(input: CreateUploadInput, hidden: boolean): Promise<{ upload: UploadRecord; dataKey: Buffer }> {
    const objectId = newObjectId();
    const keyId = await this.d.keys.activeKeyId();
    const dataKey = await this.d.vault.generateDataKey(keyId, dataKeyContext(input.bucket, objectId));
    const now = this.d.now();
    const upload: UploadRecord = {
      bucket: input.bucket,
      key: input.key,
      uploadId: newUploadId(now),
      objectId,
      keyId: dataKey.keyId,
      keyMaterialId: dataKey.keyMaterialId,
      wrappedKey: dataKey.wrapped,
      contentType: input.contentType ?? 'binary/octet-stream',
      userMetadata: input.userMetadata ?? {},
      initiated: now,
      lastActivity: now,
      state: 'open',
      ...(hidden ? { hidden: true } : {}),
    };
    try {
      await this.d.index.put(uploadItem(upload), { kind: 'absent' });
    } catch (e) {
      dataKey.plaintext.fill(0);
      throw e;
    }
    return { upload, dataKey: dataKey.plaintext };
  }

  private async getUpload(bucket: string, key: string, uploadId: string): Promise<UploadRecord> {
    const item = UPLOAD_ID.test(uploadId) ? await this.d.index.get(uploadsPk(bucket), uploadSk(key, uploadId)) : undefined;
    if (!item) {
      await this.d.headBucket(bucket);
      throw noSuchUpload(uploadId);
    }
    return uploadFromItem(item);
  }

  private async getOpenUpload(bucket: string, key: string, uploadId: string): Promise<UploadRecord> {
    const upload = await this.getUpload(bucket, key, uploadId);
    if (upload.state !== 'open') throw noSuchUpload(uploadId);
    return upload;
  }

  /** Unwraps the upload's data key once for this part request (one KMS Decrypt per part). */
  async uploadPart(input: UploadPartInput): Promise<UploadedPartRecord> {
    return this.uploadPartFrom(input, input.body, input.checksum);
  }

  async uploadPartFrom(
    input: Pick<UploadPartInput, 'bucket' | 'key' | 'uploadId' | 'partNumber'>,
    plaintext: () => Readable | Promise<Readable>,
    checksum?: UploadPartInput['checksum'],
  ): Promise<UploadedPartRecord> {
    const upload = await this.getOpenUpload(input.bucket, input.key, input.uploadId);
    const { plaintext: dataKey } = await openStoredDataKey(this.d.vault, upload.wrappedKey, upload.bucket, upload.objectId);
    try {
      return await this.storePart(upload, input.partNumber, dataKey, plaintext, checksum);
    } finally {
      dataKey.fill(0);
    }
  }

  /**
   * Seals one part into its own blob (pending in the ledger while it is written), then links it to the
   * upload. A part number uploaded again replaces the old part: its blob turns garbage in the same
   * transaction. A fresh salt per sealing keeps nonces unique under the one data key (docs/FORMAT.md §5.1).
   */
  private async storePart(
    upload: UploadRecord,
    partNumber: number,
    dataKey: Buffer,
    plaintext: () => Readable | Promise<Readable>,
    checksum?: UploadPartInput['checksum'],
  ): Promise<UploadedPartRecord> {
    const blobId = newBlobId();
    const pending = this.d.garbage.recordPending(blobId, this.d.now(), {
      bucket: upload.bucket,
      key: upload.key,
      objectId: upload.objectId,
      uploadId: upload.uploadId,
      partNumber,
    });
    let replaced: UploadedPartRecord | undefined;
    let part: UploadedPartRecord;
    try {
      const id = { bucket: upload.bucket, objectId: upload.objectId, partNumber };
      const sealed = await writeSealedPart(this.d.blobs, dataKey, id, blobId, await plaintext(), blobMetadata(upload, partNumber), this.d.frameSize, {
        beforePublish: () => pending,
      });
      const sent = checksum?.();
      const tag = sent ? { checksum: { algorithm: sent.algorithm, tag: sealedChecksum(dataKey, sent.algorithm, sent.value) } } : {};
      part = { ...sealed, lastModified: this.d.now(), ...tag };
      replaced = await this.commitPart(upload, part);
    } catch (e) {
      await pending.catch(() => undefined);
      await this.d.garbage.discardPending([blobId]);
      throw e;
    }
    if (replaced) await this.d.garbage.collect([replaced.blobId]);
    return part;
  }

  private async commitPart(upload: UploadRecord, part: UploadedPartRecord): Promise<UploadedPartRecord | undefined> {
    const partsPk = uploadPartsPk(upload.uploadId);
    for (let attempt = 0; attempt < PART_COMMIT_ATTEMPTS; attempt++) {
      const currentItem = await this.d.index.get(partsPk, uploadPartSk(part.partNumber));
      const current = currentItem ? uploadedPartFromItem(currentItem) : undefined;
      const now = this.d.now();
      const ops: WriteOp[] = [
        // Rewriting the upload item under "still open" makes the part land before a completion or an abort
        // takes the upload, or not at all: a completion never publishes a part list that later changes.
        { op: 'put', item: uploadItem({ ...upload, lastActivity: now }), condition: { kind: 'equals', attr: 'state', value: 'open' } },
        { op: 'put', item: uploadedPartItem(upload.uploadId, part), condition: current ? { kind: 'equals', attr: 'blobId', value: current.blobId } : { kind: 'absent' } },
        { op: 'delete', pk: LEDGER_PK, sk: part.blobId, condition: { kind: 'equals', attr: 'kind', value: 'pending' } },
        ...(current ? [{ op: 'put', item: ledgerItem({ blobId: current.blobId, kind: 'garbage', createdAt: now }) } as const] : []),
      ];
      try {
        await this.d.index.transact(ops);
        return current;
      } catch (e) {
        if (e instanceof ConditionalRequestConflictError) {
          // Concurrent parts of one upload all touch its item; DynamoDB cancels the overlap, a retry clears it.
          await sleep(Math.random() * 25 * 2 ** Math.min(attempt, 5));
          continue;
        }
        if (!(e instanceof ConditionFailedError)) throw e;
        const fresh = await this.d.index.get(uploadsPk(upload.bucket), uploadSk(upload.key, upload.uploadId));
        if (!fresh || uploadFromItem(fresh).state !== 'open') throw noSuchUpload(upload.uploadId);
        if (!(await this.d.index.get(LEDGER_PK, part.blobId))) {
          throw new InternalError('The part upload took too long and its data was swept; retry the request.');
        }
      }
    }
    throw new SlowDownError('Too many concurrent uploads of this part; retry the request.');
  }

  async listParts(input: ListPartsInput): Promise<ListPartsResult> {
    const upload = await this.getUpload(input.bucket, input.key, input.uploadId);
    if (upload.state === 'aborting' || upload.state === 'completed') throw noSuchUpload(input.uploadId);
    const page = await this.d.index.query(uploadPartsPk(upload.uploadId), {
      startAfter: input.partNumberMarker ? uploadPartSk(input.partNumberMarker) : undefined,
      limit: input.maxParts,
    });
    const parts = page.items.map(uploadedPartFromItem);
    const last = parts.at(-1);
    return page.lastKey && last ? { upload, parts, isTruncated: true, nextPartNumberMarker: last.partNumber } : { upload, parts, isTruncated: false };
  }

  private async allParts(uploadId: string): Promise<UploadedPartRecord[]> {
    const out: UploadedPartRecord[] = [];
    let startAfter: string | undefined;
    for (;;) {
      const page = await this.d.index.query(uploadPartsPk(uploadId), { limit: 1000, startAfter });
      out.push(...page.items.map(uploadedPartFromItem));
      if (!page.lastKey) return out;
      startAfter = page.lastKey;
    }
  }

  async list(input: ListUploadsInput): Promise<ListUploadsResult> {
    await this.d.headBucket(input.bucket);
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
    for (;;) {
      const page = await this.d.index.query(uploadsPk(input.bucket), { prefix: prefix || undefined, startAfter, limit: 1000 });
      for (const item of page.items) {
        const u = uploadFromItem(item);
        if (u.hidden || u.state === 'aborting' || u.state === 'completed') continue;
        const cp = commonPrefixOf(u.key, prefix, input.delimiter);
        if (cp !== undefined && cp === lastPrefix) continue;
        if (uploads.length + commonPrefixes.length >= input.maxUploads) {
          return lastPrefix !== undefined && last === undefined
            ? { uploads, commonPrefixes, isTruncated: true, nextKeyMarker: lastPrefix }
            : { uploads, commonPrefixes, isTruncated: true, nextKeyMarker: last?.key ?? lastPrefix, nextUploadIdMarker: last?.uploadId };
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
      if (!page.lastKey) return { uploads, commonPrefixes, isTruncated: false };
      startAfter = page.lastKey;
    }
  }

  // ---- complete ------------------------------------------------------------------------------

  /**
   * Checks the client's part list against the stored parts, then publishes the object: the object item
   * (with its part manifest and object MAC) and the upload's "completed" mark commit in one transaction.
   */
  async complete(input: CompleteInput): Promise<ObjectRecord> {
    const upload = await this.lease(input.bucket, input.key, input.uploadId);
    let dataKey: Buffer | undefined;
    try {
      // One Decrypt per completion: for the part checksums' keyed tags and the object MAC.
      dataKey = (await openStoredDataKey(this.d.vault, upload.wrappedKey, upload.bucket, upload.objectId)).plaintext;
      const stored = new Map((await this.allParts(upload.uploadId)).map((p) => [p.partNumber, p] as const));
      const chosen = this.choose(input.parts, stored, dataKey);
      return await this.commitUpload(upload, chosen, multipartEtag(chosen), input.preconditions ?? {}, dataKey);
    } catch (e) {
      await this.release(upload);
      throw e;
    } finally {
      dataKey?.fill(0);
    }
  }

  /** True when the client names a checksum for the part, of the algorithm it was uploaded with, that differs. */
  private checksumMismatch(r: CompletePartRequest, p: UploadedPartRecord, dataKey: Buffer): boolean {
    const kept = p.checksum;
    if (kept === undefined) return false;
    return Object.entries(r.checksums ?? {}).some(([alg, v]) => alg === kept.algorithm && sealedChecksum(dataKey, alg, v) !== kept.tag);
  }

  private choose(requested: readonly CompletePartRequest[], stored: ReadonlyMap<number, UploadedPartRecord>, dataKey: Buffer): PartRecord[] {
    const min = this.d.minPartSize ?? MIN_PART_SIZE;
    let previous = 0;
    return requested.map((r, i) => {
      if (r.partNumber <= previous) {
        throw new InvalidPartOrderError('The list of parts was not in ascending order. The parts list must be specified in order by part number.');
      }
      previous = r.partNumber;
      const p = stored.get(r.partNumber);
      if (!p || p.etag !== r.etag || this.checksumMismatch(r, p, dataKey)) {
        throw new InvalidPartError("One or more of the specified parts could not be found. The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.", { PartNumber: String(r.partNumber), ETag: r.etag });
      }
      if (i < requested.length - 1 && p.plaintextSize < min) {
        throw new EntityTooSmallError(`Your proposed upload is smaller than the minimum allowed size: every part but the last must be at least ${min} bytes.`, {
          ProposedSize: String(p.plaintextSize),
          MinSizeAllowed: String(min),
          PartNumber: String(r.partNumber),
          ETag: r.etag,
        });
      }
      return stripPart(p);
    });
  }

  /** Takes the upload for one completion; an open upload stops accepting parts from here on. */
  private async lease(bucket: string, key: string, uploadId: string): Promise<UploadRecord> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const upload = await this.getUpload(bucket, key, uploadId);
      if (upload.state === 'aborting' || upload.state === 'completed') throw noSuchUpload(uploadId);
      const now = this.d.now();
      if (upload.state === 'completing' && now.getTime() - upload.lastActivity.getTime() < COMPLETION_LEASE_MS) {
        throw new ConditionalRequestConflictError('Another CompleteMultipartUpload of this upload is in progress; retry shortly.');
      }
      const leased: UploadRecord = { ...upload, state: 'completing', completionId: randomBytes(16).toString('hex'), lastActivity: now };
      try {
        await this.d.index.put(uploadItem(leased), this.stateCondition(upload));
        return leased;
      } catch (e) {
        if (!(e instanceof ConditionFailedError)) throw e;
      }
    }
    throw new ConditionalRequestConflictError('The upload changed while it was being completed; retry the request.');
  }

  /** Gives a failed completion's hold back, so the client can retry or keep uploading parts. */
  private async release(upload: UploadRecord): Promise<void> {
    const open: UploadRecord = { ...upload, state: 'open', completionId: undefined, lastActivity: this.d.now() };
    try {
      await this.d.index.put(uploadItem(open), this.stateCondition(upload));
    } catch (e) {
      if (!(e instanceof ConditionFailedError)) this.d.logger?.warn('upload left completing for the sweep', { uploadId: upload.uploadId, error: String(e) });
    }
  }

  /** The condition that the upload item is still exactly in the state `upload` saw. */
  private stateCondition(upload: UploadRecord): Condition {
    return upload.state === 'completing' && upload.completionId !== undefined
      ? { kind: 'equals', attr: 'completionId', value: upload.completionId }
      : { kind: 'equals', attr: 'state', value: upload.state };
  }

  /** `dataKey` stays the caller's to zero. */
  private async commitUpload(upload: UploadRecord, chosen: PartRecord[], etag: string, preconditions: WritePreconditions, dataKey: Buffer): Promise<ObjectRecord> {
    const mac = computeObjectMac(dataKey, upload.bucket, upload.objectId, chosen);
    const tag = nameTag(dataKey, upload.bucket, upload.key, upload.objectId);
    const now = this.d.now();
    const record = withManifestShape({
      bucket: upload.bucket,
      key: upload.key,
      objectId: upload.objectId,
      size: chosen.reduce((sum, p) => sum + p.plaintextSize, 0),
      etag,
      contentType: upload.contentType,
      userMetadata: upload.userMetadata,
      lastModified: now,
      keyId: upload.keyId,
      keyMaterialId: upload.keyMaterialId,
      wrappedKey: upload.wrappedKey,
      wrappedAt: upload.initiated,
      parts: chosen,
      mac,
      nameTag: tag,
    });
    await writeManifestChunks(this.d.index, record);
    const completed: UploadRecord = { ...upload, state: 'completed', completionId: undefined, usedParts: encodePartRanges(chosen.map((p) => p.partNumber)), lastActivity: now };
    await this.d.commitObject(record, {
      preconditions,
      newBlobs: [],
      extraOps: [{ op: 'put', item: uploadItem(completed), condition: this.stateCondition(upload) }],
      onConditionFailed: async () => {
        const fresh = await this.d.index.get(uploadsPk(upload.bucket), uploadSk(upload.key, upload.uploadId));
        if (!fresh || uploadFromItem(fresh).completionId !== upload.completionId) throw noSuchUpload(upload.uploadId);
      },
    });
    try {
      await this.finishCompleted(completed);
    } catch (e) {
      this.d.logger?.warn('completed upload left for the sweep to clean up', { uploadId: upload.uploadId, error: String(e) });
    }
    return record;
  }

  /** Drops the part items of a completed upload; parts the object does not use become garbage. */
  private async finishCompleted(upload: UploadRecord): Promise<void> {
    const used = decodePartRanges(upload.usedParts ?? '');
    await this.drainParts(upload, (p) => !used.has(p.partNumber));
    await this.deleteUploadItem(upload, 'completed');
  }

  private async finishAborted(upload: UploadRecord): Promise<void> {
    if (await this.objectIsLive(upload)) {
      // The upload's object exists: the upload completed, and this row came back from an old copy of the index.
      // Its part blobs and manifest chunks are the object's now; only the stale rows go.
      this.d.logger?.warn('upload row names a completed, live object; removing the row, keeping the object', { uploadId: upload.uploadId });
      await this.drainParts(upload, () => false);
      await this.deleteUploadItem(upload, 'aborting');
      return;
    }
    await this.drainParts(upload, () => true);
    // A completion that crashed after writing manifest chunks for this object id leaves them behind.
    await deleteManifestChunks(this.d.index, upload.objectId);
    await this.deleteUploadItem(upload, 'aborting');
  }

  /** Whether the object this upload was opened for exists (object ids are fresh per upload, never reused). */
  private async objectIsLive(upload: UploadRecord): Promise<boolean> {
    const object = await this.d.index.get(objectsPk(upload.bucket), upload.key);
    return object?.attrs['objectId'] === upload.objectId;
  }

  private async drainParts(upload: UploadRecord, isGarbage: (p: UploadedPartRecord) => boolean): Promise<void> {
    const partsPk = uploadPartsPk(upload.uploadId);
    for (;;) {
      const page = await this.d.index.query(partsPk, { limit: CLEANUP_BATCH });
      if (page.items.length === 0) return;
      const now = this.d.now();
      const garbage: string[] = [];
      const ops: WriteOp[] = [];
      for (const item of page.items) {
        const part = uploadedPartFromItem(item);
        ops.push({ op: 'delete', pk: partsPk, sk: item.sk });
        if (isGarbage(part)) {
          ops.push({ op: 'put', item: ledgerItem({ blobId: part.blobId, kind: 'garbage', createdAt: now }) });
          garbage.push(part.blobId);
        }
      }
      await this.d.index.transact(ops);
      await this.d.garbage.collect(garbage);
    }
  }

  private async deleteUploadItem(upload: UploadRecord, state: 'completed' | 'aborting'): Promise<void> {
    try {
      await this.d.index.delete(uploadsPk(upload.bucket), uploadSk(upload.key, upload.uploadId), { kind: 'equals', attr: 'state', value: state });
    } catch (e) {
      if (!(e instanceof ConditionFailedError)) throw e;
    }
  }

  // ---- abort and sweep -----------------------------------------------------------------------

  async abort(bucket: string, key: string, uploadId: string): Promise<void> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const upload = await this.getUpload(bucket, key, uploadId);
      if (await this.abortRecord(upload)) return;
    }
    throw new ConditionalRequestConflictError('The upload changed while it was being aborted; retry the request.');
  }

  /** Marks the upload aborting (unless it completed), then retires its parts. False when it changed under us. */
  private async abortRecord(upload: UploadRecord): Promise<boolean> {
    if (upload.state === 'completed') throw noSuchUpload(upload.uploadId);
    let aborting = upload;
    if (upload.state !== 'aborting') {
      aborting = { ...upload, state: 'aborting', completionId: undefined, lastActivity: this.d.now() };
      try {
        await this.d.index.put(uploadItem(aborting), this.stateCondition(upload));
      } catch (e) {
        if (e instanceof ConditionFailedError) return false;
        throw e;
      }
    }
    await this.finishAborted(aborting);
    return true;
  }

  /** Aborts uploads idle past `maxAgeMs` (a stuck completion counts as idle) and finishes interrupted ones. */
  async sweep(buckets: readonly BucketRecord[], maxAgeMs: number): Promise<UploadSweepResult> {
    const cutoff = this.d.now().getTime() - maxAgeMs;
    let aborted = 0;
    let finished = 0;
    for (const bucket of buckets) {
      let startAfter: string | undefined;
      for (;;) {
        const page = await this.d.index.query(uploadsPk(bucket.name), { limit: 500, startAfter });
        for (const item of page.items) {
          const u = uploadFromItem(item);
          if (u.state === 'completed') {
            await this.finishCompleted(u);
            finished++;
          } else if (u.state === 'aborting') {
            await this.finishAborted(u);
            finished++;
          } else if (u.lastActivity.getTime() <= cutoff && (await this.abortRecord(u))) {
            aborted++;
          }
        }
        if (!page.lastKey) break;
        startAfter = page.lastKey;
      }
    }
    return { aborted, finished };
  }

  // ---- copy ----------------------------------------------------------------------------------

  /**
   * Copies a multipart object part by part into a hidden upload under a fresh data key, then completes it.
   * Part boundaries are kept, so the copy's ETag has the source's "-N" form (its value is keyed by the new data
   * key, so it differs). Should the copy fail, the upload is
   * aborted (or, after a crash, swept).
   */
  async copyParts(input: CopyPartsInput): Promise<ObjectRecord> {
    const { source } = input;
    const { upload, dataKey } = await this.open({ bucket: input.bucket, key: input.key, contentType: input.contentType, userMetadata: input.userMetadata }, true);
    try {
      const stored: PartRecord[] = [];
      let offset = 0;
      for (const part of source.parts) {
        const range = { start: offset, end: offset + part.plaintextSize - 1 };
        offset += part.plaintextSize;
        const plaintext = () => (part.plaintextSize === 0 ? Readable.from([]) : openRange(this.d.blobs, source, input.sourceKey, range));
        stored.push(stripPart(await this.storePart(upload, part.partNumber, dataKey, plaintext)));
      }
      const leased = await this.lease(upload.bucket, upload.key, upload.uploadId);
      return await this.commitUpload(leased, stored, multipartEtag(stored), input.preconditions, dataKey);
    } catch (e) {
      try {
        await this.abort(upload.bucket, upload.key, upload.uploadId);
      } catch (abortError) {
        this.d.logger?.warn('copy upload left for the sweep', { uploadId: upload.uploadId, error: String(abortError) });
      }
      throw e;
    } finally {
      dataKey.fill(0);
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
