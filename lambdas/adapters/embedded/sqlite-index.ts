// The ObjectIndex port on an embedded SQLite file (better-sqlite3): ordered, transactional, crash-safe.
import Database from 'better-sqlite3';
import type { Condition, IndexItem, ObjectIndex, QueryOptions, QueryPage, WriteOp } from '../../core/ports';
import { ConditionFailedError } from '../../core/errors';
import { decodeAttrs, encodeAttrs } from './attr-codec';

/** The same bound on one transaction as DynamoDB TransactWriteItems, so both adapters accept the same work. */
const MAX_TRANSACT_OPS = 100;

interface Row {
  pk: Buffer;
  sk: Buffer;
  gsi1pk: Buffer | null;
  gsi1sk: Buffer | null;
  attrs: string;
}

/*
 * Keys are stored as BLOBs of their UTF-8 bytes. SQLite compares BLOBs with memcmp, which is exactly the
 * binary UTF-8 order DynamoDB and S3 list in, and it lets a prefix become a byte range
 * [prefix, successor(prefix)) that the primary key serves without a scan (LIKE would need a full scan,
 * and a TEXT successor is not always valid UTF-8).
 */
const utf8 = (s: string): Buffer => Buffer.from(s, 'utf8');

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

function holds(condition: Condition | undefined, existing: Row | undefined): boolean {
  if (condition === undefined) return true;
  switch (condition.kind) {
    case 'absent':
      return existing === undefined;
    case 'present':
      return existing !== undefined;
    case 'equals':
      // Strict: the string '7' does not equal the number 7, as in DynamoDB.
      return existing !== undefined && decodeAttrs(existing.attrs)[condition.attr] === condition.value;
  }
}

function checkLimit(options: QueryOptions): void {
  if (!Number.isInteger(options.limit) || options.limit < 1) throw new RangeError('query limit must be a positive integer');
}

export class SqliteObjectIndex implements ObjectIndex {
  private readonly db: Database.Database;
  private readonly stmts: ReturnType<SqliteObjectIndex['prepare']>;

  constructor(file: string) {
    this.db = new Database(file);
    // WAL lets readers run beside the single writer; synchronous=FULL fsyncs the WAL on every commit,
    // so a committed write survives power loss, not only a process crash.
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS items (
        pk BLOB NOT NULL,
        sk BLOB NOT NULL,
        gsi1pk BLOB,
        gsi1sk BLOB,
        attrs TEXT NOT NULL,
        PRIMARY KEY (pk, sk)
      ) WITHOUT ROWID;
      CREATE INDEX IF NOT EXISTS items_gsi1 ON items (gsi1pk, gsi1sk, pk, sk);
    `);
    this.stmts = this.prepare();
  }

  private prepare() {
    const db = this.db;
    return {
      get: db.prepare<[Buffer, Buffer], Row>('SELECT pk, sk, gsi1pk, gsi1sk, attrs FROM items WHERE pk = ? AND sk = ?'),
      put: db.prepare<[Buffer, Buffer, Buffer | null, Buffer | null, string]>(
        'INSERT OR REPLACE INTO items (pk, sk, gsi1pk, gsi1sk, attrs) VALUES (?, ?, ?, ?, ?)',
      ),
      delete: db.prepare<[Buffer, Buffer]>('DELETE FROM items WHERE pk = ? AND sk = ?'),
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

  close(): void {
    this.db.close();
  }

  async get(pk: string, sk: string): Promise<IndexItem | undefined> {
    const row = this.stmts.get.get(utf8(pk), utf8(sk));
    return row === undefined ? undefined : toItem(row);
  }

  async put(item: IndexItem, condition?: Condition): Promise<void> {
    this.db.transaction(() => this.applyPut(item, condition)).immediate();
  }

  async delete(pk: string, sk: string, condition?: Condition): Promise<void> {
    this.db.transaction(() => this.applyDelete(pk, sk, condition)).immediate();
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
    // BEGIN IMMEDIATE takes the write lock up front: conditions are checked and writes applied with no
    // other writer in between, and a thrown ConditionFailedError rolls every earlier op back.
    this.db
      .transaction(() => {
        for (const op of ops) {
          if (op.op === 'put') this.applyPut(op.item, op.condition);
          else this.applyDelete(op.pk, op.sk, op.condition);
        }
      })
      .immediate();
  }

  private applyPut(item: IndexItem, condition: Condition | undefined): void {
    const pk = utf8(item.pk);
    const sk = utf8(item.sk);
    if (condition !== undefined && !holds(condition, this.stmts.get.get(pk, sk))) {
      throw new ConditionFailedError(`put ${item.pk} ${item.sk}: condition ${condition.kind} failed`);
    }
    const gpk = item.gsi1pk === undefined ? null : utf8(item.gsi1pk);
    const gsk = item.gsi1sk === undefined ? null : utf8(item.gsi1sk);
    this.stmts.put.run(pk, sk, gpk, gsk, encodeAttrs(item.attrs));
  }

  private applyDelete(pkText: string, skText: string, condition: Condition | undefined): void {
    const pk = utf8(pkText);
    const sk = utf8(skText);
    if (condition !== undefined && !holds(condition, this.stmts.get.get(pk, sk))) {
      throw new ConditionFailedError(`delete ${pkText} ${skText}: condition ${condition.kind} failed`);
    }
    this.stmts.delete.run(pk, sk);
  }
}
