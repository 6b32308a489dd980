// The SQLite index's writer thread: the one connection that writes, off the event loop. Every transaction that
// arrives while a commit is on disk joins the next one (group commit): each keeps its own all-or-nothing
// outcome through a savepoint, and the whole batch costs one fsync of the WAL.
import { parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import { ConditionNotMet, openIndexDatabase, writeStatements, type EncodedOp } from './sqlite-schema';

export interface WriteRequest {
  readonly id: number;
  readonly ops: readonly EncodedOp[];
}

export type WriteOutcome =
  | { readonly id: number; readonly ok: true }
  | { readonly id: number; readonly ok: false; readonly kind: 'condition' | 'error'; readonly message: string; readonly code?: string };

export type ToWriter = { readonly requests: readonly WriteRequest[] } | { readonly close: true };
export interface FromWriter {
  readonly outcomes: readonly WriteOutcome[];
  /** Commits so far and the transactions they carried: how well commits are grouped. */
  readonly commits: number;
  readonly transactions: number;
}

/** Transactions committed together at most; more wait for the next commit. */
const MAX_BATCH = 512;

function run(file: string): void {
  const port = parentPort;
  if (port === null) throw new Error('the SQLite writer runs in a worker thread');
  const db = openIndexDatabase(file, 'writer');
  const statements = writeStatements(db);
  const begin = db.prepare('BEGIN IMMEDIATE');
  const commit = db.prepare('COMMIT');
  const rollback = db.prepare('ROLLBACK');
  let commits = 0;
  let transactions = 0;

  const commitBatch = (batch: WriteRequest[]): WriteOutcome[] => {
    const outcomes: WriteOutcome[] = [];
    begin.run();
    try {
      for (const request of batch) {
        db.exec('SAVEPOINT t');
        try {
          statements.apply(request.ops);
          db.exec('RELEASE t');
          outcomes.push({ id: request.id, ok: true });
        } catch (e) {
          db.exec('ROLLBACK TO t');
          db.exec('RELEASE t');
          if (e instanceof ConditionNotMet) outcomes.push({ id: request.id, ok: false, kind: 'condition', message: e.message });
          else throw e;
        }
      }
      commit.run();
      commits += 1;
      transactions += batch.length;
      return outcomes;
    } catch (e) {
      if (db.inTransaction) rollback.run();
      const err = e as Error & { code?: string };
      // Nothing of the batch committed; each transaction fails with the cause (disk full, I/O error).
      return batch.map((r) => ({ id: r.id, ok: false as const, kind: 'error' as const, message: err.message, ...(err.code ? { code: err.code } : {}) }));
    }
  };

  let closing = false;
  const take = (message: ToWriter, into: WriteRequest[]) => {
    if ('close' in message) closing = true;
    else into.push(...message.requests);
  };
  port.on('message', (first: ToWriter) => {
    const pending: WriteRequest[] = [];
    take(first, pending);
    // Everything already queued joins this commit.
    for (let next = receiveMessageOnPort(port); next !== undefined; next = receiveMessageOnPort(port)) take(next.message as ToWriter, pending);
    for (let start = 0; start < pending.length; start += MAX_BATCH) {
      const outcomes = commitBatch(pending.slice(start, start + MAX_BATCH));
      port.postMessage({ outcomes, commits, transactions } satisfies FromWriter);
    }
    if (closing) {
      db.close();
      port.close();
    }
  });
}

const data = workerData as { sqliteWriterFile?: string } | null;
if (data?.sqliteWriterFile !== undefined) run(data.sqliteWriterFile);
