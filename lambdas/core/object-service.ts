// The object service: buckets and objects over the three ports, sealing every object under its own data key.
// It knows nothing of HTTP or AWS. Invariant: a reader sees the old object or the new one, never a half-written
// one, and a failure at any step never loses the previous object.
import { Readable } from 'node:stream';
import { computeObjectMac, verifyObjectMac } from './format';
import {
  BucketAlreadyOwnedByYouError,
  BucketNotEmptyError,
  ConditionFailedError,
  ConditionalRequestConflictError,
  InternalError,
  NoSuchBucketError,
  NoSuchKeyError,
  PreconditionFailedError,
} from './errors';
import { Garbage } from './garbage';
import { newBlobId, newObjectId } from './ids';
import { nameTag, verifyNameTag } from './name-binding';
import { loadParts } from './manifest';
import { MultipartUploads, type CompleteInput, type CreateUploadInput, type ListPartsInput, type ListPartsResult, type ListUploadsInput, type ListUploadsResult, type UploadPartInput, type UploadSweepResult } from './multipart';
import { commonPrefixOf } from './list-keys';
import { openRange } from './part-reader';
import { writeSealedPart } from './part-writer';
import type { BlobStore, ByteRange, Condition, KeyVault, ObjectIndex, WriteOp } from './ports';
import { blobMetadata, dataKeyContext, openStoredDataKey } from './sealing-context';
import {
  BUCKETS_PK,
  LEDGER_PK,
  bucketFromItem,
  bucketItem,
  ledgerFromItem,
  objectFromItem,
  objectItem,
  objectsPk,
  type BucketRecord,
  type ObjectRecord,
  type UploadRecord,
  type UploadedPartRecord,
} from './records';

/** Where new objects get their data keys from; the key lifecycle decides which CMK is active. */
export interface ActiveKeySource {
  activeKeyId(): Promise<string>;
}

/** Fault-injection seams for the reliability suite; production passes none. */
export interface ObjectServiceHooks {
  /** Runs after the blob is durable and before the index commit. */
  afterBlobWrite?(blobId: string): Promise<void>;
}

/** Minimal logger the service needs; structured fields, never key material. */
export interface ServiceLogger {
  warn(message: string, fields?: Record<string, unknown>): void;
}

export interface ObjectServiceDeps {
  readonly vault: KeyVault;
  readonly blobs: BlobStore;
  readonly index: ObjectIndex;
  readonly keys: ActiveKeySource;
  readonly now?: () => Date;
  /** Plaintext bytes per sealed frame; the format's default when omitted. */
  readonly frameSize?: number;
  readonly hooks?: ObjectServiceHooks;
  readonly logger?: ServiceLogger;
  /** Smallest non-last part CompleteMultipartUpload accepts; MIN_PART_SIZE when omitted. */
  readonly minPartSize?: number;
}

export interface PutObjectInput {
  readonly bucket: string;
  readonly key: string;
  /**
   * Opens the body. It is opened only once the write is known to be possible (bucket exists, preconditions
   * hold), and read once; a stream that errors before its end fails the write and nothing is committed.
   */
  readonly body: () => Readable;
  readonly contentType?: string;
  readonly userMetadata?: Readonly<Record<string, string>>;
  /** '*' makes the write create-only (S3 conditional write). */
  readonly ifNoneMatch?: string;
  /** The write succeeds only if the current object has this ETag. */
  readonly ifMatch?: string;
}

export interface ListObjectsInput {
  readonly bucket: string;
  readonly prefix?: string;
  readonly delimiter?: string;
  readonly maxKeys: number;
  /** Keys strictly after this one (S3's start-after / marker). */
  readonly startAfter?: string;
  /** The last key or common prefix a previous page returned (continuation): nothing under it comes again. */
  readonly resumeAfter?: string;
}

export interface ListObjectsResult {
  readonly objects: ObjectRecord[];
  readonly commonPrefixes: string[];
  readonly isTruncated: boolean;
  /** The last key or common prefix returned; where the next page starts after. */
  readonly lastReturned?: string;
}

export interface SweepResult {
  readonly blobsDeleted: number;
  readonly ledgerEntriesCleared: number;
}

/** What a write needs of the object it replaces (S3 conditional writes). */
export interface WritePreconditions {
  /** '*' makes the write create-only. */
  readonly ifNoneMatch?: string;
  /** The write succeeds only if the current object has this ETag. */
  readonly ifMatch?: string;
}

export interface CopyObjectInput {
  readonly source: ObjectRecord;
  readonly bucket: string;
  readonly key: string;
  /** COPY keeps the source's content type and metadata; REPLACE takes the ones given here. */
  readonly metadataDirective: 'COPY' | 'REPLACE';
  readonly contentType?: string;
  readonly userMetadata?: Readonly<Record<string, string>>;
  readonly preconditions?: WritePreconditions;
}

export interface CommitOptions {
  readonly preconditions?: WritePreconditions;
  /** Blobs with a pending ledger entry that this commit makes live. */
  readonly newBlobs: readonly string[];
  /** Writes that must succeed in the same transaction (e.g. marking an upload completed). */
  readonly extraOps?: readonly WriteOp[];
  /** Runs when a condition failed, before retrying: throws when retrying cannot help. */
  readonly onConditionFailed?: () => Promise<void>;
}

export { blobMetadata, dataKeyContext } from './sealing-context';

const COMMIT_ATTEMPTS = 5;
/** The index caps one transaction at 100 writes; every commit here is built to stay within it. */
const MAX_TRANSACTION_OPS = 100;

export class ObjectService {
  private readonly now: () => Date;
  private readonly garbage: Garbage;
  private readonly multipart: MultipartUploads;

  constructor(private readonly deps: ObjectServiceDeps) {
    this.now = deps.now ?? (() => new Date());
    this.garbage = new Garbage(deps.blobs, deps.index, deps.logger);
    this.multipart = new MultipartUploads({
      vault: deps.vault,
      blobs: deps.blobs,
      index: deps.index,
      keys: deps.keys,
      now: this.now,
      frameSize: deps.frameSize,
      minPartSize: deps.minPartSize,
      garbage: this.garbage,
      logger: deps.logger,
      headBucket: (bucket) => this.headBucket(bucket),
      commitObject: (record, options) => this.commitObject(record, options),
    });
  }

  // ---- buckets -------------------------------------------------------------------------------

  async listBuckets(): Promise<BucketRecord[]> {
    const out: BucketRecord[] = [];
    let startAfter: string | undefined;
    for (;;) {
      const page = await this.deps.index.query(BUCKETS_PK, { limit: 1000, startAfter });
      out.push(...page.items.map(bucketFromItem));
      if (!page.lastKey) return out;
      startAfter = page.lastKey;
    }
  }

  async createBucket(name: string): Promise<BucketRecord> {
    const record: BucketRecord = { name, createdAt: this.now() };
    try {
      await this.deps.index.put(bucketItem(record), { kind: 'absent' });
    } catch (e) {
      if (e instanceof ConditionFailedError) {
        throw new BucketAlreadyOwnedByYouError(`Bucket ${name} already exists and is yours.`, { BucketName: name });
      }
      throw e;
    }
    return record;
  }

  async headBucket(name: string): Promise<BucketRecord> {
    const item = await this.deps.index.get(BUCKETS_PK, name);
    if (!item) throw new NoSuchBucketError(`Bucket ${name} does not exist. Create it first.`, { BucketName: name });
    return bucketFromItem(item);
  }

  async deleteBucket(name: string): Promise<void> {
    await this.headBucket(name);
    const page = await this.deps.index.query(objectsPk(name), { limit: 1 });
    if (page.items.length > 0) {
      throw new BucketNotEmptyError(`Bucket ${name} is not empty; delete its objects first.`, { BucketName: name });
    }
    await this.deps.index.delete(BUCKETS_PK, name);
  }

  // ---- objects -------------------------------------------------------------------------------

  /** The object with its whole part list: one index read, plus the manifest chunks of a many-part object. */
  async headObject(bucket: string, key: string): Promise<ObjectRecord> {
    const item = await this.deps.index.get(objectsPk(bucket), key);
    if (!item) {
      await this.headBucket(bucket);
      throw new NoSuchKeyError(`The key ${key} does not exist in bucket ${bucket}.`, { Key: key });
    }
    return loadParts(this.deps.index, objectFromItem(item));
  }

  /**
   * Seals `body` under a fresh data key (one key-vault call), writes the blob with the wrapped key beside it,
   * then commits the index entry. The previous object stays readable until the commit, and its blob is
   * recorded as garbage in the same transaction so nothing leaks if we stop right after.
   */
  async putObject(input: PutObjectInput): Promise<ObjectRecord> {
    return this.writeSinglePart(input, input, input.body, {
      contentType: input.contentType ?? 'binary/octet-stream',
      userMetadata: input.userMetadata ?? {},
    });
  }

  /**
   * Copies an object under a fresh data key: plaintext never leaves the service, and it streams part by part,
   * so a large source is never buffered. A multipart source is copied as a multipart-shaped object with the
   * same part boundaries, hence an ETag of the same "-N" form (keyed by the copy's own data key).
   */
  async copyObject(input: CopyObjectInput): Promise<ObjectRecord> {
    const { source } = input;
    await this.headBucket(input.bucket);
    const meta = input.metadataDirective === 'REPLACE'
      ? { contentType: input.contentType ?? 'binary/octet-stream', userMetadata: input.userMetadata ?? {} }
      : { contentType: source.contentType, userMetadata: source.userMetadata };
    const { plaintext: sourceKey } = await openStoredDataKey(this.deps.vault, source.wrappedKey, source.bucket, source.objectId);
    try {
      verifyObject(sourceKey, source);
      const preconditions = input.preconditions ?? {};
      if (source.parts.length === 1 && !source.etag.includes('-')) {
        return await this.writeSinglePart({ bucket: input.bucket, key: input.key }, preconditions, () => this.plaintextOf(source, sourceKey), meta);
      }
      return await this.multipart.copyParts({ source, sourceKey, bucket: input.bucket, key: input.key, ...meta, preconditions });
    } finally {
      sourceKey.fill(0);
    }
  }

  private async plaintextOf(record: ObjectRecord, dataKey: Buffer, range?: ByteRange): Promise<Readable> {
    if (record.size === 0) return Readable.from([]);
    return openRange(this.deps.blobs, record, dataKey, range ?? { start: 0, end: record.size - 1 });
  }

  /** One part sealed under a fresh data key from a plaintext stream, then committed like any PUT. */
  private async writeSinglePart(
    target: { bucket: string; key: string },
    preconditions: WritePreconditions,
    plaintext: () => Readable | Promise<Readable>,
    meta: { contentType: string; userMetadata: Readonly<Record<string, string>> },
  ): Promise<ObjectRecord> {
    await this.headBucket(target.bucket);
    if (preconditions.ifNoneMatch !== undefined || preconditions.ifMatch !== undefined) {
      // Fail fast before spending a data key; the commit re-checks atomically.
      const current = await this.deps.index.get(objectsPk(target.bucket), target.key);
      checkWritePreconditions(preconditions, target.key, current ? objectFromItem(current) : undefined);
    }
    const objectId = newObjectId();
    const keyId = await this.deps.keys.activeKeyId();
    const dataKey = await this.deps.vault.generateDataKey(keyId, dataKeyContext(target.bucket, objectId));
    const blobId = newBlobId();
    const pending = this.garbage.recordPending(blobId, this.now(), { bucket: target.bucket, key: target.key, objectId });
    try {
      const wrapped = {
        bucket: target.bucket,
        objectId,
        keyId: dataKey.keyId,
        keyMaterialId: dataKey.keyMaterialId,
        wrappedKey: dataKey.wrapped,
      };
      const part = await writeSealedPart(this.deps.blobs, dataKey.plaintext, { bucket: target.bucket, objectId, partNumber: 1 }, blobId, await plaintext(), blobMetadata(wrapped, 1), this.deps.frameSize, {
        beforePublish: () => pending,
      });
      const now = this.now();
      const record: ObjectRecord = {
        ...wrapped,
        key: target.key,
        size: part.plaintextSize,
        etag: part.etag,
        contentType: meta.contentType,
        userMetadata: meta.userMetadata,
        lastModified: now,
        wrappedAt: now,
        parts: [part],
        mac: computeObjectMac(dataKey.plaintext, target.bucket, objectId, [part]),
        nameTag: nameTag(dataKey.plaintext, target.bucket, target.key, objectId),
      };
      await this.deps.hooks?.afterBlobWrite?.(blobId);
      await this.commitObject(record, { preconditions, newBlobs: [blobId] });
      return record;
    } catch (e) {
      await pending.catch(() => undefined);
      await this.garbage.discardPending([blobId]);
      throw e;
    } finally {
      dataKey.plaintext.fill(0);
    }
  }

  /**
   * Commits the index entry atomically with the ledger: the new blobs stop being pending, the replaced
   * object's blobs become garbage. A concurrent writer makes the condition fail; we re-read and retry,
   * so the last writer wins as in S3, without losing track of any blob. A chunked manifest must already
   * be written (writeManifestChunks).
   */
  async commitObject(record: ObjectRecord, options: CommitOptions): Promise<void> {
    const preconditions = options.preconditions ?? {};
    for (let attempt = 0; attempt < COMMIT_ATTEMPTS; attempt++) {
      const currentItem = await this.deps.index.get(objectsPk(record.bucket), record.key);
      const current = currentItem ? objectFromItem(currentItem) : undefined;
      checkWritePreconditions(preconditions, record.key, current);
      const condition: Condition = current ? { kind: 'equals', attr: 'objectId', value: current.objectId } : { kind: 'absent' };
      const now = this.now();
      const ops: WriteOp[] = [
        { op: 'put', item: objectItem(record), condition },
        // The pending entry must still be there: if the sweep judged this write dead and removed its blob,
        // the commit must fail rather than publish an object whose blob is gone.
        ...options.newBlobs.map((blobId): WriteOp => ({ op: 'delete', pk: LEDGER_PK, sk: blobId, condition: { kind: 'equals', attr: 'kind', value: 'pending' } })),
        ...(options.extraOps ?? []),
        ...(current ? this.garbage.opsFor(current, now) : []),
      ];
      if (ops.length > MAX_TRANSACTION_OPS) throw new InternalError(`a commit of ${ops.length} index writes exceeds one transaction`);
      try {
        await this.deps.index.transact(ops);
      } catch (e) {
        if (e instanceof ConditionalRequestConflictError) {
          await backoff(attempt);
          continue;
        }
        if (!(e instanceof ConditionFailedError)) throw e;
        for (const blobId of options.newBlobs) {
          if (!(await this.deps.index.get(LEDGER_PK, blobId))) {
            throw new InternalError('The upload took too long and its data was swept; retry the request.');
          }
        }
        await options.onConditionFailed?.();
        continue;
      }
      // The replaced version is shredded in the background; its ledger entries make that survive a stop.
      if (current) this.garbage.collectLater(current);
      return;
    }
    throw new PreconditionFailedError(`Too many concurrent writes to ${record.key}; retry the request.`);
  }

  /**
   * Opens an object's plaintext, whole or one inclusive byte range. Everything that can fail before the
   * first byte (key unwrap, object MAC, key commitment of every part) fails here, so the caller can still
   * answer with an error status. Tampering found later in the stream destroys the stream. Only the frames
   * the range touches are fetched, across part boundaries too.
   */
  async openObject(record: ObjectRecord, range?: ByteRange): Promise<Readable> {
    const { plaintext: dataKey } = await openStoredDataKey(this.deps.vault, record.wrappedKey, record.bucket, record.objectId);
    try {
      verifyObject(dataKey, record);
      return await this.plaintextOf(record, dataKey, range);
    } finally {
      dataKey.fill(0);
    }
  }

  async deleteObject(bucket: string, key: string): Promise<void> {
    await this.headBucket(bucket);
    for (let attempt = 0; attempt < COMMIT_ATTEMPTS; attempt++) {
      const item = await this.deps.index.get(objectsPk(bucket), key);
      if (!item) return; // S3 answers 204 for a missing key
      const current = objectFromItem(item);
      try {
        await this.deps.index.transact([
          { op: 'delete', pk: objectsPk(bucket), sk: key, condition: { kind: 'equals', attr: 'objectId', value: current.objectId } },
          ...this.garbage.opsFor(current, this.now()),
        ]);
      } catch (e) {
        if (e instanceof ConditionFailedError) continue;
        if (e instanceof ConditionalRequestConflictError) {
          await backoff(attempt);
          continue;
        }
        throw e;
      }
      // Crypto-shredding: the index entry (one copy of the wrapped key) is gone; deleting the blob removes the other.
      await this.garbage.collectObject(current);
      return;
    }
    throw new PreconditionFailedError(`Too many concurrent writes to ${key}; retry the request.`);
  }

  async listObjects(input: ListObjectsInput): Promise<ListObjectsResult> {
    await this.headBucket(input.bucket);
    const objects: ObjectRecord[] = [];
    const commonPrefixes: string[] = [];
    const prefix = input.prefix ?? '';
    let startAfter = input.resumeAfter ?? input.startAfter;
    if (startAfter !== undefined && startAfter < prefix) startAfter = undefined;
    let lastReturned: string | undefined;
    if (input.resumeAfter !== undefined && commonPrefixOf(input.resumeAfter, prefix, input.delimiter) === input.resumeAfter) {
      // The previous page ended on a common prefix: skip every key rolled up into it.
      lastReturned = input.resumeAfter;
      startAfter = `${input.resumeAfter}\u{10FFFF}`;
    }
    if (input.maxKeys <= 0) return { objects, commonPrefixes, isTruncated: false };
    for (;;) {
      const page = await this.deps.index.query(objectsPk(input.bucket), {
        prefix: prefix || undefined,
        startAfter,
        limit: Math.min(1000, input.maxKeys - objects.length - commonPrefixes.length + 1),
      });
      for (const item of page.items) {
        const key = item.sk;
        const cp = commonPrefixOf(key, prefix, input.delimiter);
        if (cp !== undefined && cp === lastReturned) continue;
        if (objects.length + commonPrefixes.length >= input.maxKeys) {
          return { objects, commonPrefixes, isTruncated: true, lastReturned };
        }
        if (cp !== undefined) {
          commonPrefixes.push(cp);
          lastReturned = cp;
        } else {
          objects.push(objectFromItem(item));
          lastReturned = key;
        }
      }
      if (!page.lastKey) return { objects, commonPrefixes, isTruncated: false, lastReturned };
      // After a common prefix, jump past every key under it instead of reading them all.
      startAfter = lastReturned !== undefined && commonPrefixes.at(-1) === lastReturned ? `${lastReturned}\u{10FFFF}` : page.lastKey;
      if (startAfter < page.lastKey) startAfter = page.lastKey;
    }
  }

  // ---- multipart upload ----------------------------------------------------------------------

  createMultipartUpload(input: CreateUploadInput): Promise<UploadRecord> {
    return this.multipart.create(input);
  }

  uploadPart(input: UploadPartInput): Promise<UploadedPartRecord> {
    return this.multipart.uploadPart(input);
  }

  /** UploadPartCopy: one byte range of an existing object becomes a part, re-sealed under the upload's key. */
  async uploadPartCopy(input: Omit<UploadPartInput, 'body' | 'checksum'> & { source: ObjectRecord; range?: ByteRange }): Promise<UploadedPartRecord> {
    const { source } = input;
    const { plaintext: sourceKey } = await openStoredDataKey(this.deps.vault, source.wrappedKey, source.bucket, source.objectId);
    try {
      verifyObject(sourceKey, source);
      const plaintext = () => this.plaintextOf(source, sourceKey, input.range);
      return await this.multipart.uploadPartFrom(input, plaintext);
    } finally {
      sourceKey.fill(0);
    }
  }

  listParts(input: ListPartsInput): Promise<ListPartsResult> {
    return this.multipart.listParts(input);
  }

  completeMultipartUpload(input: CompleteInput): Promise<ObjectRecord> {
    return this.multipart.complete(input);
  }

  abortMultipartUpload(bucket: string, key: string, uploadId: string): Promise<void> {
    return this.multipart.abort(bucket, key, uploadId);
  }

  listMultipartUploads(input: ListUploadsInput): Promise<ListUploadsResult> {
    return this.multipart.list(input);
  }

  /** Aborts uploads idle for longer than `maxAgeMs` and finishes any abort or completion a crash interrupted. */
  async sweepUploads(maxAgeMs: number): Promise<UploadSweepResult> {
    return this.multipart.sweep(await this.listBuckets(), maxAgeMs);
  }

  // ---- housekeeping --------------------------------------------------------------------------

  /** Waits for the background shredding of replaced objects queued so far. */
  settle(): Promise<void> {
    return this.garbage.settle();
  }

  /**
   * Removes blobs that no object references: pending ones older than `olderThanMs` (a writer that died
   * between blob write and commit) and all garbage (replaced or deleted objects, aborted uploads).
   */
  async sweep(olderThanMs: number): Promise<SweepResult> {
    await this.settle();
    const cutoff = this.now().getTime() - olderThanMs;
    let blobsDeleted = 0;
    let ledgerEntriesCleared = 0;
    let startAfter: string | undefined;
    for (;;) {
      const page = await this.deps.index.query(LEDGER_PK, { limit: 500, startAfter });
      for (const item of page.items) {
        const entry = ledgerFromItem(item);
        if (entry.kind === 'pending' && entry.createdAt.getTime() > cutoff) continue;
        if (entry.kind === 'pending' && (await this.garbage.pendingIsLive(entry))) {
          // Committed after all (its entry came back from an old copy of the ledger): drop the entry, keep the blob.
          this.deps.logger?.warn('pending ledger entry names a blob in use; keeping the blob', { blobId: entry.blobId });
          await this.deps.index.delete(LEDGER_PK, entry.blobId, { kind: 'equals', attr: 'kind', value: 'pending' }).catch((e: unknown) => {
            if (!(e instanceof ConditionFailedError)) throw e;
          });
          ledgerEntriesCleared++;
          continue;
        }
        if (entry.kind === 'manifest' && entry.objectId !== undefined) {
          blobsDeleted += await this.garbage.collectManifest(entry.objectId);
          ledgerEntriesCleared++;
          continue;
        }
        await this.deps.blobs.delete(entry.blobId);
        blobsDeleted++;
        try {
          await this.deps.index.delete(LEDGER_PK, entry.blobId, { kind: 'equals', attr: 'kind', value: entry.kind });
          ledgerEntriesCleared++;
        } catch (e) {
          if (!(e instanceof ConditionFailedError)) throw e;
        }
      }
      if (!page.lastKey) return { blobsDeleted, ledgerEntriesCleared };
      startAfter = page.lastKey;
    }
  }
}

/** Everything checkable before the first byte: the part list (object MAC) and the name binding. */
function verifyObject(dataKey: Buffer, record: ObjectRecord): void {
  verifyObjectMac(dataKey, record.bucket, record.objectId, record.parts, record.mac);
  verifyNameTag(dataKey, record.bucket, record.key, record.objectId, record.nameTag);
}

/** S3 conditional writes: If-None-Match: * (create-only) and If-Match: etag, checked against the current object. */
export function checkWritePreconditions(p: WritePreconditions, key: string, current: ObjectRecord | undefined): void {
  if (p.ifNoneMatch !== undefined && current) {
    throw new PreconditionFailedError('At least one of the pre-conditions you specified did not hold: the object already exists (If-None-Match: *).', { Condition: 'If-None-Match' });
  }
  if (p.ifMatch !== undefined) {
    const want = p.ifMatch.replace(/"/g, '').trim();
    if (!current) throw new NoSuchKeyError(`The key ${key} does not exist (If-Match).`, { Key: key });
    if (want !== '*' && want !== current.etag) {
      throw new PreconditionFailedError('At least one of the pre-conditions you specified did not hold: the ETag does not match (If-Match).', { Condition: 'If-Match' });
    }
  }
}

/** Jittered backoff for index transaction conflicts (DynamoDB TransactionConflict), which clear in milliseconds. */
export function backoff(attempt: number): Promise<void> {
  const ms = Math.random() * 20 * 2 ** attempt;
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export { commonPrefixOf } from './list-keys';
