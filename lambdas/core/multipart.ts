// Multipart upload's write path: one data key per upload, parts sealed and stored independently, and a
// completion that publishes the object atomically, through the one object commit, however many parts it has.
// The states an upload moves through are described in ./uploads; ending and cleaning up is ./upload-cleanup.
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import type { Buckets } from './buckets';
import { sealedChecksum } from './etag';
import { multipartChecksum, multipartChecksumType, openChecksum, sealChecksum, type StoredChecksum } from './object-checksum';
import {
  BadDigestError,
  ConditionalRequestConflictError,
  ConditionFailedError,
  EntityTooSmallError,
  InternalError,
  InvalidPartError,
  InvalidPartOrderError,
  InvalidRequestError,
  SlowDownError,
} from './errors';
import { computeObjectMac, encodeManifestBody, MANIFEST_PART_NUMBER } from './format';
import { newObjectId } from './ids';
import type { Logger } from './logger';
import { withManifestShape, writeManifestChunks } from './manifest';
import { nameTag } from './name-binding';
import { backoff, versionFieldsFor, versionTimeAfter, type ObjectCommitter, type WritePreconditions } from './object-commit';
import type { ObjectMeta, ObjectTarget } from './object-writer';
import { openRange } from './part-reader';
import { presentHeaders, writePendingPart, type PartRecordFields, type PendingPartDeps } from './part-writer';
import type { KeyVault, RecordIndex, WriteOp } from './ports';
import {
  ledgerPk,
  ledgerItem,
  uploadedPartFromItem,
  uploadedPartItem,
  uploadItem,
  uploadPartSk,
  uploadPartsPk,
  type ObjectRecord,
  type PartRecord,
  type StoredHeaders,
  type UploadedPartRecord,
  type UploadRecord,
} from './records';
import { blobMetadata, dataKeyContext, openStoredDataKey } from './sealing-context';
import type { UploadCleanup } from './upload-cleanup';
import { chooseWriteKey, type WriteKeys } from './write-keys';
import { allParts } from './upload-listing';
import { COMPLETION_LEASE_MS, encodePartRanges, MIN_PART_SIZE, multipartEtag, newUploadId, noSuchUpload, stateCondition, stripPart, type UploadRecords } from './uploads';

const PART_COMMIT_ATTEMPTS = 8;
const LEASE_ATTEMPTS = 3;

export interface MultipartDeps extends PendingPartDeps {
  readonly vault: KeyVault;
  readonly keys: WriteKeys;
  readonly index: RecordIndex;
  readonly buckets: Buckets;
  readonly uploads: UploadRecords;
  readonly cleanup: UploadCleanup;
  readonly committer: ObjectCommitter;
  /** Smallest non-last part a completion accepts; MIN_PART_SIZE when omitted. */
  readonly minPartSize?: number;
  readonly logger?: Logger;
}

export interface CreateUploadInput {
  readonly bucket: string;
  readonly key: string;
  readonly contentType?: string;
  readonly headers?: StoredHeaders;
  readonly userMetadata?: Readonly<Record<string, string>>;
  /** The CMK the client asked for, as sent; else the bucket's default or the active one. */
  readonly requestedKey?: string;
  /** x-amz-checksum-algorithm: parts must carry this checksum, and the object gets one made from theirs. */
  readonly checksumAlgorithm?: string;
  /** x-amz-checksum-type (COMPOSITE or FULL_OBJECT); S3's default for the algorithm when absent. */
  readonly checksumType?: string;
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
  /** A whole-object checksum the client sent with the completion (x-amz-checksum-*), checked before publishing. */
  readonly checksum?: PartChecksum;
  /** x-amz-checksum-type of the completion; must be the upload's. */
  readonly checksumType?: string;
}

/** What CompleteMultipartUpload answers: the object, and its checksum when the upload asked for one. */
export interface CompletedUpload extends Pick<ObjectRecord, 'bucket' | 'key' | 'objectId' | 'etag' | 'keyId' | 'versionId'> {
  readonly checksum?: StoredChecksum;
}

export interface CopyPartsInput extends ObjectTarget, ObjectMeta {
  readonly source: ObjectRecord;
  /** The source's unwrapped data key, MAC already verified. */
  readonly sourceKey: Buffer;
  readonly preconditions: WritePreconditions;
}

/** A part as UploadPart answers it: the stored part, and the CMK of its upload (S3 names it in the response). */
export type StoredPart = UploadedPartRecord & { readonly keyId: string };

export class MultipartUploads {
  constructor(private readonly d: MultipartDeps) {}

  // ---- create and upload ---------------------------------------------------------------------

  /** One GenerateDataKey for the whole upload; only the wrapped key is kept. */
  async create(input: CreateUploadInput): Promise<UploadRecord> {
    if (input.checksumType !== undefined && input.checksumAlgorithm === undefined) {
      throw new InvalidRequestError('The x-amz-checksum-type header can only be used with the x-amz-checksum-algorithm header.');
    }
    if (input.checksumAlgorithm !== undefined) multipartChecksumType(input.checksumAlgorithm, input.checksumType);
    const { upload, dataKey } = await this.open(input, false);
    dataKey.fill(0);
    return upload;
  }

  private async open(input: CreateUploadInput, hidden: boolean): Promise<{ upload: UploadRecord; dataKey: Buffer }> {
    const bucket = await this.d.buckets.head(input.bucket);
    const objectId = newObjectId();
    const choice = await chooseWriteKey(this.d.keys, bucket, input.requestedKey);
    const dataKey = await this.d.vault.generateDataKey(choice.keyId, dataKeyContext(input.bucket, objectId));
    const now = this.d.now();
    const upload: UploadRecord = {
      bucket: input.bucket,
      key: input.key,
      uploadId: newUploadId(now),
      objectId,
      keyId: dataKey.keyId,
      keyMaterialId: dataKey.keyMaterialId,
      wrappedKey: dataKey.wrapped,
      ...(choice.chosen ? { keyChosen: true } : {}),
      contentType: input.contentType ?? 'binary/octet-stream',
      headers: input.headers ?? {},
      userMetadata: input.userMetadata ?? {},
      initiated: now,
      lastActivity: now,
      state: 'open',
      ...(hidden ? { hidden: true } : {}),
      ...(input.checksumAlgorithm !== undefined
        ? { checksumAlgorithm: input.checksumAlgorithm, checksumType: multipartChecksumType(input.checksumAlgorithm, input.checksumType) }
        : {}),
    };
    try {
      await this.d.index.put(uploadItem(upload), { kind: 'absent' });
    } catch (e) {
      dataKey.plaintext.fill(0);
      throw e;
    }
    return { upload, dataKey: dataKey.plaintext };
  }

  /** Unwraps the upload's data key once for this part request (one KMS Decrypt per part). */
  async uploadPart(input: UploadPartInput): Promise<StoredPart> {
    return this.uploadPartFrom(input, input.body, input.checksum);
  }

  async uploadPartFrom(
    input: Pick<UploadPartInput, 'bucket' | 'key' | 'uploadId' | 'partNumber'>,
    plaintext: () => Readable | Promise<Readable>,
    checksum?: UploadPartInput['checksum'],
  ): Promise<StoredPart> {
    const upload = await this.d.uploads.getOpen(input.bucket, input.key, input.uploadId);
    const { plaintext: dataKey } = await openStoredDataKey(this.d.vault, upload);
    try {
      return { ...(await this.storePart(upload, input.partNumber, dataKey, plaintext, checksum)), keyId: upload.keyId };
    } finally {
      dataKey.fill(0);
    }
  }

  /**
   * Seals one part into its own blob, then links it to the upload. A part number uploaded again replaces the old
   * part: its blob turns garbage in the same transaction. A fresh salt per sealing keeps nonces unique under the
   * one data key (docs/FORMAT.md §5.1).
   */
  private async storePart(
    upload: UploadRecord,
    partNumber: number,
    dataKey: Buffer,
    plaintext: () => Readable | Promise<Readable>,
    checksum?: UploadPartInput['checksum'],
  ): Promise<UploadedPartRecord> {
    const owner = { bucket: upload.bucket, key: upload.key, objectId: upload.objectId, uploadId: upload.uploadId, partNumber };
    const id = { bucket: upload.bucket, objectId: upload.objectId, partNumber };
    // The part count is unknown until completion: 0 here; recovery learns it from the completion (FORMAT.md §14.4).
    const fields: PartRecordFields = () => {
      const sent = checksum?.();
      return {
        kind: 'upload-part',
        key: upload.key,
        versionId: '',
        uploadId: upload.uploadId,
        partCount: 0,
        contentType: upload.contentType,
        headers: presentHeaders(upload.headers),
        userMetadata: upload.userMetadata,
        createdAt: upload.initiated,
        writtenAt: this.d.now(),
        keyChosen: upload.keyChosen === true,
        ...(sent ? { checksum: { algorithm: sent.algorithm, type: 'FULL_OBJECT', value: sent.value } } : {}),
      };
    };
    const { part, replaced } = await writePendingPart(this.d, owner, dataKey, id, plaintext, blobMetadata(upload, partNumber), fields, async (sealed) => {
      const sent = checksum?.();
      requireUploadChecksum(upload, sent);
      // The keyed tag stays for older code reading these rows; the sealed value serves completions and reads.
      const kept = sent
        ? {
            checksum: { algorithm: sent.algorithm, tag: sealedChecksum(dataKey, sent.algorithm, sent.value) },
            sealedChecksum: sealChecksum(dataKey, { objectId: upload.objectId, blobId: sealed.blobId }, { ...sent, type: 'FULL_OBJECT' }),
          }
        : {};
      const stored: UploadedPartRecord = { ...sealed, lastModified: this.d.now(), ...kept };
      return { part: stored, replaced: await this.commitPart(upload, stored) };
    });
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
        { op: 'delete', pk: ledgerPk(part.blobId), sk: part.blobId, condition: { kind: 'equals', attr: 'kind', value: 'pending' } },
        ...(current ? [{ op: 'put', item: ledgerItem({ blobId: current.blobId, kind: 'garbage', createdAt: now }) } as const] : []),
      ];
      try {
        await this.d.index.transact(ops);
        return current;
      } catch (e) {
        if (e instanceof ConditionalRequestConflictError) {
          // Concurrent parts of one upload all touch its item; DynamoDB cancels the overlap, a retry clears it.
          await backoff(attempt, 25);
          continue;
        }
        if (!(e instanceof ConditionFailedError)) throw e;
        const fresh = await this.d.uploads.fresh(upload);
        if (!fresh || fresh.state !== 'open') throw noSuchUpload(upload.uploadId);
        if (!(await this.d.index.get(ledgerPk(part.blobId), part.blobId))) {
          throw new InternalError('The part upload took too long and its data was swept; retry the request.');
        }
      }
    }
    throw new SlowDownError('Too many concurrent uploads of this part; retry the request.');
  }

  // ---- complete ------------------------------------------------------------------------------

  /**
   * Checks the client's part list against the stored parts, then publishes the object: the object item
   * (with its part manifest and object MAC) and the upload's "completed" mark commit in one transaction.
   */
  async complete(input: CompleteInput): Promise<CompletedUpload> {
    const upload = await this.lease(input.bucket, input.key, input.uploadId, input.parts);
    if (upload.state === 'completed' && upload.completedEtag !== undefined) {
      // A retry of a completion that succeeded (its answer was lost): the same answer, as S3 gives for a while.
      return {
        bucket: upload.bucket,
        key: upload.key,
        objectId: upload.objectId,
        etag: upload.completedEtag,
        keyId: upload.keyId,
        ...(upload.completedVersionId !== undefined ? { versionId: upload.completedVersionId } : {}),
      };
    }
    let dataKey: Buffer | undefined;
    try {
      // One Decrypt per completion: for the part checksums and the object MAC.
      dataKey = (await openStoredDataKey(this.d.vault, upload)).plaintext;
      const stored = new Map((await allParts(this.d.index, upload.uploadId)).map((p) => [p.partNumber, p] as const));
      const chosen = this.choose(input.parts, stored, dataKey);
      const checksum = this.objectChecksum(upload, input, chosen, dataKey);
      const record = await this.commitUpload(upload, chosen, input.preconditions ?? {}, dataKey, checksum);
      return {
        bucket: record.bucket,
        key: record.key,
        objectId: record.objectId,
        etag: record.etag,
        keyId: record.keyId,
        ...(record.versionId !== undefined ? { versionId: record.versionId } : {}),
        ...(checksum ? { checksum } : {}),
      };
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

  /**
   * The object's checksum from its parts' (when the upload was created with an algorithm), checked against the one
   * the client sent; a mismatch publishes nothing.
   */
  private objectChecksum(upload: UploadRecord, input: CompleteInput, chosen: readonly PartRecord[], dataKey: Buffer): StoredChecksum | undefined {
    const algorithm = upload.checksumAlgorithm;
    const type = upload.checksumType;
    if (algorithm === undefined || type === undefined) {
      if (input.checksum !== undefined || input.checksumType !== undefined) {
        throw new InvalidRequestError('The upload was created without a checksum algorithm, so the completion cannot name a whole-object checksum (x-amz-checksum-*, x-amz-checksum-type).');
      }
      return undefined;
    }
    if (input.checksumType !== undefined && input.checksumType !== type) {
      throw new InvalidRequestError(`The upload was created using the ${type} checksum mode. The complete request must use the same checksum mode.`);
    }
    if (input.checksum !== undefined && input.checksum.algorithm !== algorithm) {
      throw new InvalidRequestError(`Checksum Type mismatch occurred, expected checksum Type: ${algorithm.toLowerCase()}, actual checksum Type: ${input.checksum.algorithm.toLowerCase()}`);
    }
    const parts = chosen.map((p, i) => {
      const requested = input.parts[i];
      if (type === 'COMPOSITE' && requested?.checksums?.[algorithm] === undefined) {
        throw new InvalidRequestError(
          `The upload was created using a ${algorithm.toLowerCase()} checksum. The complete request must include the checksum for each part. It was missing for part ${p.partNumber} in the request.`,
        );
      }
      const kept = p.sealedChecksum ? openChecksum(dataKey, { objectId: upload.objectId, blobId: p.blobId }, p.sealedChecksum) : undefined;
      if (kept?.algorithm !== algorithm) {
        throw new InvalidPartError(`Part ${p.partNumber} was not uploaded with a ${algorithm} checksum, which this upload requires.`, { PartNumber: String(p.partNumber) });
      }
      return { digest: Buffer.from(kept.value, 'base64'), size: p.plaintextSize };
    });
    const computed = multipartChecksum(algorithm, type, parts);
    if (input.checksum !== undefined && input.checksum.value !== computed.value && `${input.checksum.value}-${chosen.length}` !== computed.value) {
      throw new BadDigestError(`The ${algorithm} you specified did not match the calculated checksum.`);
    }
    return computed;
  }

  /**
   * Takes the upload for one completion; an open upload stops accepting parts from here on. An upload this same
   * part list already completed comes back as it is (state 'completed'), for the caller to answer the retry.
   */
  private async lease(bucket: string, key: string, uploadId: string, parts?: readonly CompletePartRequest[]): Promise<UploadRecord> {
    for (let attempt = 0; attempt < LEASE_ATTEMPTS; attempt++) {
      const upload = await this.d.uploads.get(bucket, key, uploadId);
      if (upload.state === 'completed' && parts !== undefined && isSameCompletion(upload, parts)) return upload;
      if (upload.state === 'aborting' || upload.state === 'completed') throw noSuchUpload(uploadId);
      const now = this.d.now();
      if (upload.state === 'completing' && now.getTime() - upload.lastActivity.getTime() < COMPLETION_LEASE_MS) {
        throw new ConditionalRequestConflictError('Another CompleteMultipartUpload of this upload is in progress; retry shortly.');
      }
      const leased: UploadRecord = { ...upload, state: 'completing', completionId: randomBytes(16).toString('hex'), lastActivity: now };
      try {
        await this.d.index.put(uploadItem(leased), stateCondition(upload));
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
      await this.d.index.put(uploadItem(open), stateCondition(upload));
    } catch (e) {
      if (!(e instanceof ConditionFailedError)) this.d.logger?.warn('upload left completing for the sweep', { uploadId: upload.uploadId, error: String(e) });
    }
  }

  /**
   * Publishes the upload's object with the chosen parts. Its completion manifest (docs/FORMAT.md §14.6: the object's
   * name, metadata and part list, sealed under the upload's data key) is written first, pending in the ledger, and
   * made live by the same transaction that publishes the object, so a rebuilt index knows which parts the
   * completion chose. `dataKey` stays the caller's to zero.
   */
  private async commitUpload(
    upload: UploadRecord,
    chosen: PartRecord[],
    preconditions: WritePreconditions,
    dataKey: Buffer,
    checksum: StoredChecksum | undefined,
  ): Promise<ObjectRecord> {
    const now = this.d.now();
    // The bucket's versioning state when the completion begins decides what the object becomes (§1.2).
    const { versioning } = await this.d.buckets.head(upload.bucket);
    // Never older than the key's latest entry (see versionTimeAfter); the version's lastModified is that time too.
    const at = versioning === undefined ? now : versionTimeAfter(now, await this.d.committer.latestEntry(upload.bucket, upload.key));
    const version = versionFieldsFor(versioning, at);
    const shaped = withManifestShape({
      bucket: upload.bucket,
      key: upload.key,
      objectId: upload.objectId,
      size: chosen.reduce((sum, p) => sum + p.plaintextSize, 0),
      etag: multipartEtag(chosen),
      contentType: upload.contentType,
      headers: upload.headers,
      userMetadata: upload.userMetadata,
      lastModified: at,
      keyId: upload.keyId,
      keyMaterialId: upload.keyMaterialId,
      wrappedKey: upload.wrappedKey,
      wrappedAt: upload.initiated,
      parts: chosen,
      mac: computeObjectMac(dataKey, upload.bucket, upload.objectId, chosen),
      nameTag: nameTag(dataKey, upload.bucket, upload.key, upload.objectId, version.versionId),
      ...(upload.keyChosen ? { keyChosen: true } : {}),
      ...(checksum ? { sealedChecksum: sealChecksum(dataKey, { objectId: upload.objectId }, checksum) } : {}),
      ...version,
    });
    await writeManifestChunks(this.d.index, shaped);
    const completed: UploadRecord = {
      ...upload,
      state: 'completed',
      completionId: undefined,
      usedParts: encodePartRanges(chosen.map((p) => p.partNumber)),
      completedEtag: shaped.etag,
      ...(shaped.versionId !== undefined ? { completedVersionId: shaped.versionId } : {}),
      lastActivity: now,
    };
    // The manifest is live exactly when the object with this id stands at the key (Garbage.pendingIsLive).
    const owner = { bucket: upload.bucket, key: upload.key, objectId: upload.objectId };
    const id = { bucket: upload.bucket, objectId: upload.objectId, partNumber: MANIFEST_PART_NUMBER };
    const body = encodeManifestBody({ size: shaped.size, etag: shaped.etag, parts: chosen });
    const fields: PartRecordFields = () => ({
      kind: 'manifest',
      key: upload.key,
      // As object-writer.ts: the format's null version is ''; a versioned completion seals its own id.
      versionId: version.versionId === undefined || version.versionId === 'null' ? '' : version.versionId,
      uploadId: upload.uploadId,
      partCount: chosen.length,
      contentType: upload.contentType,
      headers: presentHeaders(upload.headers),
      userMetadata: upload.userMetadata,
      createdAt: upload.initiated,
      writtenAt: now,
      keyChosen: upload.keyChosen === true,
      ...(checksum ? { checksum } : {}),
    });
    const record = await writePendingPart(this.d, owner, dataKey, id, () => Readable.from([body]), blobMetadata(upload, MANIFEST_PART_NUMBER), fields, async (manifest) => {
      const published: ObjectRecord = { ...shaped, manifestBlobId: manifest.blobId };
      await this.d.committer.commit(published, {
        preconditions,
        newBlobs: [manifest.blobId],
        ...(versioning ? { versioning } : {}),
        extraOps: [{ op: 'put', item: uploadItem(completed), condition: stateCondition(upload) }],
        onConditionFailed: async () => {
          const fresh = await this.d.uploads.fresh(upload);
          if (!fresh || fresh.completionId !== upload.completionId) throw noSuchUpload(upload.uploadId);
        },
      });
      return published;
    });
    try {
      await this.d.cleanup.finishCompleted(completed);
    } catch (e) {
      this.d.logger?.warn('completed upload left for the sweep to clean up', { uploadId: upload.uploadId, error: String(e) });
    }
    return record;
  }

  // ---- copy ----------------------------------------------------------------------------------

  /**
   * Copies a multipart object part by part into a hidden upload under a fresh data key, then completes it.
   * Part boundaries are kept, so the copy's ETag has the source's "-N" form (its value is keyed by the new data
   * key, so it differs). Should the copy fail, the upload is aborted (or, after a crash, swept).
   */
  async copyParts(input: CopyPartsInput): Promise<ObjectRecord> {
    const { source } = input;
    const { upload, dataKey } = await this.open(
      {
        bucket: input.bucket,
        key: input.key,
        contentType: input.contentType,
        headers: input.headers,
        userMetadata: input.userMetadata,
        ...(input.requestedKey === undefined ? {} : { requestedKey: input.requestedKey }),
      },
      true,
    );
    try {
      const stored: PartRecord[] = [];
      let offset = 0;
      for (const part of source.parts) {
        const range = { start: offset, end: offset + part.plaintextSize - 1 };
        offset += part.plaintextSize;
        const plaintext = () => (part.plaintextSize === 0 ? Readable.from([]) : openRange(this.d.blobs, source, input.sourceKey, range));
        // The same bytes: the part keeps its checksum, re-sealed under the copy's key.
        const partChecksum = part.sealedChecksum ? openChecksum(input.sourceKey, { objectId: source.objectId, blobId: part.blobId }, part.sealedChecksum) : undefined;
        stored.push(stripPart(await this.storePart(upload, part.partNumber, dataKey, plaintext, () => partChecksum)));
      }
      const leased = await this.lease(upload.bucket, upload.key, upload.uploadId);
      const checksum = source.sealedChecksum ? openChecksum(input.sourceKey, { objectId: source.objectId }, source.sealedChecksum) : undefined;
      return await this.commitUpload(leased, stored, input.preconditions, dataKey, checksum);
    } catch (e) {
      try {
        await this.d.cleanup.abort(upload.bucket, upload.key, upload.uploadId);
      } catch (abortError) {
        this.d.logger?.warn('copy upload left for the sweep', { uploadId: upload.uploadId, error: String(abortError) });
      }
      throw e;
    } finally {
      dataKey.fill(0);
    }
  }
}

/** UploadPart into an upload created with x-amz-checksum-algorithm must carry that checksum, as in S3. */
function requireUploadChecksum(upload: UploadRecord, sent: PartChecksum | undefined): void {
  const expected = upload.checksumAlgorithm;
  if (expected === undefined) return;
  if (sent === undefined) {
    throw new InvalidRequestError(`The upload was created using a ${expected.toLowerCase()} checksum. Each part must carry x-amz-checksum-${expected.toLowerCase()} (as a header or an aws-chunked trailer).`);
  }
  if (sent.algorithm !== expected) {
    throw new InvalidRequestError(`Checksum Type mismatch occurred, expected checksum Type: ${expected.toLowerCase()}, actual checksum Type: ${sent.algorithm.toLowerCase()}`);
  }
}

/** A retried completion names exactly the part numbers the completed upload used. */
function isSameCompletion(upload: UploadRecord, parts: readonly CompletePartRequest[]): boolean {
  return upload.completedEtag !== undefined && upload.usedParts !== undefined && encodePartRanges(parts.map((p) => p.partNumber)) === upload.usedParts;
}
