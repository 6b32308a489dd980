// Durability helpers: fsync a directory so renames and new entries in it survive power loss.
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * Replaces `target` with `text` so that a crash leaves the old file or the new one, never a mix: a private (0600)
 * temp file beside it, fsynced, renamed over it, and the directory fsynced. The temp file is removed on failure.
 */
export async function writeFileDurably(target: string, text: string): Promise<void> {
  const temp = `${target}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    const handle = await open(temp, 'wx', 0o600);
    try {
      await handle.writeFile(text);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, target);
  } catch (err) {
    await unlink(temp).catch(() => undefined);
    throw err;
  }
  await fsyncDir(dirname(target));
}

export async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, constants.O_RDONLY);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

interface DirState {
  handle?: Promise<FileHandle>;
  /** The fsync on its way. */
  inFlight?: Promise<void>;
  /** The fsync that starts when the one in flight ends; it covers every change made before it starts. */
  next?: Promise<void>;
}

/**
 * Fsyncs directories through descriptors it keeps open, and lets concurrent callers share one fsync: a caller
 * whose change may have come after the fsync in flight began waits for the next one, which every caller that
 * arrives meanwhile joins. Each caller is covered by an fsync that started after its change.
 */
export class DirectorySyncer {
  private readonly dirs = new Map<string, DirState>();
  /** Directory fsyncs issued (each may cover many callers). */
  syncs = 0;

  sync(dir: string): Promise<void> {
    let state = this.dirs.get(dir);
    if (state === undefined) {
      state = {};
      this.dirs.set(dir, state);
    }
    const s = state;
    if (s.next) return s.next;
    if (!s.inFlight) return this.start(dir, s);
    s.next = s.inFlight.then(
      () => undefined,
      () => undefined,
    ).then(() => {
      s.next = undefined;
      return this.start(dir, s);
    });
    return s.next;
  }

  /** Closes every descriptor; a later sync opens them again. */
  async close(): Promise<void> {
    const states = [...this.dirs.values()];
    this.dirs.clear();
    await Promise.all(
      states.map(async (s) => {
        await Promise.allSettled([s.inFlight, s.next]);
        const handle = await s.handle?.catch(() => undefined);
        await handle?.close().catch(() => undefined);
      }),
    );
  }

  private start(dir: string, s: DirState): Promise<void> {
    s.handle ??= open(dir, constants.O_RDONLY);
    this.syncs += 1;
    const run = s.handle.then((h) => h.sync());
    s.inFlight = run;
    const clear = () => {
      if (s.inFlight === run) s.inFlight = undefined;
    };
    run.then(clear, () => {
      clear();
      // A failed descriptor is closed and reopened next time.
      const failed = s.handle;
      s.handle = undefined;
      void failed?.then((h) => h.close()).catch(() => undefined);
    });
    return run;
  }
}
