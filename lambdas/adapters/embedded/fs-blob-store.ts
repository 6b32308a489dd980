// The BlobStore port on the local file system: one file per blob, written whole and durable before it appears;
// streamed, ranged reads.
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, opendir, readFile, rename, stat, unlink, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import type { BlobInfo, BlobMetadata, BlobStore, BlobWriteOptions, ByteRange } from '../../core/ports';
import { BlobNotFoundError } from '../../core/errors';
import { fsyncDir } from './fs-sync';
import { KeyedMutex } from './keyed-mutex';

/*
 * Layout and atomicity.
 *
 * A blob is one file in a fan-out directory chosen by the SHA-256 of its id:
 *   <root>/ab/cd/<sha256>.blob   "SLB2" | header length (u32 BE) | header JSON | body
 * The header holds the id, a random generation, the write time and the metadata. put() streams header and body
 * into a fresh temp file, fdatasyncs it, then renames it onto <sha256>.blob and fsyncs the directory: the blob
 * appears whole and durable, or not at all, at the cost of two syncs. A crash before the rename leaves only a
 * temp file, which sweepStrayFiles removes.
 *
 * replaceMetadata() (rewrap) never rewrites the body: it writes <sha256>.md (temp, fsync, rename, fsync dir),
 * naming the generation it applies to; a sidecar naming another generation (left by an overwrite) is ignored.
 * delete() unlinks the blob and its sidecar, then fsyncs the directory: both copies of the wrapped key are gone.
 *
 * Blobs written before this layout (<sha256>.meta naming a <sha256>.<generation>.body) are still read, rewrapped
 * and deleted in place; new writes always use the layout above.
 *
 * File names come from a hash, never from the id itself, so no id can reach outside the root; ids are still
 * validated so that garbage is refused early. Writers of one id are serialised inside the process (the data
 * directory has one owning process); readers need no lock: an open descriptor keeps a file readable even if a
 * concurrent overwrite or delete unlinks it.
 */

const ID_PATTERN = /^[A-Za-z0-9!_.*'()+=,@~-][A-Za-z0-9!_.*'()+=,@~/-]{0,1023}$/;
const MAGIC = Buffer.from('SLB2', 'ascii');
const PREFIX_BYTES = 8;
const BLOB_SUFFIX = '.blob';
const SIDECAR_SUFFIX = '.md';
const LEGACY_META_SUFFIX = '.meta';
const TEMP_SUFFIX = '.tmp';
const FILE_MODE = 0o600;
/** Body bytes gathered into one writev: fewer thread-pool round trips, bounded memory. */
const WRITE_BATCH_BYTES = 1024 * 1024;

interface BlobHeader {
  readonly v: 2;
  readonly blobId: string;
  readonly generation: string;
  readonly lastModified: string;
  readonly metadata: Record<string, string>;
}

interface Sidecar {
  readonly v: 2;
  readonly generation: string;
  readonly metadata: Record<string, string>;
}

/** The metadata file of the earlier layout: the commit point naming its body generation. */
interface LegacyMeta {
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

async function unlinkIfPresent(file: string): Promise<boolean> {
  try {
    await unlink(file);
    return true;
  } catch (err) {
    if (!isNotFound(err)) throw err;
    return false;
  }
}

function encodeHeader(header: BlobHeader): Buffer {
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const prefix = Buffer.alloc(PREFIX_BYTES);
  MAGIC.copy(prefix, 0);
  prefix.writeUInt32BE(json.length, 4);
  return Buffer.concat([prefix, json]);
}

/** Writes every byte of `buffers` at `position`, however many calls the kernel takes. */
async function writeAll(handle: FileHandle, buffers: Buffer[], position: number): Promise<number> {
  let pending = buffers;
  let at = position;
  while (pending.length > 0) {
    const { bytesWritten } = await handle.writev(pending, at);
    at += bytesWritten;
    let skip = bytesWritten;
    while (pending.length > 0 && skip >= (pending[0] as Buffer).length) skip -= (pending.shift() as Buffer).length;
    if (skip > 0 && pending.length > 0) pending[0] = (pending[0] as Buffer).subarray(skip);
  }
  return at;
}

/** An open blob file and where its body lies in it. */
interface OpenedBlob {
  readonly handle: FileHandle;
  readonly bodyOffset: number;
  readonly size: number;
}

export class FsBlobStore implements BlobStore {
  private readonly writers = new KeyedMutex();

  constructor(private readonly rootDir: string) {}

  async put(blobId: string, body: Readable, metadata: BlobMetadata, options: BlobWriteOptions = {}): Promise<{ size: number }> {
    validateBlobId(blobId);
    const { dir, base } = this.locate(blobId);
    await this.ensureDir(dir);
    const generation = randomBytes(8).toString('hex');
    const temp = join(dir, `${base}.${generation}${TEMP_SUFFIX}`);
    const header = encodeHeader({ v: 2, blobId, generation, lastModified: new Date().toISOString(), metadata: { ...metadata } });
    let size = 0;
    const handle = await open(temp, 'wx', FILE_MODE);
    try {
      let position = await writeAll(handle, [header], 0);
      let batch: Buffer[] = [];
      let batchBytes = 0;
      for await (const chunk of body) {
        const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
        batch.push(bytes);
        batchBytes += bytes.length;
        size += bytes.length;
        if (batchBytes >= WRITE_BATCH_BYTES) {
          position = await writeAll(handle, batch, position);
          batch = [];
          batchBytes = 0;
        }
      }
      if (batch.length > 0) await writeAll(handle, batch, position);
      await handle.datasync();
      await handle.close();
      await options.beforePublish?.();
    } catch (err) {
      await handle.close().catch(() => undefined);
      await unlinkIfPresent(temp);
      throw err;
    }

    return this.writers.run(blobId, async () => {
      const legacy = await this.readLegacyMeta(dir, base);
      try {
        await rename(temp, join(dir, `${base}${BLOB_SUFFIX}`));
        // The rename is durable only once the directory entry is on disk.
        await fsyncDir(dir);
      } catch (err) {
        await unlinkIfPresent(temp);
        throw err;
      }
      // An overwrite leaves nothing of the blob it replaced: an old sidecar, or the earlier layout's files.
      await unlinkIfPresent(join(dir, `${base}${SIDECAR_SUFFIX}`));
      if (legacy !== undefined) {
        await unlinkIfPresent(join(dir, `${base}${LEGACY_META_SUFFIX}`));
        await unlinkIfPresent(join(dir, `${base}.${legacy.body}.body`));
      }
      return { size };
    });
  }

  async get(blobId: string, range?: ByteRange): Promise<Readable> {
    validateBlobId(blobId);
    const blob = await this.openBlob(blobId);
    const end = Math.min(range?.end ?? blob.size - 1, blob.size - 1);
    const start = range?.start ?? 0;
    if (start > end) {
      await blob.handle.close();
      return Readable.from([]);
    }
    // The stream owns the descriptor and closes it at end or on destroy; only the touched bytes are read.
    return blob.handle.createReadStream({ start: blob.bodyOffset + start, end: blob.bodyOffset + end });
  }

  async head(blobId: string): Promise<BlobInfo> {
    validateBlobId(blobId);
    const { dir, base } = this.locate(blobId);
    const read = await this.readBlobHeader(dir, base);
    if (read === undefined) {
      const legacy = await this.readLegacyMeta(dir, base);
      if (legacy === undefined) throw new BlobNotFoundError(blobId);
      return { size: legacy.size, metadata: { ...legacy.metadata }, lastModified: new Date(legacy.lastModified) };
    }
    const sidecar = await this.readSidecar(dir, base);
    const metadata = sidecar?.generation === read.header.generation ? sidecar.metadata : read.header.metadata;
    return { size: read.size, metadata: { ...metadata }, lastModified: new Date(read.header.lastModified) };
  }

  async replaceMetadata(blobId: string, metadata: BlobMetadata): Promise<void> {
    validateBlobId(blobId);
    const { dir, base } = this.locate(blobId);
    await this.writers.run(blobId, async () => {
      const read = await this.readBlobHeader(dir, base);
      if (read !== undefined) {
        await this.writeJsonAtomically(join(dir, `${base}${SIDECAR_SUFFIX}`), { v: 2, generation: read.header.generation, metadata: { ...metadata } } satisfies Sidecar);
        return;
      }
      const legacy = await this.readLegacyMeta(dir, base);
      if (legacy === undefined) throw new BlobNotFoundError(blobId);
      await this.writeJsonAtomically(join(dir, `${base}${LEGACY_META_SUFFIX}`), { ...legacy, metadata: { ...metadata } } satisfies LegacyMeta);
    });
  }

  async delete(blobId: string): Promise<void> {
    validateBlobId(blobId);
    const { dir, base } = this.locate(blobId);
    await this.writers.run(blobId, async () => {
      const legacy = await this.readLegacyMeta(dir, base);
      let removed = await unlinkIfPresent(join(dir, `${base}${BLOB_SUFFIX}`));
      removed = (await unlinkIfPresent(join(dir, `${base}${SIDECAR_SUFFIX}`))) || removed;
      if (legacy !== undefined) {
        removed = (await unlinkIfPresent(join(dir, `${base}${LEGACY_META_SUFFIX}`))) || removed;
        await unlinkIfPresent(join(dir, `${base}.${legacy.body}.body`));
      }
      // Crypto-shredding: the unlinks that removed a wrapped key must survive power loss.
      if (removed) await fsyncDir(dir);
    });
  }

  /** Every committed blob with its last write time, for the orphan sweep. Order is unspecified. */
  async *listBlobIds(): AsyncIterable<{ blobId: string; lastModified: Date }> {
    for await (const dir of this.fanOutDirs()) {
      for await (const entry of await opendir(dir)) {
        if (!entry.isFile()) continue;
        if (entry.name.endsWith(BLOB_SUFFIX)) {
          const read = await this.readBlobHeader(dir, entry.name.slice(0, -BLOB_SUFFIX.length));
          if (read !== undefined) yield { blobId: read.header.blobId, lastModified: new Date(read.header.lastModified) };
        } else if (entry.name.endsWith(LEGACY_META_SUFFIX)) {
          const meta = await this.readLegacyMeta(dir, entry.name.slice(0, -LEGACY_META_SUFFIX.length));
          if (meta !== undefined) yield { blobId: meta.blobId, lastModified: new Date(meta.lastModified) };
        }
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
   * Removes what crashes and overlapping writes leave behind, when last modified before `olderThan` (so an upload
   * still in flight is never touched): temp files, sidecars whose blob is gone, and bodies of the earlier layout
   * that no metadata file names.
   */
  async sweepStrayFiles(olderThan: Date): Promise<number> {
    let removed = 0;
    for await (const dir of this.fanOutDirs()) {
      const names: string[] = [];
      for await (const entry of await opendir(dir)) if (entry.isFile()) names.push(entry.name);
      const present = new Set(names);
      const live = new Set<string>();
      for (const name of names) {
        if (name.endsWith(BLOB_SUFFIX)) {
          live.add(name);
          const sidecar = `${name.slice(0, -BLOB_SUFFIX.length)}${SIDECAR_SUFFIX}`;
          if (present.has(sidecar)) live.add(sidecar);
        } else if (name.endsWith(LEGACY_META_SUFFIX)) {
          const base = name.slice(0, -LEGACY_META_SUFFIX.length);
          const meta = await this.readLegacyMeta(dir, base);
          live.add(name);
          if (meta !== undefined) live.add(`${base}.${meta.body}.body`);
        }
      }
      for (const name of names) {
        if (live.has(name)) continue;
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

  /** Opens the blob for reading: the new layout, else the earlier one; BlobNotFoundError when neither exists. */
  private async openBlob(blobId: string): Promise<OpenedBlob> {
    const { dir, base } = this.locate(blobId);
    let handle: FileHandle | undefined;
    try {
      handle = await open(join(dir, `${base}${BLOB_SUFFIX}`), 'r');
      const { headerBytes } = await this.readPrefix(handle);
      const size = (await handle.stat()).size - PREFIX_BYTES - headerBytes;
      return { handle, bodyOffset: PREFIX_BYTES + headerBytes, size };
    } catch (err) {
      await handle?.close().catch(() => undefined);
      if (!isNotFound(err)) throw err;
    }
    // The earlier layout; retried in case an overwrite replaced the body between reading .meta and opening it.
    for (let attempt = 0; attempt < 3; attempt++) {
      const meta = await this.readLegacyMeta(dir, base);
      if (meta === undefined) break;
      try {
        return { handle: await open(join(dir, `${base}.${meta.body}.body`), 'r'), bodyOffset: 0, size: meta.size };
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
    throw new BlobNotFoundError(blobId);
  }

  private async readPrefix(handle: FileHandle): Promise<{ headerBytes: number }> {
    const prefix = Buffer.alloc(PREFIX_BYTES);
    const { bytesRead } = await handle.read(prefix, 0, PREFIX_BYTES, 0);
    if (bytesRead !== PREFIX_BYTES || !prefix.subarray(0, 4).equals(MAGIC)) throw new Error('blob file has no valid header');
    return { headerBytes: prefix.readUInt32BE(4) };
  }

  private async readBlobHeader(dir: string, base: string): Promise<{ header: BlobHeader; size: number } | undefined> {
    let handle: FileHandle;
    try {
      handle = await open(join(dir, `${base}${BLOB_SUFFIX}`), 'r');
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
    try {
      const { headerBytes } = await this.readPrefix(handle);
      const json = Buffer.alloc(headerBytes);
      await handle.read(json, 0, headerBytes, PREFIX_BYTES);
      const size = (await handle.stat()).size - PREFIX_BYTES - headerBytes;
      return { header: JSON.parse(json.toString('utf8')) as BlobHeader, size };
    } finally {
      await handle.close();
    }
  }

  private async readSidecar(dir: string, base: string): Promise<Sidecar | undefined> {
    try {
      return JSON.parse(await readFile(join(dir, `${base}${SIDECAR_SUFFIX}`), 'utf8')) as Sidecar;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  private async readLegacyMeta(dir: string, base: string): Promise<LegacyMeta | undefined> {
    try {
      return JSON.parse(await readFile(join(dir, `${base}${LEGACY_META_SUFFIX}`), 'utf8')) as LegacyMeta;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  /** Temp file (0600), fsync, rename, fsync of the directory. */
  private async writeJsonAtomically(target: string, value: object): Promise<void> {
    const temp = `${target}.${randomBytes(6).toString('hex')}${TEMP_SUFFIX}`;
    const handle = await open(temp, 'wx', FILE_MODE);
    try {
      await handle.writeFile(JSON.stringify(value));
      await handle.sync();
    } catch (err) {
      await handle.close();
      await unlinkIfPresent(temp);
      throw err;
    }
    await handle.close();
    await rename(temp, target);
    await fsyncDir(dirname(target));
  }
}
