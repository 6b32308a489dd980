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

  const savepoint = db.prepare('SAVEPOINT t');
  const release = db.prepare('RELEASE t');
  const rollbackTo = db.prepare('ROLLBACK TO t');
  const failed = (id: number, e: unknown): WriteOutcome => {
    const err = e as Error & { code?: string };
    if (e instanceof ConditionNotMet) return { id, ok: false, kind: 'condition', message: err.message };
    return { id, ok: false, kind: 'error', message: err.message, ...(err.code ? { code: err.code } : {}) };
  };

  const commitBatch = (batch: WriteRequest[]): WriteOutcome[] => {
    const outcomes: WriteOutcome[] = [];
    try {
      begin.run();
      for (const request of batch) {
        savepoint.run();
        try {
          statements.apply(request.ops);
          release.run();
          outcomes.push({ id: request.id, ok: true });
        } catch (e) {
          // SQLite may have rolled the whole transaction back itself (SQLITE_FULL, an I/O error): then nothing of
          // the batch stands, and every transaction in it fails with this cause.
          if (!db.inTransaction) throw e;
          // Otherwise only this transaction fails; the others in the batch go on.
          rollbackTo.run();
          release.run();
          outcomes.push(failed(request.id, e));
        }
      }
      commit.run();
      commits += 1;
      transactions += batch.length;
      return outcomes;
    } catch (e) {
      if (db.inTransaction) rollback.run();
      // Nothing of the batch committed; each transaction fails with the cause (disk full, I/O error).
      return batch.map((r) => failed(r.id, e instanceof ConditionNotMet ? new Error(e.message) : e));
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
