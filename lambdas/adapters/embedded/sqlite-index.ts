// The RecordIndex port on an embedded SQLite file (better-sqlite3): ordered, transactional, crash-safe. Reads run on
// the calling thread (WAL readers never wait for the writer); writes go to one writer thread that commits
// concurrent transactions together, so no fsync ever blocks the event loop.
import type Database from 'better-sqlite3';
import type { Condition, IndexItem, RecordIndex, QueryOptions, QueryPage, WriteOp } from '../../core/ports';
import { decodeAttrs, encodeAttrs } from './attr-codec';
import { openIndexDatabase, utf8, type EncodedOp, type Row } from './sqlite-schema';
import { SqliteWriter, type WriterStats } from './sqlite-writer';

/** The same bound on one transaction as DynamoDB TransactWriteItems, so both adapters accept the same work. */
const MAX_TRANSACT_OPS = 100;

/** The smallest byte string greater than every string starting with `prefix`, or undefined if none. */
function prefixSuccessor(prefix: Buffer): Buffer | undefined {
  const bytes = Buffer.from(prefix);
  for (let i = bytes.length - 1; i >= 0; i--) {
    // UTF-8 never contains 0xFF, but the loop stays correct for any bytes.
    if (bytes[i] !== 0xff) {
      bytes[i] = (bytes[i] ?? 0) + 1;
      return bytes.subarray(0, i + 1);
    }
  }
  return undefined;
}

/** The opaque secondary-index cursor: the full sort position (gsi1sk, pk, sk) of the last item returned. */
function encodeGsiCursor(row: Row): string {
  return Buffer.from(JSON.stringify([row.gsi1sk?.toString('utf8') ?? '', row.pk.toString('utf8'), row.sk.toString('utf8')])).toString(
    'base64url',
  );
}

function decodeGsiCursor(cursor: string): [Buffer, Buffer, Buffer] {
  const parsed: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!Array.isArray(parsed) || parsed.length !== 3 || !parsed.every((p) => typeof p === 'string')) {
    throw new RangeError('invalid queryGsi1 startAfter cursor');
  }
  const [gsk, pk, sk] = parsed as [string, string, string];
  return [utf8(gsk), utf8(pk), utf8(sk)];
}

function toItem(row: Row): IndexItem {
  const base = { pk: row.pk.toString('utf8'), sk: row.sk.toString('utf8'), attrs: decodeAttrs(row.attrs) };
  if (row.gsi1pk === null && row.gsi1sk === null) return base;
  return {
    ...base,
    ...(row.gsi1pk === null ? {} : { gsi1pk: row.gsi1pk.toString('utf8') }),
    ...(row.gsi1sk === null ? {} : { gsi1sk: row.gsi1sk.toString('utf8') }),
  };
}

function encodePut(item: IndexItem, condition: Condition | undefined): EncodedOp {
  return {
    op: 'put',
    pk: item.pk,
    sk: item.sk,
    gsi1pk: item.gsi1pk ?? null,
    gsi1sk: item.gsi1sk ?? null,
    attrs: encodeAttrs(item.attrs),
    ...(condition === undefined ? {} : { condition }),
  };
}

function encodeDelete(pk: string, sk: string, condition: Condition | undefined): EncodedOp {
  return { op: 'delete', pk, sk, ...(condition === undefined ? {} : { condition }) };
}

function checkLimit(options: QueryOptions): void {
  if (!Number.isInteger(options.limit) || options.limit < 1) throw new RangeError('query limit must be a positive integer');
}

export class SqliteRecordIndex implements RecordIndex {
  private readonly db: Database.Database;
  private readonly stmts: ReturnType<SqliteRecordIndex['prepare']>;
  private readonly writer: SqliteWriter;

  constructor(file: string) {
    this.db = openIndexDatabase(file, 'reader');
    this.stmts = this.prepare();
    this.writer = new SqliteWriter(file);
  }

  private prepare() {
    const db = this.db;
    return {
      get: db.prepare<[Buffer, Buffer], Row>('SELECT pk, sk, gsi1pk, gsi1sk, attrs FROM items WHERE pk = ? AND sk = ?'),
      query: db.prepare<{ pk: Buffer; lo: Buffer | null; hi: Buffer | null; after: Buffer | null; n: number }, Row>(`
        SELECT pk, sk, gsi1pk, gsi1sk, attrs FROM items
        WHERE pk = :pk
          AND (:lo IS NULL OR sk >= :lo)
          AND (:hi IS NULL OR sk < :hi)
          AND (:after IS NULL OR sk > :after)
        ORDER BY sk LIMIT :n`),
      queryGsi1: db.prepare<
        { gpk: Buffer; lo: Buffer | null; hi: Buffer | null; agsk: Buffer | null; apk: Buffer | null; ask: Buffer | null; n: number },
        Row
      >(`
        SELECT pk, sk, gsi1pk, gsi1sk, attrs FROM items
        WHERE gsi1pk = :gpk AND gsi1sk IS NOT NULL
          AND (:lo IS NULL OR gsi1sk >= :lo)
          AND (:hi IS NULL OR gsi1sk < :hi)
          AND (:agsk IS NULL OR (gsi1sk, pk, sk) > (:agsk, :apk, :ask))
        ORDER BY gsi1sk, pk, sk LIMIT :n`),
    };
  }

  /** Waits for every write sent so far, stops the writer thread, closes the file. */
  async close(): Promise<void> {
    await this.writer.close();
    this.db.close();
  }

  /** Commits and the transactions they carried since open: transactions per fsync is the group-commit gain. */
  writerStats(): WriterStats {
    return this.writer.stats();
  }

  async get(pk: string, sk: string): Promise<IndexItem | undefined> {
    const row = this.stmts.get.get(utf8(pk), utf8(sk));
    return row === undefined ? undefined : toItem(row);
  }

  async put(item: IndexItem, condition?: Condition): Promise<void> {
    return this.writer.write([encodePut(item, condition)]);
  }

  async delete(pk: string, sk: string, condition?: Condition): Promise<void> {
    return this.writer.write([encodeDelete(pk, sk, condition)]);
  }

  async query(pk: string, options: QueryOptions): Promise<QueryPage> {
    checkLimit(options);
    const lo = options.prefix === undefined ? null : utf8(options.prefix);
    const hi = lo === null ? null : prefixSuccessor(lo) ?? null;
    const after = options.startAfter === undefined ? null : utf8(options.startAfter);
    // One extra row tells whether another page exists, so lastKey is only set when more items follow.
    const rows = this.stmts.query.all({ pk: utf8(pk), lo, hi, after, n: options.limit + 1 });
    const page = rows.slice(0, options.limit);
    const last = page[page.length - 1];
    return rows.length > options.limit && last !== undefined
      ? { items: page.map(toItem), lastKey: last.sk.toString('utf8') }
      : { items: page.map(toItem) };
  }

  async queryGsi1(gsi1pk: string, options: QueryOptions): Promise<QueryPage> {
    checkLimit(options);
    const lo = options.prefix === undefined ? null : utf8(options.prefix);
    const hi = lo === null ? null : prefixSuccessor(lo) ?? null;
    const [agsk, apk, ask] = options.startAfter === undefined ? [null, null, null] : decodeGsiCursor(options.startAfter);
    const rows = this.stmts.queryGsi1.all({ gpk: utf8(gsi1pk), lo, hi, agsk, apk, ask, n: options.limit + 1 });
    const page = rows.slice(0, options.limit);
    const last = page[page.length - 1];
    return rows.length > options.limit && last !== undefined
      ? { items: page.map(toItem), lastKey: encodeGsiCursor(last) }
      : { items: page.map(toItem) };
  }

  async transact(ops: readonly WriteOp[]): Promise<void> {
    if (ops.length > MAX_TRANSACT_OPS) throw new RangeError(`a transaction holds at most ${MAX_TRANSACT_OPS} operations`);
    return this.writer.write(ops.map((op) => (op.op === 'put' ? encodePut(op.item, op.condition) : encodeDelete(op.pk, op.sk, op.condition))));
  }
}
