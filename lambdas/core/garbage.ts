// The blob ledger's garbage side: which ledger writes retire an object's blobs, and deleting what they retired.
import { ConditionFailedError } from './errors';
import { objectVersionWithId } from './versions';
import type { Logger } from './logger';
import { deleteManifestChunks, manifestBlobIds } from './manifest';
import type { BlobStore, RecordIndex, WriteOp } from './ports';
import {
  extraBlobIds,
  isDeleteMarker,
  ledgerPk,
  ledgerItem,
  manifestGarbageItem,
  manifestLedgerSk,
  markerBlobIds,
  uploadPartSk,
  uploadPartsPk,
  type LedgerRecord,
  type PendingOwner,
  type VersionRecord,
} from './records';

/** Garbage blobs deleted per batch; their ledger entries go in one transaction (the index caps one at 100 writes). */
const COLLECT_BATCH = 64;

export class Garbage {
  private readonly queued: string[] = [];
  private readonly queuedManifests: string[] = [];
  private draining: Promise<void> | undefined;

  constructor(
    private readonly blobs: BlobStore,
    private readonly index: RecordIndex,
    private readonly logger?: Logger,
  ) {}

  /**
   * Deletes what opsFor retired, after the caller has answered: a replaced object's blobs go in the background,
   * in batches whose ledger entries leave in one transaction. The ledger already lists them (durably), so a
   * stop before this finishes only leaves work for the sweep. DELETE does not use this: it shreds at once.
   */
  collectLater(record: VersionRecord): void {
    if (isDeleteMarker(record)) this.queued.push(...markerBlobIds(record));
    else if (record.manifest) this.queuedManifests.push(record.objectId);
    else this.queued.push(...record.parts.map((p) => p.blobId));
    if (!isDeleteMarker(record)) this.queued.push(...extraBlobIds(record));
    this.startDrain();
  }

  private startDrain(): void {
    this.draining ??= this.drain().finally(() => {
      this.draining = undefined;
      // Work queued after drain() saw empty queues but before this ran would otherwise wait for the next write.
      if (this.queued.length > 0 || this.queuedManifests.length > 0) this.startDrain();
    });
  }

  /** Resolves when every collection queued so far is done (the sweep, tests and shutdown wait for it). */
  async settle(): Promise<void> {
    while (this.draining) await this.draining;
  }

  private async drain(): Promise<void> {
    for (;;) {
      const manifest = this.queuedManifests.shift();
      if (manifest !== undefined) {
        try {
          await this.collectManifest(manifest);
        } catch (e) {
          this.logger?.warn('garbage manifest left for the sweep', { objectId: manifest, error: String(e) });
        }
        continue;
      }
      const batch = this.queued.splice(0, COLLECT_BATCH);
      if (batch.length === 0) return;
      await this.collectBatch(batch);
    }
  }

  /** Deletes the blobs at once, then the ledger entries of those deleted in one transaction; failures are logged. */
  private async collectBatch(blobIds: readonly string[]): Promise<void> {
    const deleted: string[] = [];
    await Promise.all(
      blobIds.map(async (blobId) => {
        try {
          await this.blobs.delete(blobId);
          deleted.push(blobId);
        } catch (e) {
          this.logger?.warn('garbage blob left for the sweep', { blobId, error: String(e) });
        }
      }),
    );
    if (deleted.length === 0) return;
    try {
      await this.index.transact(deleted.map((blobId): WriteOp => ({ op: 'delete', pk: ledgerPk(blobId), sk: blobId })));
    } catch (e) {
      // The blobs are gone; the sweep will find their entries and delete nothing twice.
      this.logger?.warn('garbage ledger entries left for the sweep', { count: deleted.length, error: String(e) });
    }
  }

  /**
   * Ledger writes that retire every blob of `record`, to ride in the transaction that unlinks it. A chunked
   * manifest retires with one entry whatever its part count, which keeps a 10,000-part replace atomic. A delete
   * marker retires its record-only blob (none for a marker from before markers had one).
   */
  opsFor(record: VersionRecord, now: Date): WriteOp[] {
    const garbage = (blobId: string): WriteOp => ({ op: 'put', item: ledgerItem({ blobId, kind: 'garbage', createdAt: now }) });
    if (isDeleteMarker(record)) return markerBlobIds(record).map(garbage);
    const extra = extraBlobIds(record).map(garbage);
    if (record.manifest) return [{ op: 'put', item: manifestGarbageItem(record.objectId, now) }, ...extra];
    return [...record.parts.map((p) => garbage(p.blobId)), ...extra];
  }

  /** Deletes what opsFor retired; failures are logged and left to the sweep. */
  async collectObject(record: VersionRecord): Promise<void> {
    if (isDeleteMarker(record)) return this.collect(markerBlobIds(record));
    await this.collect(extraBlobIds(record));
    if (record.manifest) {
      try {
        await this.collectManifest(record.objectId);
      } catch (e) {
        this.logger?.warn('garbage manifest left for the sweep', { objectId: record.objectId, error: String(e) });
      }
      return;
    }
    await this.collect(record.parts.map((p) => p.blobId));
  }

  /**
   * Records a blob about to be written as pending, so that a writer dying before its commit leaves an orphan the
   * sweep finds. Returns at once: the caller streams the body meanwhile and hands the promise to the blob store
   * as `beforePublish`, so the entry is durable before the blob can be. The returned promise never goes
   * unhandled: a failure surfaces where the caller awaits it.
   */
  recordPending(blobId: string, now: Date, owner: PendingOwner): Promise<void> {
    const written = this.index.put(ledgerItem({ blobId, kind: 'pending', createdAt: now, owner }));
    written.catch(() => undefined);
    return written;
  }

  /**
   * Discards the blobs of a write that failed, but only those still pending. A commit consumes the pending
   * entry in its transaction, so if the commit landed and only its reply was lost (a timeout), the
   * conditional delete fails and the blob, now live, is kept. Removing the entry first also makes a commit
   * still in flight fail rather than publish a blob we are about to delete. If the index cannot be reached,
   * nothing is deleted: the sweep decides later, from the ledger.
   */
  async discardPending(blobIds: readonly string[]): Promise<void> {
    for (const blobId of blobIds) {
      try {
        await this.index.delete(ledgerPk(blobId), blobId, { kind: 'equals', attr: 'kind', value: 'pending' });
      } catch (e) {
        if (!(e instanceof ConditionFailedError)) this.logger?.warn('pending blob left for the sweep', { blobId, error: String(e) });
        continue;
      }
      try {
        await this.blobs.delete(blobId);
      } catch (e) {
        // The ledger no longer lists it: an orphan that costs storage, never correctness.
        this.logger?.warn('discarded blob could not be deleted', { blobId, error: String(e) });
      }
    }
  }

  /**
   * Whether a pending blob is in use after all: a single PUT's object holds it (its object id is fresh per write,
   * so an object row with it is that very write); a part's completed object lists it among its parts (the object
   * id is the upload's, shared by every part written to it, so only the part list can tell); or its upload still
   * lists it as the part. An entry that should be gone (put back from an old copy of the ledger) then costs
   * nothing but itself, and a part whose writer died before its commit is still collected.
   */
  async pendingIsLive(entry: LedgerRecord): Promise<boolean> {
    const owner = entry.owner;
    if (owner === undefined) return false;
    // Latest or noncurrent: a version of the key may hold it (./versions).
    const record = await objectVersionWithId(this.index, owner.bucket, owner.key, owner.objectId);
    if (record !== undefined) {
      if (owner.uploadId === undefined || isDeleteMarker(record)) return owner.uploadId === undefined;
      const blobIds = record.manifest ? await manifestBlobIds(this.index, record.objectId) : record.parts.map((p) => p.blobId);
      if (blobIds.includes(entry.blobId)) return true;
    }
    if (owner.uploadId === undefined || owner.partNumber === undefined) return false;
    const part = await this.index.get(uploadPartsPk(owner.uploadId), uploadPartSk(owner.partNumber));
    return part?.attrs['blobId'] === entry.blobId;
  }

  /** Deletes blobs recorded as garbage, then their ledger entries, in batches; failures are left to the sweep. */
  async collect(blobIds: readonly string[]): Promise<void> {
    for (let start = 0; start < blobIds.length; start += COLLECT_BATCH) await this.collectBatch(blobIds.slice(start, start + COLLECT_BATCH));
  }

  /** Blobs first, then the chunks that list them, then the ledger entry: a crash anywhere leaves it resumable. */
  /** `ledgerPartition`: where the sweep found the entry (a store from before the ledger was sharded has one more). */
  async collectManifest(objectId: string, ledgerPartition = ledgerPk(manifestLedgerSk(objectId))): Promise<number> {
    const blobIds = await manifestBlobIds(this.index, objectId);
    for (const blobId of blobIds) await this.blobs.delete(blobId);
    await deleteManifestChunks(this.index, objectId);
    try {
      await this.index.delete(ledgerPartition, manifestLedgerSk(objectId), { kind: 'equals', attr: 'kind', value: 'manifest' });
    } catch (e) {
      if (!(e instanceof ConditionFailedError)) throw e;
    }
    return blobIds.length;
  }
}
