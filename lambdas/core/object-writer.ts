// Single-part writes: PUT and the copy of a single-part object. One fresh data key per write (one key-vault
// call), one sealed blob, one commit. The previous object stays readable until the commit, and its blobs become
// garbage in the same transaction, so nothing leaks if we stop right after.
import type { Readable } from 'node:stream';
import type { Buckets } from './buckets';
import { computeObjectMac } from './format';
import { newObjectId } from './ids';
import { nameTag } from './name-binding';
import { checkWritePreconditions, versionFieldsFor, versionTimeAfter, type ObjectCommitter, type WritePreconditions } from './object-commit';
import { presentHeaders, writePendingPart, type PartRecordFields, type PendingPartDeps } from './part-writer';
import type { KeyVault } from './ports';
import type { ObjectRecord, StoredHeaders } from './records';
import { blobMetadata, dataKeyContext } from './sealing-context';
import { chooseWriteKey, type WriteKeys } from './write-keys';
import { sealChecksum, type StoredChecksum } from './object-checksum';

/** Fault-injection seams for the reliability suite; production passes none. */
export interface ObjectWriteHooks {
  /** Runs after the blob is durable and before the index commit. */
  afterBlobWrite?(blobId: string): Promise<void>;
}

export interface ObjectWriterDeps extends PendingPartDeps {
  readonly vault: KeyVault;
  readonly keys: WriteKeys;
  readonly buckets: Buckets;
  readonly committer: ObjectCommitter;
  readonly hooks?: ObjectWriteHooks;
}

export interface ObjectTarget {
  readonly bucket: string;
  readonly key: string;
}

export interface ObjectMeta {
  readonly contentType: string;
  readonly headers: StoredHeaders;
  readonly userMetadata: Readonly<Record<string, string>>;
  /** The CMK the client asked for (x-amz-server-side-encryption-aws-kms-key-id), as sent; else the bucket's default or the active one. */
  readonly requestedKey?: string;
  /** The object's verified flexible checksum, readable once the body has ended; kept sealed. */
  readonly checksum?: () => StoredChecksum | undefined;
}

export class ObjectWriter {
  constructor(private readonly d: ObjectWriterDeps) {}

  /**
   * Seals one plaintext stream as a one-part object and commits it. `plaintext` is opened only once the write is
   * known to be possible (bucket exists, preconditions hold), and read once.
   */
  async write(
    target: ObjectTarget,
    preconditions: WritePreconditions,
    plaintext: () => Readable | Promise<Readable>,
    meta: ObjectMeta,
  ): Promise<ObjectRecord> {
    const bucket = await this.d.buckets.head(target.bucket);
    if (preconditions.ifNoneMatch !== undefined || preconditions.ifMatch !== undefined) {
      // Fail fast before spending a data key; the commit re-checks atomically.
      checkWritePreconditions(preconditions, target.key, await this.d.committer.current(target.bucket, target.key));
    }
    const objectId = newObjectId();
    const choice = await chooseWriteKey(this.d.keys, bucket, meta.requestedKey);
    const dataKey = await this.d.vault.generateDataKey(choice.keyId, dataKeyContext(target.bucket, objectId));
    try {
      const wrapped = {
        bucket: target.bucket,
        objectId,
        keyId: dataKey.keyId,
        keyMaterialId: dataKey.keyMaterialId,
        wrappedKey: dataKey.wrapped,
      };
      const owner = { bucket: target.bucket, key: target.key, objectId };
      const id = { bucket: target.bucket, objectId, partNumber: 1 };
      const startedAt = this.d.now();
      // The version is named when the write begins: its id goes into the blob's sealed record and orders it. It is
      // never older than the key's latest entry now, so a write that begins after another committed sorts newer.
      const latest = bucket.versioning === undefined ? undefined : await this.d.committer.latestEntry(target.bucket, target.key);
      const version = versionFieldsFor(bucket.versioning, versionTimeAfter(startedAt, latest));
      const fields: PartRecordFields = () => {
        const checksum = meta.checksum?.();
        return {
          kind: 'object',
          key: target.key,
          // The format's null version is ''; a versioned write seals its own id.
          versionId: version.versionId === undefined || version.versionId === 'null' ? '' : version.versionId,
          uploadId: '',
          partCount: 1,
          contentType: meta.contentType,
          headers: presentHeaders(meta.headers),
          userMetadata: meta.userMetadata,
          createdAt: startedAt,
          writtenAt: this.d.now(),
          keyChosen: choice.chosen,
          ...(checksum ? { checksum } : {}),
        };
      };
      return await writePendingPart(this.d, owner, dataKey.plaintext, id, plaintext, blobMetadata(wrapped, 1), fields, async (part) => {
        const now = this.d.now();
        const checksum = meta.checksum?.();
        const record: ObjectRecord = {
          ...wrapped,
          key: target.key,
          size: part.plaintextSize,
          etag: part.etag,
          contentType: meta.contentType,
          headers: meta.headers,
          userMetadata: meta.userMetadata,
          lastModified: now,
          wrappedAt: now,
          parts: [part],
          mac: computeObjectMac(dataKey.plaintext, target.bucket, objectId, [part]),
          nameTag: nameTag(dataKey.plaintext, target.bucket, target.key, objectId, version.versionId),
          ...(choice.chosen ? { keyChosen: true } : {}),
          ...(checksum ? { sealedChecksum: sealChecksum(dataKey.plaintext, { objectId }, checksum) } : {}),
          ...version,
        };
        await this.d.hooks?.afterBlobWrite?.(part.blobId);
        await this.d.committer.commit(record, { preconditions, newBlobs: [part.blobId], ...(bucket.versioning ? { versioning: bucket.versioning } : {}) });
        return record;
      });
    } finally {
      dataKey.plaintext.fill(0);
    }
  }
}
