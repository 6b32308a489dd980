// The blob sweep: every blob the ledger lists and no object references is deleted — pending blobs of writers
// that died between blob write and commit (older than a grace period), and all garbage (replaced or deleted
// objects, aborted uploads, replaced parts).
import { ConditionFailedError } from './errors';
import type { Garbage } from './garbage';
import { walk } from './index-walk';
import type { Logger } from './logger';
import type { BlobStore, RecordIndex } from './ports';
import { ledgerFromItem, ledgerPartitions, type LedgerRecord } from './records';

export interface SweepResult {
  readonly blobsDeleted: number;
  readonly ledgerEntriesCleared: number;
}

export interface LedgerSweepDeps {
  readonly index: RecordIndex;
  readonly blobs: BlobStore;
  readonly garbage: Garbage;
  readonly now: () => Date;
  readonly logger?: Logger;
}

/** Pending entries younger than `olderThanMs` may belong to a write still in flight and are kept. */
export async function sweepLedger(d: LedgerSweepDeps, olderThanMs: number): Promise<SweepResult> {
  await d.garbage.settle();
  const cutoff = d.now().getTime() - olderThanMs;
  const result = { blobsDeleted: 0, ledgerEntriesCleared: 0 };
  for (const pk of ledgerPartitions()) {
    for await (const item of walk(d.index, pk)) await sweepEntry(d, pk, ledgerFromItem(item), cutoff, result);
  }
  return result;
}

async function sweepEntry(d: LedgerSweepDeps, pk: string, entry: LedgerRecord, cutoff: number, result: { blobsDeleted: number; ledgerEntriesCleared: number }): Promise<void> {
  const clear = async (kind: string): Promise<void> => {
    try {
      await d.index.delete(pk, entry.blobId, { kind: 'equals', attr: 'kind', value: kind });
      result.ledgerEntriesCleared++;
    } catch (e) {
      if (!(e instanceof ConditionFailedError)) throw e;
    }
  };
  if (entry.kind === 'pending' && entry.createdAt.getTime() > cutoff) return;
  if (entry.kind === 'pending' && (await d.garbage.pendingIsLive(entry))) {
    // Committed after all (its entry came back from an old copy of the ledger): drop the entry, keep the blob.
    d.logger?.warn('pending ledger entry names a blob in use; keeping the blob', { blobId: entry.blobId });
    await clear('pending');
    return;
  }
  if (entry.kind === 'manifest' && entry.objectId !== undefined) {
    result.blobsDeleted += await d.garbage.collectManifest(entry.objectId, pk);
    result.ledgerEntriesCleared++;
    return;
  }
  await d.blobs.delete(entry.blobId);
  result.blobsDeleted++;
  await clear(entry.kind);
}
