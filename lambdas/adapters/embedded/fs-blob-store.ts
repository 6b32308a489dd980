// The BlobStore port on the local file system: atomic, fsync'd writes; streamed, ranged reads.
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, opendir, readFile, rename, stat, unlink, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import type { BlobInfo, BlobMetadata, BlobStore, ByteRange } from '../../core/ports';
import { BlobNotFoundError } from '../../core/errors';
import { fsyncDir } from './fs-sync';
import { KeyedMutex } from './keyed-mutex';

/*
 * Layout and atomicity.
 *
 * A blob is two files in a fan-out directory chosen by the SHA-256 of its id:
 *   <root>/ab/cd/<sha256>.<generation>.body   the bytes, never modified after rename
 *   <root>/ab/cd/<sha256>.meta                JSON: id, size, lastModified, metadata, and which body generation
 * The .meta file is the commit point. put() writes and fsyncs a new body generation under a fresh name,
 * then writes the .meta naming it (temp, fsync, rename, fsync dir), then unlinks the old generation.
 * A crash before the .meta rename leaves only an unreferenced body (no blob, or the previous version intact);
 * a crash after it leaves the new blob complete plus at worst a stray old body. So body and metadata
 * appear together or not at all. replaceMetadata() rewrites only the .meta (same atomic rename), which is
 * why rewrap never copies the body. delete() unlinks the .meta first, so the blob vanishes in one step.
 *
 * File names come from a hash, never from the id itself, so no id can reach outside the root; ids are
 * still validated so that garbage is refused early. Writers of one id are serialised inside the process
 * (the embedded server is a single process); readers need no lock: a body file is immutable and an open
 * descriptor keeps it readable even if a concurrent overwrite unlinks it.
 */

const ID_PATTERN = /^[A-Za-z0-9!_.*'()+=,@~-][A-Za-z0-9!_.*'()+=,@~/-]{0,1023}$/;
const META_SUFFIX = '.meta';
const FILE_MODE = 0o600;

interface MetaRecord {
  readonly v: 1;
  readonly blobId: string;
  readonly body: string;
  readonly size: number;
  readonly lastModified: string;
  readonly metadata: Record<string, string>;
}

function validateBlobId(blobId: string): void {
  const segments = blobId.split('/');
  if (!ID_PATTERN.test(blobId) || segments.some((s) => s === '' || s === '.' || s === '..')) {
    throw new RangeError(`invalid blob id: ${JSON.stringify(blobId.slice(0, 80))}`);
  }
}

const isNotFound = (err: unknown): boolean => (err as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';

async function unlinkIfPresent(file: string): Promise<void> {
  try {
    await unlink(file);
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
}

export class FsBlobStore implements BlobStore {
  private readonly writers = new KeyedMutex();

  constructor(private readonly rootDir: string) {}

  async put(blobId: string, body: Readable, metadata: BlobMetadata): Promise<{ size: number }> {
    validateBlobId(blobId);
    const { dir, base } = this.locate(blobId);
    await this.ensureDir(dir);
    // Stream the body to its own generation file first, outside the lock: uploads of one id may overlap,
    // the last one to commit its .meta wins, as on S3. The generation name is fresh and unreferenced until
    // the .meta names it, so it needs no temp name: a torn write is only a stray file.
    const generation = randomBytes(8).toString('hex');
    const bodyFile = join(dir, `${base}.${generation}.body`);
    let size = 0;
    const handle = await open(bodyFile, 'wx', FILE_MODE);
    try {
      for await (const chunk of body) {
        const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
        // write() may accept fewer bytes than offered; loop so no byte of the body is silently dropped.
        for (let offset = 0; offset < bytes.length; ) {
          offset += (await handle.write(bytes, offset, bytes.length - offset)).bytesWritten;
        }
        size += bytes.length;
      }
      await handle.sync();
      await handle.close();
      // The body's directory entry must be durable before any .meta can name it.
      await fsyncDir(dir);
    } catch (err) {
      await handle.close().catch(() => undefined);
      await unlinkIfPresent(bodyFile);
      throw err;
    }

    return this.writers.run(blobId, async () => {
      const previous = await this.readMeta(dir, base);
      try {
        await this.writeMeta(dir, base, {
          v: 1,
          blobId,
          body: generation,
          size,
          lastModified: new Date().toISOString(),
          metadata: { ...metadata },
        });
      } catch (err) {
        await unlinkIfPresent(bodyFile);
        throw err;
      }
      if (previous !== undefined) await unlinkIfPresent(join(dir, `${base}.${previous.body}.body`));
      return { size };
    });
  }

  async get(blobId: string, range?: ByteRange): Promise<Readable> {
    validateBlobId(blobId);
    const { meta, handle } = await this.openBody(blobId);
    const end = Math.min(range?.end ?? meta.size - 1, meta.size - 1);
    const start = range?.start ?? 0;
    if (start > end) {
      await handle.close();
      return Readable.from([]);
    }
    // The stream owns the descriptor and closes it at end or on destroy; only the touched bytes are read.
    return handle.createReadStream({ start, end });
  }

  async head(blobId: string): Promise<BlobInfo> {
    validateBlobId(blobId);
    const { dir, base } = this.locate(blobId);
    const meta = await this.readMeta(dir, base);
    if (meta === undefined) throw new BlobNotFoundError(blobId);
    return { size: meta.size, metadata: { ...meta.metadata }, lastModified: new Date(meta.lastModified) };
  }

  async replaceMetadata(blobId: string, metadata: BlobMetadata): Promise<void> {
    validateBlobId(blobId);
    const { dir, base } = this.locate(blobId);
    await this.writers.run(blobId, async () => {
      const meta = await this.readMeta(dir, base);
      if (meta === undefined) throw new BlobNotFoundError(blobId);
      await this.writeMeta(dir, base, { ...meta, metadata: { ...metadata } });
    });
  }

  async delete(blobId: string): Promise<void> {
    validateBlobId(blobId);
    const { dir, base } = this.locate(blobId);
    await this.writers.run(blobId, async () => {
      const meta = await this.readMeta(dir, base);
      if (meta === undefined) return;
      await unlinkIfPresent(join(dir, `${base}${META_SUFFIX}`));
      await fsyncDir(dir);
      await unlinkIfPresent(join(dir, `${base}.${meta.body}.body`));
    });
  }

  /** Every committed blob with its last write time, for the orphan sweep. Order is unspecified. */
  async *listBlobIds(): AsyncIterable<{ blobId: string; lastModified: Date }> {
    for await (const dir of this.fanOutDirs()) {
      for await (const entry of await opendir(dir)) {
        if (!entry.isFile() || !entry.name.endsWith(META_SUFFIX)) continue;
        const meta = await this.readMeta(dir, entry.name.slice(0, -META_SUFFIX.length));
        if (meta !== undefined) yield { blobId: meta.blobId, lastModified: new Date(meta.lastModified) };
      }
    }
  }

  private async *fanOutDirs(): AsyncIterable<string> {
    let level1;
    try {
      level1 = await opendir(this.rootDir);
    } catch (err) {
      if (isNotFound(err)) return;
      throw err;
    }
    for await (const a of level1) {
      if (!a.isDirectory() || !/^[0-9a-f]{2}$/.test(a.name)) continue;
      for await (const b of await opendir(join(this.rootDir, a.name))) {
        if (b.isDirectory() && /^[0-9a-f]{2}$/.test(b.name)) yield join(this.rootDir, a.name, b.name);
      }
    }
  }

  /**
   * Removes what crashes and overlapping writes leave behind: body generations no .meta names and temp
   * files, when last modified before `olderThan` (so an upload still in flight is never touched).
   */
  async sweepStrayFiles(olderThan: Date): Promise<number> {
    let removed = 0;
    for await (const dir of this.fanOutDirs()) {
      const names: string[] = [];
      for await (const entry of await opendir(dir)) if (entry.isFile()) names.push(entry.name);
      const live = new Set<string>();
      for (const name of names.filter((n) => n.endsWith(META_SUFFIX))) {
        const base = name.slice(0, -META_SUFFIX.length);
        const meta = await this.readMeta(dir, base);
        if (meta !== undefined) live.add(`${base}.${meta.body}.body`);
      }
      for (const name of names) {
        if (name.endsWith(META_SUFFIX) || live.has(name)) continue;
        const file = join(dir, name);
        try {
          if ((await stat(file)).mtime < olderThan) {
            await unlink(file);
            removed++;
          }
        } catch (err) {
          if (!isNotFound(err)) throw err;
        }
      }
    }
    return removed;
  }

  private async ensureDir(dir: string): Promise<void> {
    const firstCreated = await mkdir(dir, { recursive: true, mode: 0o700 });
    if (firstCreated === undefined) return;
    // New directory entries are durable only once their parents are synced, up to the pre-existing one.
    for (let child = dir; child.length >= firstCreated.length; child = dirname(child)) await fsyncDir(dirname(child));
  }

  private locate(blobId: string): { dir: string; base: string } {
    const base = createHash('sha256').update(blobId, 'utf8').digest('hex');
    return { dir: join(this.rootDir, base.slice(0, 2), base.slice(2, 4)), base };
  }

  private async readMeta(dir: string, base: string): Promise<MetaRecord | undefined> {
    try {
      return JSON.parse(await readFile(join(dir, `${base}${META_SUFFIX}`), 'utf8')) as MetaRecord;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  private async writeMeta(dir: string, base: string, meta: MetaRecord): Promise<void> {
    const target = join(dir, `${base}${META_SUFFIX}`);
    const temp = `${target}.${randomBytes(6).toString('hex')}.tmp`;
    const handle = await open(temp, 'wx', FILE_MODE);
    try {
      await handle.writeFile(JSON.stringify(meta));
      await handle.sync();
    } catch (err) {
      await handle.close();
      await unlinkIfPresent(temp);
      throw err;
    }
    await handle.close();
    await rename(temp, target);
    // The rename is durable only once the directory entry is on disk.
    await fsyncDir(dir);
  }

  /** Opens the committed body; retries once if an overwrite replaced it between reading .meta and open. */
  private async openBody(blobId: string): Promise<{ meta: MetaRecord; handle: FileHandle }> {
    const { dir, base } = this.locate(blobId);
    for (let attempt = 0; attempt < 3; attempt++) {
      const meta = await this.readMeta(dir, base);
      if (meta === undefined) break;
      try {
        return { meta, handle: await open(join(dir, `${base}.${meta.body}.body`), 'r') };
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
    throw new BlobNotFoundError(blobId);
  }
}
