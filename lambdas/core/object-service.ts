// The object service: buckets and objects over the three ports, sealing every object under its own data key.
// It knows nothing of HTTP or AWS. Invariant: a reader sees the old object or the new one, never a half-written
// one, and a failure at any step never loses the previous object.
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import {
  computeObjectMac,
  createOpener,
  createSealer,
  parseHeader,
  sealedRangeFor,
  verifyObjectMac,
  type PartIdentity,
} from './format';
import {
  BlobNotFoundError,
  BucketAlreadyOwnedByYouError,
  BucketNotEmptyError,
  ConditionFailedError,
  InternalError,
  NoSuchBucketError,
  NoSuchKeyError,
  PreconditionFailedError,
} from './errors';
import { newBlobId, newObjectId } from './ids';
import type { BlobMetadata, BlobStore, ByteRange, Condition, EncryptionContext, KeyVault, ObjectIndex, WriteOp } from './ports';
import {
  BUCKETS_PK,
  LEDGER_PK,
  bucketFromItem,
  bucketItem,
  ledgerFromItem,
  ledgerItem,
  objectFromItem,
  objectItem,
  objectsPk,
  type BucketRecord,
  type ObjectRecord,
  type PartRecord,
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
}

export interface PutObjectInput {
  readonly bucket: string;
  readonly key: string;
  readonly body: Buffer;
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

/** Encryption context binding a data key to the object it seals (KMS refuses any other). */
export function dataKeyContext(bucket: string, objectId: string): EncryptionContext {
  return { 'sealstore:bucket': bucket, 'sealstore:object': objectId };
}

/** Blob metadata: the wrapped data key travels with the ciphertext, so a blob alone is recoverable with KMS. */
export function blobMetadata(
  record: Pick<ObjectRecord, 'bucket' | 'objectId' | 'keyId' | 'keyMaterialId' | 'wrappedKey'>,
  partNumber: number,
): BlobMetadata {
  return {
    'sealstore-format': '1',
    'sealstore-bucket': encodeURIComponent(record.bucket),
    'sealstore-object-id': record.objectId,
    'sealstore-part': String(partNumber),
    'sealstore-key-id': record.keyId,
    'sealstore-key-material': record.keyMaterialId,
    'sealstore-wrapped-key': record.wrappedKey.toString('base64'),
  };
}

const COMMIT_ATTEMPTS = 5;

export class ObjectService {
  private readonly now: () => Date;

  constructor(private readonly deps: ObjectServiceDeps) {
    this.now = deps.now ?? (() => new Date());
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

  async headObject(bucket: string, key: string): Promise<ObjectRecord> {
    const item = await this.deps.index.get(objectsPk(bucket), key);
    if (!item) {
      await this.headBucket(bucket);
      throw new NoSuchKeyError(`The key ${key} does not exist in bucket ${bucket}.`, { Key: key });
    }
    return objectFromItem(item);
  }

  /**
   * Seals `body` under a fresh data key (one key-vault call), writes the blob with the wrapped key beside it,
   * then commits the index entry. The previous object stays readable until the commit, and its blob is
   * recorded as garbage in the same transaction so nothing leaks if we stop right after.
   */
  async putObject(input: PutObjectInput): Promise<ObjectRecord> {
    await this.headBucket(input.bucket);
    if (input.ifNoneMatch !== undefined || input.ifMatch !== undefined) {
      // Fail fast before spending a data key; the commit re-checks atomically.
      const current = await this.deps.index.get(objectsPk(input.bucket), input.key);
      this.checkWritePreconditions(input, current ? objectFromItem(current) : undefined);
    }
    const objectId = newObjectId();
    const keyId = await this.deps.keys.activeKeyId();
    const dataKey = await this.deps.vault.generateDataKey(keyId, dataKeyContext(input.bucket, objectId));
    const blobId = newBlobId();
    try {
      const wrapped = {
        bucket: input.bucket,
        objectId,
        keyId: dataKey.keyId,
        keyMaterialId: dataKey.keyMaterialId,
        wrappedKey: dataKey.wrapped,
      };
      await this.deps.index.put(ledgerItem({ blobId, kind: 'pending', createdAt: this.now() }));
      const part = await this.writePart(dataKey.plaintext, { bucket: input.bucket, objectId, partNumber: 1 }, blobId, input.body, blobMetadata(wrapped, 1));
      const etag = part.etag;
      const now = this.now();
      const record: ObjectRecord = {
        ...wrapped,
        key: input.key,
        size: input.body.length,
        etag,
        contentType: input.contentType ?? 'binary/octet-stream',
        userMetadata: input.userMetadata ?? {},
        lastModified: now,
        wrappedAt: now,
        parts: [part],
        mac: computeObjectMac(dataKey.plaintext, input.bucket, objectId, [part]),
      };
      await this.deps.hooks?.afterBlobWrite?.(blobId);
      await this.commit(record, input, [blobId]);
      return record;
    } catch (e) {
      await this.discardBlobs([blobId]);
      throw e;
    } finally {
      dataKey.plaintext.fill(0);
    }
  }

  /** Seals one part from a buffer and writes it as one blob. */
  private async writePart(
    dataKey: Buffer,
    id: PartIdentity,
    blobId: string,
    body: Buffer,
    metadata: BlobMetadata,
  ): Promise<PartRecord> {
    const sealer = createSealer(dataKey, id, { frameSize: this.deps.frameSize });
    const source = Readable.from([body]);
    source.on('error', (e) => sealer.destroy(e));
    const { size } = await this.deps.blobs.put(blobId, source.pipe(sealer), metadata);
    const summary = sealer.summary();
    if (summary.sealedSize !== size || summary.plaintextSize !== body.length) {
      throw new InternalError(`blob ${blobId} was stored with ${size} bytes, expected ${summary.sealedSize}`);
    }
    return {
      partNumber: id.partNumber,
      blobId,
      plaintextSize: summary.plaintextSize,
      sealedSize: summary.sealedSize,
      header: summary.header,
      etag: createHash('md5').update(body).digest('hex'),
    };
  }

  private checkWritePreconditions(input: PutObjectInput, current: ObjectRecord | undefined): void {
    if (input.ifNoneMatch !== undefined && current) {
      throw new PreconditionFailedError('At least one of the pre-conditions you specified did not hold: the object already exists (If-None-Match: *).', { Condition: 'If-None-Match' });
    }
    if (input.ifMatch !== undefined) {
      const want = input.ifMatch.replace(/"/g, '').trim();
      if (!current) throw new NoSuchKeyError(`The key ${input.key} does not exist (If-Match).`, { Key: input.key });
      if (want !== '*' && want !== current.etag) {
        throw new PreconditionFailedError('At least one of the pre-conditions you specified did not hold: the ETag does not match (If-Match).', { Condition: 'If-Match' });
      }
    }
  }

  /**
   * Commits the index entry atomically with the ledger: the new blobs stop being pending, the replaced
   * object's blobs become garbage. A concurrent writer makes the condition fail; we re-read and retry,
   * so the last writer wins as in S3, without losing track of any blob.
   */
  private async commit(record: ObjectRecord, input: Pick<PutObjectInput, 'ifMatch' | 'ifNoneMatch' | 'key'>, newBlobs: readonly string[]): Promise<void> {
    for (let attempt = 0; attempt < COMMIT_ATTEMPTS; attempt++) {
      const currentItem = await this.deps.index.get(objectsPk(record.bucket), record.key);
      const current = currentItem ? objectFromItem(currentItem) : undefined;
      this.checkWritePreconditions({ ...input, bucket: record.bucket, body: Buffer.alloc(0) }, current);
      const condition: Condition = current ? { kind: 'equals', attr: 'objectId', value: current.objectId } : { kind: 'absent' };
      const now = this.now();
      const ops: WriteOp[] = [
        { op: 'put', item: objectItem(record), condition },
        // The pending entry must still be there: if the sweep judged this write dead and removed its blob,
        // the commit must fail rather than publish an object whose blob is gone.
        ...newBlobs.map((blobId): WriteOp => ({ op: 'delete', pk: LEDGER_PK, sk: blobId, condition: { kind: 'equals', attr: 'kind', value: 'pending' } })),
        ...(current?.parts ?? []).map((p): WriteOp => ({ op: 'put', item: ledgerItem({ blobId: p.blobId, kind: 'garbage', createdAt: now }) })),
      ];
      try {
        await this.transactInChunks(ops);
      } catch (e) {
        if (!(e instanceof ConditionFailedError)) throw e;
        for (const blobId of newBlobs) {
          if (!(await this.deps.index.get(LEDGER_PK, blobId))) {
            throw new InternalError('The upload took too long and its data was swept; retry the request.');
          }
        }
        continue;
      }
      if (current) await this.collectGarbage(current.parts.map((p) => p.blobId));
      return;
    }
    throw new PreconditionFailedError(`Too many concurrent writes to ${record.key}; retry the request.`);
  }

  /** The index caps a transaction at 100 items; object puts carry at most a few ledger items each. */
  private async transactInChunks(ops: readonly WriteOp[]): Promise<void> {
    if (ops.length <= 100) return this.deps.index.transact(ops);
    // The first chunk holds the conditional object write; later chunks only move ledger entries,
    // which the sweep tolerates in either state.
    await this.deps.index.transact(ops.slice(0, 100));
    for (let i = 100; i < ops.length; i += 100) await this.deps.index.transact(ops.slice(i, i + 100));
  }

  /** Deletes blobs that are recorded as garbage, then their ledger entries. Failures are left to the sweep. */
  private async collectGarbage(blobIds: readonly string[]): Promise<void> {
    for (const blobId of blobIds) {
      try {
        await this.deps.blobs.delete(blobId);
        await this.deps.index.delete(LEDGER_PK, blobId);
      } catch (e) {
        this.deps.logger?.warn('garbage blob left for the sweep', { blobId, error: String(e) });
      }
    }
  }

  /** Best-effort removal of blobs that never became visible; the sweep finishes what this cannot. */
  private async discardBlobs(blobIds: readonly string[]): Promise<void> {
    for (const blobId of blobIds) {
      try {
        await this.deps.blobs.delete(blobId);
        await this.deps.index.delete(LEDGER_PK, blobId);
      } catch (e) {
        this.deps.logger?.warn('pending blob left for the sweep', { blobId, error: String(e) });
      }
    }
  }

  /**
   * Opens an object's plaintext, whole or one inclusive byte range. Everything that can fail before the
   * first byte (key unwrap, object MAC, key commitment of every part) fails here, so the caller can still
   * answer with an error status. Tampering found later in the stream destroys the stream.
   */
  async openObject(record: ObjectRecord, range?: ByteRange): Promise<Readable> {
    const { plaintext: dataKey } = await this.deps.vault.decrypt(record.wrappedKey, dataKeyContext(record.bucket, record.objectId));
    try {
      verifyObjectMac(dataKey, record.bucket, record.objectId, record.parts, record.mac);
      if (record.size === 0) return Readable.from([]);
      const want = range ?? { start: 0, end: record.size - 1 };
      const reads: Array<{ part: PartRecord; opener: ReturnType<typeof createOpener>; sealed: ByteRange }> = [];
      let offset = 0;
      for (const part of record.parts) {
        const partStart = offset;
        const partEnd = offset + part.plaintextSize - 1;
        offset += part.plaintextSize;
        if (part.plaintextSize === 0 || partEnd < want.start || partStart > want.end) continue;
        const id = { bucket: record.bucket, objectId: record.objectId, partNumber: part.partNumber };
        const local = { start: Math.max(want.start, partStart) - partStart, end: Math.min(want.end, partEnd) - partStart };
        const sealed = sealedRangeFor(part.plaintextSize, parseHeader(part.header).frameSize, local);
        // Throws at once if the part's key commitment does not match: before any status line is sent.
        const opener = createOpener(dataKey, id, { header: part.header, plaintextSize: part.plaintextSize, range: local });
        reads.push({ part, opener, sealed: { start: sealed.start, end: sealed.end } });
      }
      const keyCopy = Buffer.from(dataKey);
      const blobs = this.deps.blobs;
      return Readable.from(
        (async function* stream() {
          try {
            for (const r of reads) {
              let source: Readable;
              try {
                source = await blobs.get(r.part.blobId, r.sealed);
              } catch (e) {
                if (e instanceof BlobNotFoundError) throw new NoSuchKeyError(`The object ${record.key} was deleted while being read.`, { Key: record.key });
                throw e;
              }
              source.on('error', (e) => r.opener.destroy(e));
              for await (const chunk of source.pipe(r.opener)) yield chunk as Buffer;
            }
          } finally {
            keyCopy.fill(0);
          }
        })(),
        { objectMode: false },
      );
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
      const now = this.now();
      try {
        await this.transactInChunks([
          { op: 'delete', pk: objectsPk(bucket), sk: key, condition: { kind: 'equals', attr: 'objectId', value: current.objectId } },
          ...current.parts.map((p): WriteOp => ({ op: 'put', item: ledgerItem({ blobId: p.blobId, kind: 'garbage', createdAt: now }) })),
        ]);
      } catch (e) {
        if (e instanceof ConditionFailedError) continue;
        throw e;
      }
      // Crypto-shredding: the index entry (one copy of the wrapped key) is gone; deleting the blob removes the other.
      await this.collectGarbage(current.parts.map((p) => p.blobId));
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

  /**
   * Removes blobs that no object references: pending ones older than `olderThanMs` (a writer that died
   * between blob write and commit) and all garbage (replaced or deleted objects).
   */
  async sweep(olderThanMs: number): Promise<SweepResult> {
    const cutoff = this.now().getTime() - olderThanMs;
    let blobsDeleted = 0;
    let ledgerEntriesCleared = 0;
    let startAfter: string | undefined;
    for (;;) {
      const page = await this.deps.index.query(LEDGER_PK, { limit: 500, startAfter });
      for (const item of page.items) {
        const entry = ledgerFromItem(item);
        if (entry.kind === 'pending' && entry.createdAt.getTime() > cutoff) continue;
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

/** The common prefix a key rolls up into under ListObjects' delimiter rule, if any. */
export function commonPrefixOf(key: string, prefix: string, delimiter: string | undefined): string | undefined {
  if (!delimiter) return undefined;
  const at = key.indexOf(delimiter, prefix.length);
  return at < 0 ? undefined : key.slice(0, at + delimiter.length);
}
