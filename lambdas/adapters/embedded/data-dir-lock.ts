// One owner per data directory. Two servers on one directory would each cache the key database and the index's
// state and overwrite each other (a CMK one created, erased by the other). Rule it never breaks: nothing in the
// directory is read for use, created or changed before this lock is held, and it is held until close.
//
// The lock is an exclusive SQLite lock (an fcntl lock underneath) on <dataDir>/lock: the kernel drops it when
// the holder exits or is killed, so a crash never leaves a stale lock behind, and it works across processes and
// between two opens in one process alike. <dataDir>/lock.owner names the holder for the refusal message.
import { chmodSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';

const LOCK_FILE = 'lock';
const OWNER_FILE = 'lock.owner';

/** Another process holds the directory; the message names it and says what to do. */
export class DataDirLockedError extends Error {
  constructor(
    readonly dataDir: string,
    readonly holderPid: number | undefined,
  ) {
    super(
      `the data directory ${dataDir} is in use by another sealstore server (${holderPid === undefined ? 'pid unknown' : `pid ${holderPid}`}); ` +
        'stop that server first, or give this one its own --data-dir',
    );
  }
}

export interface DataDirLock {
  release(): void;
}

interface Owner {
  readonly pid: number;
  readonly host: string;
  readonly since: string;
}

function readOwner(dataDir: string): Owner | undefined {
  try {
    const parsed: unknown = JSON.parse(readFileSync(join(dataDir, OWNER_FILE), 'utf8'));
    if (typeof parsed === 'object' && parsed !== null && typeof (parsed as Owner).pid === 'number') return parsed as Owner;
  } catch {
    // No owner file yet (the holder is between its lock and its note), or it is unreadable: the pid is unknown.
  }
  return undefined;
}

/** Takes the directory's lock or throws DataDirLockedError at once (it never waits for the holder). */
export function lockDataDir(dataDir: string): DataDirLock {
  const file = join(dataDir, LOCK_FILE);
  // SQLite opens (and creates) the file itself. Never open it by hand: closing any descriptor of the file would
  // drop every fcntl lock this process holds on it, so a refused second open in this process would silently
  // free the first holder's lock.
  const db = new Database(file, { timeout: 0 });
  try {
    // BEGIN EXCLUSIVE takes the file's exclusive lock now and keeps it while the transaction is open. Nothing
    // is ever written, so the file stays empty; the journal lives in memory, so no other file appears.
    db.pragma('journal_mode = MEMORY');
    db.exec('BEGIN EXCLUSIVE');
  } catch (e) {
    db.close();
    if ((e as { code?: string }).code === 'SQLITE_BUSY') throw new DataDirLockedError(dataDir, readOwner(dataDir)?.pid);
    throw e;
  }
  chmodSync(file, 0o600);
  const owner: Owner = { pid: process.pid, host: hostname(), since: new Date().toISOString() };
  const temp = join(dataDir, `${OWNER_FILE}.${process.pid}.tmp`);
  writeFileSync(temp, `${JSON.stringify(owner)}\n`, { mode: 0o600 });
  renameSync(temp, join(dataDir, OWNER_FILE));
  let held = true;
  return {
    release: () => {
      if (!held) return;
      held = false;
      // The owner note stays (it names the last holder); only the lock decides, and closing drops it.
      db.close();
    },
  };
}
