// The main thread's side of the SQLite writer thread: sends each transaction over, and settles its promise when
// the commit that carried it is on disk. Nothing here blocks the event loop.
import { Worker } from 'node:worker_threads';
import { ConditionFailedError, InternalError } from '../../core/errors';
import { diskFull, isDiskFull } from './disk-errors';
import type { EncodedOp } from './sqlite-schema';
import type { FromWriter, ToWriter, WriteOutcome, WriteRequest } from './sqlite-writer-thread';

/** How well commits are grouped: transactions per fsync of the WAL. */
export interface WriterStats {
  readonly commits: number;
  readonly transactions: number;
}

export class SqliteWriter {
  private readonly worker: Worker;
  private readonly waiting = new Map<number, { resolve(): void; reject(e: Error): void }>();
  private nextId = 1;
  private failure: Error | undefined;
  private exited: Promise<void>;
  private latest: WriterStats = { commits: 0, transactions: 0 };
  /** Transactions written in this turn of the event loop: they cross to the thread in one message. */
  private outbox: WriteRequest[] = [];

  constructor(file: string) {
    // The thread runs TypeScript source, as every entry point here does (tsx, no build step). It loads tsx itself:
    // inheriting the parent's execArgv would start a second ES-module loader thread where the parent used one.
    const code = `require(${JSON.stringify(require.resolve('tsx/cjs'))}); require(${JSON.stringify(require.resolve('./sqlite-writer-thread'))});`;
    this.worker = new Worker(code, { eval: true, execArgv: [], workerData: { sqliteWriterFile: file }, resourceLimits: { maxYoungGenerationSizeMb: 4 } });
    this.worker.on('message', (message: FromWriter) => {
      this.latest = { commits: message.commits, transactions: message.transactions };
      for (const outcome of message.outcomes) this.settle(outcome);
    });
    this.worker.on('error', (e) => this.fail(new InternalError(`the index writer thread failed: ${e.message}`)));
    this.exited = new Promise((resolve) => this.worker.once('exit', () => resolve()));
    this.worker.once('exit', () => this.fail(new InternalError('the index writer thread has stopped')));
  }

  stats(): WriterStats {
    return this.latest;
  }

  /** Commits `ops` as one all-or-nothing transaction; rejects with ConditionFailedError when a condition fails. */
  write(ops: readonly EncodedOp[]): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise<void>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      if (this.outbox.length === 0) setImmediate(() => this.flush());
      this.outbox.push({ id, ops });
    });
  }

  /** Lets every sent transaction finish, then stops the thread. */
  async close(): Promise<void> {
    this.flush();
    if (!this.failure) this.worker.postMessage({ close: true } satisfies ToWriter);
    await this.exited;
  }

  private flush(): void {
    if (this.outbox.length === 0) return;
    const requests = this.outbox;
    this.outbox = [];
    if (this.failure) {
      for (const r of requests) this.settle({ id: r.id, ok: false, kind: 'error', message: this.failure.message });
      return;
    }
    this.worker.postMessage({ requests } satisfies ToWriter);
  }

  private settle(outcome: WriteOutcome): void {
    const waiter = this.waiting.get(outcome.id);
    if (waiter === undefined) return;
    this.waiting.delete(outcome.id);
    if (outcome.ok) waiter.resolve();
    else if (outcome.kind === 'condition') waiter.reject(new ConditionFailedError(outcome.message));
    else waiter.reject(storageFailure(outcome.message, outcome.code));
  }

  private fail(error: Error): void {
    this.failure ??= error;
    for (const waiter of this.waiting.values()) waiter.reject(error);
    this.waiting.clear();
  }
}

/** A failed commit: a full disk is the operator's to fix and worth retrying after; anything else is internal. */
function storageFailure(message: string, code: string | undefined): Error {
  if (isDiskFull(code, message)) return diskFull('the object index');
  return new InternalError(`the index could not commit: ${message}`);
}
