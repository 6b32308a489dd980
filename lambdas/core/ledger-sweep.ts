// The blob sweep: every blob the ledger lists and no object references is deleted — pending blobs of writers
// that died between blob write and commit (older than a grace period), and all garbage (replaced or deleted
// objects, aborted uploads, replaced parts).
import { ConditionFailedError } from './errors';
import type { Garbage } from './garbage';
import { walk } from './index-walk';
import type { Logger } from './logger';
import type { BlobStore, RecordIndex } from './ports';
import { LEDGER_PK, ledgerFromItem } from './records';

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
  let blobsDeleted = 0;
  let ledgerEntriesCleared = 0;
  const clear = async (blobId: string, kind: string): Promise<void> => {
    try {
      await d.index.delete(LEDGER_PK, blobId, { kind: 'equals', attr: 'kind', value: kind });
      ledgerEntriesCleared++;
    } catch (e) {
      if (!(e instanceof ConditionFailedError)) throw e;
    }
  };
  for await (const item of walk(d.index, LEDGER_PK)) {
    const entry = ledgerFromItem(item);
    if (entry.kind === 'pending' && entry.createdAt.getTime() > cutoff) continue;
    if (entry.kind === 'pending' && (await d.garbage.pendingIsLive(entry))) {
      // Committed after all (its entry came back from an old copy of the ledger): drop the entry, keep the blob.
      d.logger?.warn('pending ledger entry names a blob in use; keeping the blob', { blobId: entry.blobId });
      await clear(entry.blobId, 'pending');
      continue;
    }
    if (entry.kind === 'manifest' && entry.objectId !== undefined) {
      blobsDeleted += await d.garbage.collectManifest(entry.objectId);
      ledgerEntriesCleared++;
      continue;
    }
    await d.blobs.delete(entry.blobId);
    blobsDeleted++;
    await clear(entry.blobId, entry.kind);
  }
  return { blobsDeleted, ledgerEntriesCleared };
}
