// Syncs and index commits per PUT, counted by the sealstore server itself: how much durability each write costs,
// and how well concurrent writes share it (group commit of the index, shared directory fsyncs).
import type { ChildServer } from './child-server';
import { round } from './stats';
import { pool, type BenchTarget } from './targets';

export interface SyncsPerPut {
  readonly size: string;
  readonly puts: number;
  /** fdatasync of each blob file before its rename. */
  readonly blobFileSyncs: number;
  /** fsync of a blob directory after renames (shared by renames that land while one is on its way). */
  readonly blobDirectorySyncs: number;
  /** SQLite commits, each one fsync of the WAL (synchronous=FULL), carrying several requests' transactions. */
  readonly indexCommits: number;
  readonly indexTransactions: number;
}

const PUTS = 200;

export async function measureSyncs(server: ChildServer, target: BenchTarget, label: string, bytes: number): Promise<SyncsPerPut> {
  const body = Buffer.alloc(bytes, 7);
  // Overwrites, as in the throughput runs: each PUT also retires (and later shreds) the version it replaces.
  await pool(PUTS, 8, (i) => target.put(`syncs-${label}-${i}`, body));
  const before = await server.syncCounts();
  await pool(PUTS, 8, (i) => target.put(`syncs-${label}-${i}`, body));
  await new Promise((resolve) => setTimeout(resolve, 500)); // background shredding of the replaced versions
  const after = await server.syncCounts();
  if (!before || !after) throw new Error('the server reports no sync counts');
  const per = (field: keyof typeof before) => round((after[field] - before[field]) / PUTS, 2);
  return {
    size: label,
    puts: PUTS,
    blobFileSyncs: per('blobFileSyncs'),
    blobDirectorySyncs: per('blobDirectorySyncs'),
    indexCommits: per('indexCommits'),
    indexTransactions: per('indexTransactions'),
  };
}
