// Ending uploads: abort, the clean-up after a completion, and the sweep that finishes what a crash interrupted.
// Every step that moves blobs between "referenced" and "garbage" rides in an index transaction with the ledger,
// so a crash at any point leaves work the sweep can finish, never a leaked or a lost blob.
import { ConditionalRequestConflictError, ConditionFailedError } from './errors';
import type { Garbage } from './garbage';
import { walk } from './index-walk';
import type { Logger } from './logger';
import { deleteManifestChunks } from './manifest';
import { objectVersionWithId } from './versions';
import type { RecordIndex, WriteOp } from './ports';
import {
  ledgerItem,
  uploadedPartFromItem,
  uploadFromItem,
  uploadItem,
  uploadPartsPk,
  uploadSk,
  uploadsPk,
  type BucketRecord,
  type UploadedPartRecord,
  type UploadRecord,
} from './records';
import { COMPLETED_UPLOAD_RETENTION_MS, decodePartRanges, noSuchUpload, stateCondition, type UploadRecords } from './uploads';

/** Part items cleaned up per transaction: a delete and a ledger put each, within the 100-write cap. */
const CLEANUP_BATCH = 50;
const ABORT_ATTEMPTS = 3;

export interface UploadSweepResult {
  /** Idle uploads aborted now. */
  readonly aborted: number;
  /** Aborts and completions a crash had interrupted, finished now. */
  readonly finished: number;
}

export interface UploadCleanupDeps {
  readonly index: RecordIndex;
  readonly uploads: UploadRecords;
  readonly garbage: Garbage;
  readonly now: () => Date;
  readonly logger?: Logger;
}

export class UploadCleanup {
  constructor(private readonly d: UploadCleanupDeps) {}

  async abort(bucket: string, key: string, uploadId: string): Promise<void> {
    for (let attempt = 0; attempt < ABORT_ATTEMPTS; attempt++) {
      const upload = await this.d.uploads.get(bucket, key, uploadId);
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
        await this.d.index.put(uploadItem(aborting), stateCondition(upload));
      } catch (e) {
        if (e instanceof ConditionFailedError) return false;
        throw e;
      }
    }
    await this.finishAborted(aborting);
    return true;
  }

  /**
   * Drops the part items of a completed upload; parts the object does not use become garbage. The upload item
   * itself stays, marked completed with the object's ETag, so that a retried CompleteMultipartUpload gets the same
   * answer; the sweep removes it after COMPLETED_UPLOAD_RETENTION_MS (at once for the store's own hidden uploads,
   * which nobody retries). A completed item accepts no part, abort or other completion.
   */
  async finishCompleted(upload: UploadRecord): Promise<boolean> {
    const used = decodePartRanges(upload.usedParts ?? '');
    await this.drainParts(upload, (p) => !used.has(p.partNumber));
    const kept = !upload.hidden && upload.completedEtag !== undefined && this.d.now().getTime() - upload.lastActivity.getTime() < COMPLETED_UPLOAD_RETENTION_MS;
    if (!kept) await this.deleteUploadItem(upload, 'completed');
    return !kept;
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
    // Latest or noncurrent: with versioning, a completed object may since have become an older version.
    return (await objectVersionWithId(this.d.index, upload.bucket, upload.key, upload.objectId)) !== undefined;
  }

  /** Deletes every part item, a batch per transaction, turning the blobs `isGarbage` picks into garbage. */
  private async drainParts(upload: UploadRecord, isGarbage: (p: UploadedPartRecord) => boolean): Promise<void> {
    const partsPk = uploadPartsPk(upload.uploadId);
    for await (const page of walk(this.d.index, partsPk, { pageSize: CLEANUP_BATCH }).pages()) {
      if (page.items.length === 0) continue;
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

  /**
   * Ends every upload a deleted bucket still holds, as S3 drops a deleted bucket's multipart uploads: open ones are
   * aborted (their part blobs crypto-shredded), completed ones lose their kept row (a copy of the object's wrapped key
   * that would otherwise outlive the bucket) at once. Only uploads initiated by `initiatedBefore` (the deletion):
   * a bucket of the same name created since is someone else's, and so are its uploads.
   */
  async removeAll(bucket: string, initiatedBefore: Date): Promise<number> {
    let ended = 0;
    for await (const item of walk(this.d.index, uploadsPk(bucket))) {
      const u = uploadFromItem(item);
      if (u.initiated.getTime() > initiatedBefore.getTime()) continue;
      if (u.state === 'completed') {
        const used = decodePartRanges(u.usedParts ?? '');
        await this.drainParts(u, (p) => !used.has(p.partNumber));
        await this.deleteUploadItem(u, 'completed');
      } else if (u.state === 'aborting') {
        await this.finishAborted(u);
      } else if (!(await this.abortRecord(u))) {
        continue; // it changed under us (a part, a completion): the upload sweep ends it later
      }
      ended++;
    }
    return ended;
  }

  /** Aborts uploads idle past `maxAgeMs` (a stuck completion counts as idle) and finishes interrupted ones. */
  async sweep(buckets: readonly BucketRecord[], maxAgeMs: number): Promise<UploadSweepResult> {
    const cutoff = this.d.now().getTime() - maxAgeMs;
    let aborted = 0;
    let finished = 0;
    for (const bucket of buckets) {
      for await (const item of walk(this.d.index, uploadsPk(bucket.name))) {
        const u = uploadFromItem(item);
        if (u.state === 'completed') {
          if (await this.finishCompleted(u)) finished++;
        } else if (u.state === 'aborting') {
          await this.finishAborted(u);
          finished++;
        } else if (u.lastActivity.getTime() <= cutoff && (await this.abortRecord(u))) {
          aborted++;
        }
      }
    }
    return { aborted, finished };
  }
}
