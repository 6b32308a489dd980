// `sealstore recover --rebuild-index`: rebuilds an empty index from the blob store and the key vault alone
// (docs/RECOVERY.md). Works in bounded batches from a checkpoint row, so each admin call fits a Lambda's 15 minutes,
// an interruption loses at most one batch, and replaying a batch changes nothing (every write is idempotent).
import { withBlobRecord } from '../blob-record';
import {
  BlobNotFoundError,
  ConditionFailedError,
  IntegrityError,
  InvalidRequestError,
  KmsAccessDeniedError,
  KmsDisabledError,
  KmsInvalidStateError,
  KmsNotFoundError,
} from '../errors';
import type { Garbage } from '../garbage';
import { walk, walkGsi1 } from '../index-walk';
import type { Logger } from '../logger';
import { loadParts } from '../manifest';
import type { BlobMetadata, BlobStore, IndexItem, KeyVault, RecordIndex } from '../ports';
import { BUCKETS_GSI1PK, LEGACY_BUCKETS_PK, anyVersionFromItem, bucketFromItem, isDeleteMarker, objectsPk, versionIdOf, versionsPk, type ObjectRecord, type VersionRecord } from '../records';
import { deleteMarker, multipartObject, singlePartObject } from './rebuild-row';
import { NULL_VERSION_ID } from '../version-ids';
import { ensureBucket, publishVersion } from './publish';
import {
  CHECKPOINT_SK,
  checkpointFromItem,
  checkpointItem,
  emptyCounters,
  RECOVERY_PK,
  REPORT_PK,
  reportFromItem,
  reportItem,
  STAGED_PARTS_PK,
  stagedPartFromItem,
  stagedPartItem,
  type Checkpoint,
  type Counters,
  type Phase,
  type ReportEntry,
  type StagedPart,
} from './state';

export const DEFAULT_RECOVERY_BATCH = 500;
export const MAX_RECOVERY_BATCH = 1000;
/** Blobs opened at once: each is a HEAD, two small GETs and one KMS Decrypt. */
const CONCURRENCY = 8;

export interface RecoveryDeps {
  /** The authenticated index (every row written here gets its MAC under the new index key). */
  readonly index: RecordIndex;
  readonly blobs: BlobStore;
  readonly vault: KeyVault;
  /** Only its ledger ops are used: a superseded object's blobs go back to the garbage ledger. */
  readonly garbage: Garbage;
  /** Makes a CMK that wraps recovered objects known to the key lifecycle (KeyLifecycle.adopt: standby). */
  readonly registerKey: (keyId: string) => Promise<unknown>;
  readonly now: () => Date;
  readonly logger?: Logger;
}

export interface RecoveryProgress extends Counters {
  readonly phase: Phase;
  readonly done: boolean;
  readonly startedAt: string;
  readonly finishedAt?: string;
}

export interface ReportPage {
  readonly entries: ReportEntry[];
  readonly nextCursor?: string;
}

/** What one blob turned out to be, built while its data key was open. */
type Rebuilt = { readonly kind: 'object'; readonly record: VersionRecord; readonly keyId: string } | { readonly kind: 'part'; readonly part: StagedPart; readonly keyId: string };

export class IndexRecovery {
  private readonly registered = new Set<string>();
  /** Buckets written by this process, and whether with versioning. */
  private readonly buckets = new Map<string, boolean>();

  constructor(private readonly d: RecoveryDeps) {}

  /** Where a run stands, or undefined when none has started. */
  async progress(): Promise<RecoveryProgress | undefined> {
    const item = await this.d.index.get(RECOVERY_PK, CHECKPOINT_SK);
    return item ? view(checkpointFromItem(item)) : undefined;
  }

  /**
   * One batch: `limit` blobs of the scan, or `limit` staged parts of the last phase, then the checkpoint. The first
   * call refuses an index that holds any bucket (rebuilding into a live index would mix two truths); later calls
   * resume from the checkpoint. A finished run answers its summary.
   */
  async runBatch(limit = DEFAULT_RECOVERY_BATCH): Promise<RecoveryProgress> {
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_RECOVERY_BATCH) throw new InvalidRequestError(`batch must be 1..${MAX_RECOVERY_BATCH}`);
    const cp = (await this.checkpoint()) ?? (await this.start());
    if (cp.phase === 'done') return view(cp);
    const counters: Counters = { ...cp.counters, reported: { ...cp.counters.reported } };
    let next: Checkpoint;
    if (cp.phase === 'scan') {
      const page = await this.d.blobs.list(cp.blobCursor, limit);
      await pool(page.blobIds, CONCURRENCY, (blobId) => this.recoverBlob(blobId, counters));
      counters.scanned += page.blobIds.length;
      next = page.next !== undefined ? { ...cp, blobCursor: page.next, counters } : { ...cp, phase: 'parts', counters };
    } else {
      const page = await this.d.index.query(STAGED_PARTS_PK, { limit, ...(cp.partsCursor !== undefined ? { startAfter: cp.partsCursor } : {}) });
      for (const item of page.items) await this.judgePart(stagedPartFromItem(item), counters);
      next = page.lastKey !== undefined ? { ...cp, partsCursor: page.lastKey, counters } : await this.finish(cp);
    }
    return view(await this.save(cp, next));
  }

  /** The report rows (blobs not restored), a page at a time in blob id order. */
  async report(cursor?: string, limit = MAX_RECOVERY_BATCH): Promise<ReportPage> {
    const page = await this.d.index.query(REPORT_PK, { limit: Math.min(Math.max(limit, 1), MAX_RECOVERY_BATCH), ...(cursor !== undefined ? { startAfter: cursor } : {}) });
    return { entries: page.items.map(reportFromItem), ...(page.lastKey !== undefined ? { nextCursor: page.lastKey } : {}) };
  }

  private async checkpoint(): Promise<Checkpoint | undefined> {
    const item = await this.d.index.get(RECOVERY_PK, CHECKPOINT_SK);
    return item ? checkpointFromItem(item) : undefined;
  }

  private async start(): Promise<Checkpoint> {
    const anyBucket = (await this.d.index.queryGsi1(BUCKETS_GSI1PK, { limit: 1 })).items.length > 0 || (await this.d.index.query(LEGACY_BUCKETS_PK, { limit: 1 })).items.length > 0;
    if (anyBucket) {
      throw new InvalidRequestError(
        'This index already holds buckets: recover --rebuild-index rebuilds into an empty index only (it never mixes blobs into a live one). Point it at an emptied index; see docs/RECOVERY.md.',
      );
    }
    const cp: Checkpoint = { phase: 'scan', startedAt: this.d.now(), counters: emptyCounters(), version: 0 };
    try {
      await this.d.index.put(checkpointItem(cp), { kind: 'absent' });
      return cp;
    } catch (e) {
      if (!(e instanceof ConditionFailedError)) throw e;
      return (await this.checkpoint()) ?? cp; // another call started the run first: join it
    }
  }

  /** Conditional on the checkpoint this batch started from: two concurrent runs cannot both advance it. */
  private async save(from: Checkpoint, next: Checkpoint): Promise<Checkpoint> {
    const saved = { ...next, version: from.version + 1 };
    try {
      await this.d.index.put(checkpointItem(saved), { kind: 'equals', attr: 'version', value: from.version });
    } catch (e) {
      if (!(e instanceof ConditionFailedError)) throw e;
      throw new InvalidRequestError('Another recover run advanced the checkpoint meanwhile; run one at a time (this batch is safe to replay).');
    }
    return saved;
  }

  private async recoverBlob(blobId: string, counters: Counters): Promise<void> {
    let rebuilt: Rebuilt;
    try {
      rebuilt = await withBlobRecord(this.d.blobs, this.d.vault, blobId, async (opened, dataKey): Promise<Rebuilt> => {
        const r = opened.record;
        if (r.kind === 'upload-part') {
          return { kind: 'part', keyId: opened.keyId, part: { blobId, bucket: r.bucket, key: r.key, objectId: r.objectId, uploadId: r.uploadId, partNumber: r.partNumber } };
        }
        if (r.kind === 'marker') return { kind: 'object', keyId: opened.keyId, record: deleteMarker(opened, dataKey, blobId) };
        const record = r.kind === 'object' ? singlePartObject(opened, dataKey, blobId) : await multipartObject(this.d.blobs, opened, dataKey, blobId);
        return { kind: 'object', keyId: opened.keyId, record };
      });
    } catch (e) {
      if (e instanceof BlobNotFoundError) return; // shredded since it was listed
      const entry = await this.unopenable(blobId, e);
      await this.d.index.put(reportItem(entry));
      counters.reported[entry.reason]++;
      return;
    }
    if (!this.registered.has(rebuilt.keyId)) {
      await this.d.registerKey(rebuilt.keyId);
      this.registered.add(rebuilt.keyId);
    }
    if (rebuilt.kind === 'part') {
      await this.d.index.put(stagedPartItem(rebuilt.part));
      return;
    }
    const { record } = rebuilt;
    // A version with an id proves versioning was Enabled; a null marker only that the bucket had versioning (its row
    // then carries version state, which the write path reads as at least Suspended).
    await ensureBucket(this.d.index, this.buckets, record.bucket, record.lastModified, versionIdOf(record) !== NULL_VERSION_ID);
    const outcome = await publishVersion({ index: this.d.index, garbage: this.d.garbage, now: this.d.now }, record);
    if (outcome === 'superseded') {
      counters.reported.superseded++;
      return;
    }
    if (isDeleteMarker(record)) return; // not an object: finish() counts objects and versions only
    counters.objects++;
    if (record.manifestBlobId !== undefined) counters.multipart++;
    if (record.versionId !== undefined) counters.versions++;
  }

  /** A report entry for a blob that did not open; errors that say nothing of the blob (throttling, outages) rethrow. */
  private async unopenable(blobId: string, e: unknown): Promise<ReportEntry> {
    const message = e instanceof Error ? e.message : String(e);
    let reason: ReportEntry['reason'];
    if (e instanceof KmsDisabledError || e instanceof KmsInvalidStateError || e instanceof KmsNotFoundError || e instanceof KmsAccessDeniedError) reason = 'key-unavailable';
    else if (e instanceof IntegrityError) reason = /carries no (metadata record|sealstore metadata)/.test(message) ? 'no-record' : 'tampered';
    else throw e;
    // Where the blob says it belongs: its store metadata, unauthenticated (it did not open), for the operator only.
    const metadata: BlobMetadata = await this.d.blobs.head(blobId).then((h) => h.metadata, () => ({}));
    const bucket = metadata['sealstore-bucket'];
    const objectId = metadata['sealstore-object-id'];
    this.d.logger?.warn('recover: blob not restored', { blobId, reason, error: message });
    return { blobId, reason, detail: message, ...(bucket !== undefined ? { bucket: safeDecode(bucket) } : {}), ...(objectId !== undefined ? { objectId } : {}) };
  }

  /** A part blob is part of an object iff the object restored at its key has its id and lists it. */
  private async judgePart(p: StagedPart, counters: Counters): Promise<void> {
    const named = (await this.versionOf(p)) !== undefined;
    if (!named) {
      await this.d.index.put(
        reportItem({
          blobId: p.blobId,
          reason: 'unfinished-upload',
          detail: `part ${p.partNumber} of multipart upload ${p.uploadId}: no completed object names it (the upload was still open or aborted, the completion left the part out, or its manifest did not open); not restored`,
          bucket: p.bucket,
          key: p.key,
          objectId: p.objectId,
        }),
      );
      counters.reported['unfinished-upload']++;
    }
    await this.d.index.delete(STAGED_PARTS_PK, p.blobId);
  }

  /** The restored version of the part's key that has the part's object id and lists its blob, if any. */
  private async versionOf(p: StagedPart): Promise<ObjectRecord | undefined> {
    const lists = async (item: IndexItem | undefined): Promise<ObjectRecord | undefined> => {
      const v = item ? anyVersionFromItem(item) : undefined;
      if (v === undefined || isDeleteMarker(v) || v.objectId !== p.objectId) return undefined;
      return (await loadParts(this.d.index, v)).parts.some((part) => part.blobId === p.blobId) ? v : undefined;
    };
    const latest = await this.d.index.get(objectsPk(p.bucket), p.key);
    if (latest === undefined) return undefined;
    const found = await lists(latest);
    if (found) return found;
    for await (const row of walk(this.d.index, versionsPk(p.bucket, p.key), { pageSize: 100 })) {
      const v = await lists(row);
      if (v) return v;
    }
    return undefined;
  }

  /** The exact figures, counted from what the index now holds (a replayed batch may have counted twice). */
  private async finish(cp: Checkpoint): Promise<Checkpoint> {
    const counters = emptyCounters();
    counters.scanned = cp.counters.scanned;
    for await (const bucketRow of walkGsi1(this.d.index, BUCKETS_GSI1PK, { pageSize: 1000 })) {
      const bucket = bucketFromItem(bucketRow).name;
      for await (const row of walk(this.d.index, objectsPk(bucket), { pageSize: 1000 })) {
        const count = (r: IndexItem) => {
          if (r.attrs['deleteMarker'] === true) return;
          counters.objects++;
          if (typeof r.attrs['manifestBlobId'] === 'string') counters.multipart++;
          if (typeof r.attrs['versionId'] === 'string' && r.attrs['versionId'] !== 'null') counters.versions++;
        };
        count(row);
        if (typeof row.attrs['noncurrent'] === 'number' && row.attrs['noncurrent'] > 0) {
          for await (const version of walk(this.d.index, versionsPk(bucket, row.sk), { pageSize: 1000 })) count(version);
        }
      }
    }
    for await (const row of walk(this.d.index, REPORT_PK, { pageSize: 1000 })) counters.reported[reportFromItem(row).reason]++;
    return { ...cp, phase: 'done', finishedAt: this.d.now(), counters };
  }
}

function view(cp: Checkpoint): RecoveryProgress {
  return {
    phase: cp.phase,
    done: cp.phase === 'done',
    startedAt: cp.startedAt.toISOString(),
    ...(cp.finishedAt ? { finishedAt: cp.finishedAt.toISOString() } : {}),
    ...cp.counters,
  };
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** Runs `work` over `items`, at most `n` at once; the first failure rejects (after the running ones settle). */
async function pool<T>(items: readonly T[], n: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const errors: unknown[] = [];
  const runner = async (): Promise<void> => {
    while (next < items.length && errors.length === 0) {
      const item = items[next++] as T;
      try {
        await work(item);
      } catch (e) {
        errors.push(e);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, runner));
  if (errors.length > 0) throw errors[0];
}
