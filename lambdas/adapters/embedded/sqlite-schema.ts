// The SQLite index file: its one table, its pragmas, and how one transaction of conditional writes is applied.
// Shared by the reading connection (main thread) and the writing one (the writer thread).
import { chmodSync } from 'node:fs';
import Database from 'better-sqlite3';
import type { AttrValue, Condition } from '../../core/ports';
import { decodeAttrs } from './attr-codec';

/*
 * Keys are stored as BLOBs of their UTF-8 bytes. SQLite compares BLOBs with memcmp, which is exactly the
 * binary UTF-8 order DynamoDB and S3 list in, and it lets a prefix become a byte range
 * [prefix, successor(prefix)) that the primary key serves without a scan (LIKE would need a full scan,
 * and a TEXT successor is not always valid UTF-8).
 */
export const utf8 = (s: string): Buffer => Buffer.from(s, 'utf8');

export interface Row {
  pk: Buffer;
  sk: Buffer;
  gsi1pk: Buffer | null;
  gsi1sk: Buffer | null;
  attrs: string;
}

/** One write as it travels to the writer thread: keys as text, attributes already encoded. */
export type EncodedOp =
  | {
      readonly op: 'put';
      readonly pk: string;
      readonly sk: string;
      readonly gsi1pk: string | null;
      readonly gsi1sk: string | null;
      readonly attrs: string;
      readonly condition?: Condition;
    }
  | { readonly op: 'delete'; readonly pk: string; readonly sk: string; readonly condition?: Condition };

/**
 * Opens the index file and keeps all three of its files (the database, -wal, -shm) private: 0600, including ones
 * an older version created 0644. The mode is set right after SQLite creates the file and before WAL mode makes it
 * create the other two, which take the database file's mode. The file is never opened here by hand: closing any
 * descriptor of a file drops every POSIX lock this process holds on it, SQLite's included.
 */
export function openIndexDatabase(file: string, role: 'reader' | 'writer'): Database.Database {
  const db = new Database(file);
  for (const f of [file, `${file}-wal`, `${file}-shm`]) {
    try {
      chmodSync(f, 0o600);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
  }
  // WAL lets readers run beside the single writer; synchronous=FULL fsyncs the WAL on every commit, so a
  // committed write survives power loss, not only a process crash. The writer thread batches commits.
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('busy_timeout = 5000');
  db.exec(`
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
  // The reading connection never writes once the table exists; this makes a bug that tried fail loudly.
  if (role === 'reader') db.pragma('query_only = true');
  return db;
}

/** Thrown inside a transaction when a condition does not hold; the caller maps it to the port's error. */
export class ConditionNotMet extends Error {}

function holds(condition: Condition | undefined, existing: Row | undefined): boolean {
  if (condition === undefined) return true;
  switch (condition.kind) {
    case 'absent':
      return existing === undefined;
    case 'present':
      return existing !== undefined;
    case 'equals': {
      // Strict: the string '7' does not equal the number 7, as in DynamoDB.
      const value: AttrValue | undefined = existing === undefined ? undefined : decodeAttrs(existing.attrs)[condition.attr];
      return value === condition.value;
    }
  }
}

/** The writer's statements and how one logical transaction is applied with them. */
export function writeStatements(db: Database.Database) {
  const get = db.prepare<[Buffer, Buffer], Row>('SELECT pk, sk, gsi1pk, gsi1sk, attrs FROM items WHERE pk = ? AND sk = ?');
  const put = db.prepare<[Buffer, Buffer, Buffer | null, Buffer | null, string]>('INSERT OR REPLACE INTO items (pk, sk, gsi1pk, gsi1sk, attrs) VALUES (?, ?, ?, ?, ?)');
  const remove = db.prepare<[Buffer, Buffer]>('DELETE FROM items WHERE pk = ? AND sk = ?');
  return {
    /** Applies every op in order; throws ConditionNotMet (naming the op) when a condition fails. */
    apply(ops: readonly EncodedOp[]): void {
      for (const op of ops) {
        const pk = utf8(op.pk);
        const sk = utf8(op.sk);
        if (op.condition !== undefined && !holds(op.condition, get.get(pk, sk))) {
          throw new ConditionNotMet(`${op.op} ${op.pk} ${op.sk}: condition ${op.condition.kind} failed`);
        }
        if (op.op === 'put') put.run(pk, sk, op.gsi1pk === null ? null : utf8(op.gsi1pk), op.gsi1sk === null ? null : utf8(op.gsi1sk), op.attrs);
        else remove.run(pk, sk);
      }
    },
  };
}
