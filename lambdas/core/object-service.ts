// The object service: the one entry point the S3 API, the admin API and the jobs use for buckets and objects.
// It wires the core's parts together and owns none of their logic:
//   buckets            ./buckets          listing            ./object-listing, ./upload-listing
//   single-part writes ./object-writer    multipart writes   ./multipart
//   the commit         ./object-commit    reads              ./object-reader
//   ending uploads     ./upload-cleanup   blob sweep         ./ledger-sweep
// Invariant: a reader sees the old object or the new one, never a half-written one, and a failure at any step
// never loses the previous object. Nothing in the core imports this module.
import type { Readable } from 'node:stream';
import { Buckets } from './buckets';
import { Garbage } from './garbage';
import type { Logger } from './logger';
import { loadParts } from './manifest';
import { MultipartUploads, type CompletedUpload, type CompleteInput, type CreateUploadInput, type PartChecksum, type StoredPart, type UploadPartInput } from './multipart';
import { openChecksum, type StoredChecksum } from './object-checksum';
import { MarkerWriter } from './marker-writer';
import { ObjectCommitter, type DeletePreconditions, type RemoveResult, type WritePreconditions } from './object-commit';
import { listObjects, type ListObjectsInput, type ListObjectsResult } from './object-listing';
import { openObject, plaintextOf, withObjectKey } from './object-reader';
import { ObjectWriter, type ObjectWriteHooks } from './object-writer';
import type { ActiveKeySource, BlobStore, ByteRange, KeyVault, RecordIndex } from './ports';
import { MethodNotAllowedError, NoSuchKeyError, NoSuchVersionError, NotImplementedError } from './errors';
import { isDeleteMarker, versionIdOf, type BucketRecord, type ObjectRecord, type StoredHeaders, type UploadRecord, type VersioningState } from './records';
import { findVersion, latestVersion } from './versions';
import { listObjectVersions, type ListVersionsInput, type ListVersionsResult } from './version-listing';
import { sweepLedger, type SweepResult } from './ledger-sweep';
import { UploadCleanup, type UploadSweepResult } from './upload-cleanup';
import { listParts, listUploads, type ListPartsInput, type ListPartsResult, type ListUploadsInput, type ListUploadsResult } from './upload-listing';
import { UploadRecords } from './uploads';
import type { ChosenKeys, WriteKeys } from './write-keys';

export type ObjectServiceHooks = ObjectWriteHooks;

export interface ObjectServiceDeps {
  readonly vault: KeyVault;
  readonly blobs: BlobStore;
  readonly index: RecordIndex;
  readonly keys: ActiveKeySource;
  /** Resolves CMKs a request or a bucket names; without it, a write that names a CMK is refused. */
  readonly chosenKeys?: ChosenKeys;
  readonly now?: () => Date;
  /** Plaintext bytes per sealed frame; the format's default when omitted. */
  readonly frameSize?: number;
  readonly hooks?: ObjectServiceHooks;
  readonly logger?: Logger;
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
  /** Cache-Control, Content-Disposition, …: kept with the object and returned on GET and HEAD. */
  readonly headers?: StoredHeaders;
  readonly userMetadata?: Readonly<Record<string, string>>;
  /** '*' makes the write create-only (S3 conditional write). */
  readonly ifNoneMatch?: string;
  /** The write succeeds only if the current object has this ETag. */
  readonly ifMatch?: string;
  /** The CMK the client named (x-amz-server-side-encryption-aws-kms-key-id), as sent. */
  readonly requestedKey?: string;
  /** The flexible checksum the body verified against, readable once it has ended; stored sealed. */
  readonly checksum?: () => PartChecksum | undefined;
}

/** What a reader may ask of an object besides its bytes; each needs the data key, so costs one KMS Decrypt. */
export interface ObjectChecksums {
  /** The whole object's checksum. */
  readonly object?: StoredChecksum;
  /** Each part's, by part number (parts uploaded with one). */
  readonly parts: ReadonlyMap<number, StoredChecksum>;
}

export interface CopyObjectInput {
  readonly source: ObjectRecord;
  readonly bucket: string;
  readonly key: string;
  /** COPY keeps the source's content type, stored headers and metadata; REPLACE takes the ones given here. */
  readonly metadataDirective: 'COPY' | 'REPLACE';
  readonly contentType?: string;
  readonly headers?: StoredHeaders;
  readonly userMetadata?: Readonly<Record<string, string>>;
  readonly preconditions?: WritePreconditions;
  /** The CMK the client named for the copy, as sent; a copy never inherits its source's CMK, as in S3. */
  readonly requestedKey?: string;
}

export type { ListObjectsInput, ListObjectsResult } from './object-listing';
export type { ListPartsInput, ListPartsResult, ListUploadsInput, ListUploadsResult } from './upload-listing';
export type { SweepResult } from './ledger-sweep';
export type { UploadSweepResult } from './upload-cleanup';
export type { DeletePreconditions, RemoveResult, WritePreconditions } from './object-commit';
export type { ListVersionsInput, ListVersionsResult, ListedVersion } from './version-listing';
export type { CompletedUpload, PartChecksum } from './multipart';
export type { StoredChecksum } from './object-checksum';

export class ObjectService {
  private readonly deps: Required<Pick<ObjectServiceDeps, 'vault' | 'blobs' | 'index'>> & { readonly now: () => Date; readonly logger?: Logger };
  private readonly garbage: Garbage;
  private readonly buckets: Buckets;
  private readonly writer: ObjectWriter;
  private readonly committer: ObjectCommitter;
  private readonly uploads: UploadRecords;
  private readonly cleanup: UploadCleanup;
  private readonly multipart: MultipartUploads;
  private readonly chosenKeys: ChosenKeys | undefined;
  private readonly activeKeys: ActiveKeySource;

  constructor(deps: ObjectServiceDeps) {
    this.chosenKeys = deps.chosenKeys;
    this.activeKeys = deps.keys;
    const now = deps.now ?? (() => new Date());
    const { vault, blobs, index, frameSize, logger } = deps;
    const keys: WriteKeys = { active: deps.keys, ...(deps.chosenKeys ? { chosen: deps.chosenKeys } : {}) };
    this.deps = { vault, blobs, index, now, logger };
    this.garbage = new Garbage(blobs, index, logger);
    this.buckets = new Buckets(index, now);
    const sealing = { blobs, garbage: this.garbage, now, frameSize };
    const markers = new MarkerWriter({ ...sealing, vault, keys, buckets: this.buckets });
    this.committer = new ObjectCommitter(index, this.garbage, now, async (bucket) => (await this.buckets.head(bucket)).versioning, markers);
    this.writer = new ObjectWriter({ ...sealing, vault, keys, buckets: this.buckets, committer: this.committer, hooks: deps.hooks });
    this.uploads = new UploadRecords(index, this.buckets);
    this.cleanup = new UploadCleanup({ index, uploads: this.uploads, garbage: this.garbage, now, logger });
    this.multipart = new MultipartUploads({
      ...sealing,
      vault,
      keys,
      index,
      buckets: this.buckets,
      uploads: this.uploads,
      cleanup: this.cleanup,
      committer: this.committer,
      minPartSize: deps.minPartSize,
      logger,
    });
  }

  // ---- buckets -------------------------------------------------------------------------------

  listBuckets(): Promise<BucketRecord[]> {
    return this.buckets.list();
  }

  /** `owner` as access.ts ownerIdOf names it; the root's when omitted. */
  createBucket(name: string, owner?: string): Promise<BucketRecord> {
    return this.buckets.create(name, owner);
  }

  headBucket(name: string): Promise<BucketRecord> {
    return this.buckets.head(name);
  }

  /**
   * Deletes an empty bucket, then ends the multipart uploads it still held (S3 deletes a bucket with uploads in
   * progress and drops them): their parts are crypto-shredded rather than left under a name nobody can list.
   */
  async deleteBucket(name: string): Promise<void> {
    const deletedAt = this.deps.now();
    await this.buckets.delete(name);
    await this.cleanup.removeAll(name, deletedAt);
  }

  /**
   * Sets (a key reference, resolved and checked here) or removes (undefined) the CMK new objects of the bucket are
   * sealed under when a request names none. Objects already stored keep their CMK, as in S3.
   */
  async setBucketDefaultKey(name: string, keyRef: string | undefined): Promise<BucketRecord> {
    await this.buckets.head(name);
    if (keyRef !== undefined && !this.chosenKeys) throw new NotImplementedError('This store cannot seal objects under a CMK of your choice.');
    const keyId = keyRef === undefined || !this.chosenKeys ? undefined : await this.chosenKeys.resolve(keyRef, 'set-bucket-default');
    return this.buckets.setDefaultKey(name, keyId);
  }

  /** PutBucketVersioning: Enabled or Suspended (a bucket never goes back to having no versioning). */
  setBucketVersioning(name: string, state: VersioningState): Promise<BucketRecord> {
    return this.buckets.setVersioning(name, state);
  }

  /** The CMK new objects go under when neither the request nor the bucket names one. */
  activeKeyId(): Promise<string> {
    return this.activeKeys.activeKeyId();
  }

  // ---- objects -------------------------------------------------------------------------------

  /**
   * The object with its whole part list: one index read (two for a noncurrent `versionId`), plus the manifest chunks
   * of a many-part object. A key whose latest entry is a delete marker is NoSuchKey with x-amz-delete-marker; a
   * marker named by its version id is 405 MethodNotAllowed, as S3 answers both.
   */
  async headObject(bucket: string, key: string, versionId?: string): Promise<ObjectRecord> {
    const latest = await latestVersion(this.deps.index, bucket, key);
    const found = versionId === undefined ? latest : await findVersion(this.deps.index, latest, bucket, key, versionId);
    if (!found) {
      await this.buckets.head(bucket);
      if (versionId !== undefined) throw new NoSuchVersionError('The specified version does not exist.', { Key: key, VersionId: versionId });
      throw new NoSuchKeyError(`The key ${key} does not exist in bucket ${bucket}.`, { Key: key });
    }
    if (isDeleteMarker(found)) {
      const headers = { 'x-amz-delete-marker': 'true', 'x-amz-version-id': versionIdOf(found), 'last-modified': found.lastModified.toUTCString() };
      if (versionId !== undefined) {
        throw new MethodNotAllowedError('The specified method is not allowed against this resource.', { Method: 'GET', ResourceType: 'DeleteMarker' }).withResponseHeaders({ ...headers, allow: 'DELETE' });
      }
      throw new NoSuchKeyError(`The key ${key} in bucket ${bucket} is deleted (its latest version is a delete marker).`, { Key: key }).withResponseHeaders(headers);
    }
    return loadParts(this.deps.index, found);
  }

  /** Seals `body` under a fresh data key and commits it; the previous object stays readable until the commit. */
  putObject(input: PutObjectInput): Promise<ObjectRecord> {
    const { checksum } = input;
    return this.writer.write(input, input, input.body, {
      contentType: input.contentType ?? 'binary/octet-stream',
      headers: input.headers ?? {},
      userMetadata: input.userMetadata ?? {},
      ...(input.requestedKey === undefined ? {} : { requestedKey: input.requestedKey }),
      ...(checksum ? { checksum: () => { const c = checksum(); return c ? { ...c, type: 'FULL_OBJECT' } : undefined; } } : {}),
    });
  }

  /**
   * Copies an object under a fresh data key: plaintext never leaves the service, and it streams part by part,
   * so a large source is never buffered. A multipart source is copied as a multipart-shaped object with the
   * same part boundaries, hence an ETag of the same "-N" form (keyed by the copy's own data key).
   */
  async copyObject(input: CopyObjectInput): Promise<ObjectRecord> {
    const { source } = input;
    await this.buckets.head(input.bucket);
    const requested = input.requestedKey === undefined ? {} : { requestedKey: input.requestedKey };
    const meta = input.metadataDirective === 'REPLACE'
      ? { contentType: input.contentType ?? 'binary/octet-stream', headers: input.headers ?? {}, userMetadata: input.userMetadata ?? {}, ...requested }
      : { contentType: source.contentType, headers: source.headers, userMetadata: source.userMetadata, ...requested };
    const preconditions = input.preconditions ?? {};
    const target = { bucket: input.bucket, key: input.key };
    return withObjectKey(this.deps.vault, source, (sourceKey) => {
      if (source.parts.length === 1 && !source.etag.includes('-')) {
        // The same bytes: the copy keeps the source's checksum, re-sealed under its own key.
        const checksum = source.sealedChecksum ? openChecksum(sourceKey, { objectId: source.objectId }, source.sealedChecksum) : undefined;
        return this.writer.write(target, preconditions, () => plaintextOf(this.deps.blobs, source, sourceKey), { ...meta, checksum: () => checksum });
      }
      return this.multipart.copyParts({ source, sourceKey, ...target, ...meta, preconditions });
    });
  }

  /**
   * Opens an object's plaintext, whole or one inclusive byte range. Everything that can fail before the
   * first byte (key unwrap, object MAC, key commitment of every part) fails here, so the caller can still
   * answer with an error status.
   */
  openObject(record: ObjectRecord, range?: ByteRange): Promise<Readable> {
    return openObject(this.deps.vault, this.deps.blobs, record, range);
  }

  /** As openObject, and the object's stored checksum with it (GET with x-amz-checksum-mode), under the one Decrypt. */
  openObjectWithChecksum(record: ObjectRecord, range?: ByteRange): Promise<{ body: Readable; checksum?: StoredChecksum }> {
    return withObjectKey(this.deps.vault, record, async (dataKey) => {
      const checksum = record.sealedChecksum ? openChecksum(dataKey, { objectId: record.objectId }, record.sealedChecksum) : undefined;
      const body = await plaintextOf(this.deps.blobs, record, dataKey, range);
      return checksum ? { body, checksum } : { body };
    });
  }

  /**
   * The stored checksums of an object (HEAD with x-amz-checksum-mode, GetObjectAttributes). They are sealed under
   * the data key, so this costs one KMS Decrypt, and none when the object has no checksum.
   */
  async objectChecksums(record: ObjectRecord): Promise<ObjectChecksums> {
    if (!record.sealedChecksum && !record.parts.some((p) => p.sealedChecksum)) return { parts: new Map() };
    return withObjectKey(this.deps.vault, record, async (dataKey) => {
      const parts = new Map<number, StoredChecksum>();
      for (const p of record.parts) {
        if (p.sealedChecksum) parts.set(p.partNumber, openChecksum(dataKey, { objectId: record.objectId, blobId: p.blobId }, p.sealedChecksum));
      }
      const object = record.sealedChecksum ? openChecksum(dataKey, { objectId: record.objectId }, record.sealedChecksum) : undefined;
      return object ? { object, parts } : { parts };
    });
  }

  /**
   * Removes the object and crypto-shreds it before answering; a missing key is not an error (S3: 204) unless the
   * delete is conditional (`ifMatch`), which is checked in the removing transaction itself.
   */
  async deleteObject(bucket: string, key: string, preconditions: DeletePreconditions = {}, versionId?: string): Promise<RemoveResult> {
    const { versioning } = await this.buckets.head(bucket);
    return this.committer.remove(bucket, key, preconditions, { ...(versioning ? { versioning } : {}), ...(versionId !== undefined ? { versionId } : {}) });
  }

  listObjects(input: ListObjectsInput): Promise<ListObjectsResult> {
    return listObjects(this.deps.index, this.buckets, input);
  }

  listObjectVersions(input: ListVersionsInput): Promise<ListVersionsResult> {
    return listObjectVersions(this.deps.index, this.buckets, input);
  }

  // ---- multipart upload ----------------------------------------------------------------------

  createMultipartUpload(input: CreateUploadInput): Promise<UploadRecord> {
    return this.multipart.create(input);
  }

  uploadPart(input: UploadPartInput): Promise<StoredPart> {
    return this.multipart.uploadPart(input);
  }

  /** UploadPartCopy: one byte range of an existing object becomes a part, re-sealed under the upload's key. */
  uploadPartCopy(input: Omit<UploadPartInput, 'body' | 'checksum'> & { source: ObjectRecord; range?: ByteRange }): Promise<StoredPart> {
    const { source } = input;
    return withObjectKey(this.deps.vault, source, (sourceKey) =>
      this.multipart.uploadPartFrom(input, () => plaintextOf(this.deps.blobs, source, sourceKey, input.range)),
    );
  }

  listParts(input: ListPartsInput): Promise<ListPartsResult> {
    return listParts(this.deps.index, this.uploads, input);
  }

  completeMultipartUpload(input: CompleteInput): Promise<CompletedUpload> {
    return this.multipart.complete(input);
  }

  abortMultipartUpload(bucket: string, key: string, uploadId: string): Promise<void> {
    return this.cleanup.abort(bucket, key, uploadId);
  }

  listMultipartUploads(input: ListUploadsInput): Promise<ListUploadsResult> {
    return listUploads(this.deps.index, this.buckets, input);
  }

  /** Aborts uploads idle for longer than `maxAgeMs` and finishes any abort or completion a crash interrupted. */
  async sweepUploads(maxAgeMs: number): Promise<UploadSweepResult> {
    return this.cleanup.sweep(await this.buckets.list(), maxAgeMs);
  }

  // ---- housekeeping --------------------------------------------------------------------------

  /** Waits for the background shredding of replaced objects queued so far. */
  settle(): Promise<void> {
    return this.garbage.settle();
  }

  /** Removes blobs no object references: pending ones older than `olderThanMs` and all garbage. */
  sweep(olderThanMs: number): Promise<SweepResult> {
    return sweepLedger({ ...this.deps, garbage: this.garbage }, olderThanMs);
  }
}
