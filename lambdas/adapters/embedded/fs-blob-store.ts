// The BlobStore port on the local file system: one file per blob, written whole and durable before it appears;
// streamed, ranged reads.
import { createHash } from 'node:crypto';
import { mkdir, open, opendir, readdir, readFile, rename, stat, unlink, writeFile, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import type { BlobInfo, BlobMetadata, BlobPage, BlobStore, BlobWriteOptions, ByteRange } from '../../core/ports';
import { BlobNotFoundError } from '../../core/errors';
import { randomHex } from '../../core/ids';
import { chain } from '../../core/stream-chain';
import { writeFailure } from './disk-errors';
import { DirectorySyncer, fsyncDir, writeFileDurably } from './fs-sync';
import { KeyedMutex } from './keyed-mutex';

/*
 * Layout and atomicity.
 *
 * A blob is one file in one of 256 fan-out directories, chosen by the SHA-256 of its id:
 *   <root>/ab/<sha256>.blob   "SLB2" | header length (u32 BE) | header JSON | body
 * (256 directories, created once: a wider fan-out would make most PUTs of a young store create a directory,
 * and fsync its parents; a million blobs are 4,000 files a directory.)
 * The header holds the id, a random generation, the write time and the metadata. put() streams header and body
 * into a fresh temp file, fdatasyncs it, then renames it onto <sha256>.blob and fsyncs the directory: the blob
 * appears whole and durable, or not at all, at the cost of two syncs. A crash before the rename leaves only a
 * temp file, which sweepStrayFiles removes.
 *
 * replaceMetadata() (rewrap) never rewrites the body: it writes <sha256>.md (temp, fsync, rename, fsync dir),
 * naming the generation it applies to; a sidecar naming another generation (left by an overwrite) is ignored.
 * delete() unlinks the blob and its sidecar, then fsyncs the directory: both copies of the wrapped key are gone.
 *
 * Blobs written before this layout (<root>/ab/cd/<sha256>.meta naming <sha256>.<generation>.body beside it) are
 * still read, rewrapped and deleted in place; new writes always use the layout above.
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
/** Present in a blob root this layout created: no blob of the earlier layout can be in it. */
const LAYOUT_MARKER = 'layout-2';
const FILE_MODE = 0o600;
/** Body bytes buffered while a write is in flight, then written with one writev: few thread-pool round trips. */
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
  const pending = buffers;
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

/**
 * Writes a stream into a file in order. Chunks that arrive while a write is in flight are gathered into the next
 * writev, so a 1 MiB body takes a few system calls, and no chunk is ever copied into a bigger buffer.
 */
class FileSink extends Writable {
  bytes = 0;

  constructor(private readonly handle: FileHandle) {
    super({ highWaterMark: WRITE_BATCH_BYTES });
  }

  override _writev(chunks: Array<{ chunk: Buffer }>, callback: (error?: Error | null) => void): void {
    const buffers = chunks.map((c) => c.chunk);
    writeAll(this.handle, buffers, this.bytes).then((end) => {
      this.bytes = end;
      callback();
    }, callback);
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this._writev([{ chunk }], callback);
  }
}

/** An open blob file and where its body starts in it (the body runs to the end of the file). */
interface OpenedBlob {
  readonly handle: FileHandle;
  readonly bodyOffset: number;
}

/** Reads of a blob body go in pieces this large: one thread-pool round trip per MiB, not one per 64 KiB. */
const READ_CHUNK_BYTES = 256 * 1024;

export class FsBlobStore implements BlobStore {
  private readonly writers = new KeyedMutex();
  private fanOut: Promise<void> | undefined;
  /** One kept-open descriptor per fan-out directory; concurrent PUTs into one directory share its fsync. */
  private readonly syncer = new DirectorySyncer();
  private legacy: Promise<boolean> | undefined;
  private fileSyncs = 0;

  constructor(private readonly rootDir: string) {}

  async put(blobId: string, body: Readable, metadata: BlobMetadata, options: BlobWriteOptions = {}): Promise<{ size: number }> {
    validateBlobId(blobId);
    const { dir, base } = this.locate(blobId);
    try {
      await this.ensureFanOut();
    } catch (err) {
      throw writeFailure(err, 'a blob');
    }
    const generation = randomHex(8);
    const temp = join(dir, `${base}.${generation}${TEMP_SUFFIX}`);
    const header = encodeHeader({ v: 2, blobId, generation, lastModified: new Date().toISOString(), metadata: { ...metadata } });
    let handle: FileHandle;
    try {
      handle = await open(temp, 'wx', FILE_MODE);
    } catch (err) {
      throw writeFailure(err, 'a blob');
    }
    let size: number;
    try {
      const sink = new FileSink(handle);
      sink.write(header);
      await finished(chain(body, [sink]));
      size = sink.bytes - header.length;
      this.fileSyncs += 1;
      await handle.datasync();
      await handle.close();
      await options.beforePublish?.();
    } catch (err) {
      await handle.close().catch(() => undefined);
      await unlinkIfPresent(temp).catch(() => undefined);
      throw writeFailure(err, 'a blob');
    }

    // Blob ids are never reused by the object service; should a caller overwrite one, a sidecar or earlier-layout
    // files of the replaced blob stay (ignored: a sidecar applies to its own generation only) until delete().
    return this.writers.run(blobId, async () => {
      try {
        await rename(temp, join(dir, `${base}${BLOB_SUFFIX}`));
        // The rename is durable only once the directory entry is on disk.
        await this.syncer.sync(dir);
      } catch (err) {
        await unlinkIfPresent(temp).catch(() => undefined);
        throw writeFailure(err, 'a blob');
      }
      return { size };
    });
  }

  async get(blobId: string, range?: ByteRange): Promise<Readable> {
    validateBlobId(blobId);
    const blob = await this.openBlob(blobId);
    const start = range?.start ?? 0;
    const end = range === undefined ? undefined : range.end;
    if (end !== undefined && start > end) {
      await blob.handle.close();
      return Readable.from([]);
    }
    // The stream owns the descriptor and closes it at end or on destroy; only the touched bytes are read. An end
    // past the last byte stops at the end of the file, as HTTP ranges do.
    const length = end === undefined ? READ_CHUNK_BYTES : end - start + 1;
    return blob.handle.createReadStream({
      start: blob.bodyOffset + start,
      ...(end === undefined ? {} : { end: blob.bodyOffset + end }),
      highWaterMark: Math.max(16 * 1024, Math.min(READ_CHUNK_BYTES, length)),
    });
  }

  async head(blobId: string): Promise<BlobInfo> {
    validateBlobId(blobId);
    const { dir, legacyDir, base } = this.locate(blobId);
    const read = await this.readBlobHeader(dir, base);
    if (read === undefined) {
      const legacy = await this.readLegacyMeta(legacyDir, base);
      if (legacy === undefined) throw new BlobNotFoundError(blobId);
      return { size: legacy.size, metadata: { ...legacy.metadata }, lastModified: new Date(legacy.lastModified) };
    }
    const sidecar = await this.readSidecar(dir, base);
    const metadata = sidecar?.generation === read.header.generation ? sidecar.metadata : read.header.metadata;
    return { size: read.size, metadata: { ...metadata }, lastModified: new Date(read.header.lastModified) };
  }

  async replaceMetadata(blobId: string, metadata: BlobMetadata): Promise<void> {
    validateBlobId(blobId);
    const { dir, legacyDir, base } = this.locate(blobId);
    await this.writers.run(blobId, async () => {
      const read = await this.readBlobHeader(dir, base);
      if (read !== undefined) {
        await this.writeJsonAtomically(join(dir, `${base}${SIDECAR_SUFFIX}`), { v: 2, generation: read.header.generation, metadata: { ...metadata } } satisfies Sidecar);
        return;
      }
      const legacy = await this.readLegacyMeta(legacyDir, base);
      if (legacy === undefined) throw new BlobNotFoundError(blobId);
      await this.writeJsonAtomically(join(legacyDir, `${base}${LEGACY_META_SUFFIX}`), { ...legacy, metadata: { ...metadata } } satisfies LegacyMeta);
    });
  }

  async delete(blobId: string): Promise<void> {
    validateBlobId(blobId);
    const { dir, legacyDir, base } = this.locate(blobId);
    await this.writers.run(blobId, async () => {
      let removed = await unlinkIfPresent(join(dir, `${base}${BLOB_SUFFIX}`));
      removed = (await unlinkIfPresent(join(dir, `${base}${SIDECAR_SUFFIX}`))) || removed;
      // Crypto-shredding: the unlinks that removed a wrapped key must survive power loss.
      if (removed) await this.syncer.sync(dir);
      if (!(await this.mayHoldLegacy())) return;
      const legacy = await this.readLegacyMeta(legacyDir, base);
      if (legacy !== undefined) {
        await unlinkIfPresent(join(legacyDir, `${base}${LEGACY_META_SUFFIX}`));
        await unlinkIfPresent(join(legacyDir, `${base}.${legacy.body}.body`));
        await fsyncDir(legacyDir);
      }
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

  /**
   * A page of blob ids in the order of their files' paths under the root ("ab/<sha256>.blob", and the earlier
   * layout's "ab/cd/<sha256>.meta"); `next` is the last file's path. Names are hashes of the ids, so the order is
   * the hashes', not the ids': the cursor is a path, which a new blob never moves. Each call reads the directory
   * names of the fan-out directories from the cursor on and the headers of the blobs it returns only.
   */
  async list(after: string | undefined, limit: number): Promise<BlobPage> {
    const blobIds: string[] = [];
    let level1: string[];
    try {
      level1 = (await readdir(this.rootDir)).filter((n) => /^[0-9a-f]{2}$/.test(n)).sort();
    } catch (err) {
      if (isNotFound(err)) return { blobIds };
      throw err;
    }
    const from = after?.slice(0, 2);
    for (const a of level1) {
      if (from !== undefined && a < from) continue;
      const paths = await this.blobPathsUnder(a);
      for (const path of paths) {
        if (after !== undefined && path <= after) continue;
        const blobId = await this.blobIdAt(path);
        if (blobId === undefined) continue; // removed since the directory was read
        blobIds.push(blobId);
        if (blobIds.length >= limit) return { blobIds, next: path };
      }
    }
    return { blobIds };
  }

  /** The relative paths of the blob files of one fan-out directory (and its earlier-layout subdirectories), sorted. */
  private async blobPathsUnder(a: string): Promise<string[]> {
    const out: string[] = [];
    for (const entry of await readdir(join(this.rootDir, a), { withFileTypes: true })) {
      if (entry.isFile() && entry.name.endsWith(BLOB_SUFFIX)) out.push(`${a}/${entry.name}`);
      else if (entry.isDirectory() && /^[0-9a-f]{2}$/.test(entry.name)) {
        for (const name of await readdir(join(this.rootDir, a, entry.name)).catch(() => [] as string[])) {
          if (name.endsWith(LEGACY_META_SUFFIX)) out.push(`${a}/${entry.name}/${name}`);
        }
      }
    }
    return out.sort();
  }

  private async blobIdAt(path: string): Promise<string | undefined> {
    const slash = path.lastIndexOf('/');
    const dir = join(this.rootDir, path.slice(0, slash));
    const name = path.slice(slash + 1);
    if (name.endsWith(BLOB_SUFFIX)) return (await this.readBlobHeader(dir, name.slice(0, -BLOB_SUFFIX.length)))?.header.blobId;
    return (await this.readLegacyMeta(dir, name.slice(0, -LEGACY_META_SUFFIX.length)))?.blobId;
  }

  /** Every directory that may hold blob files: the fan-out level, and the earlier layout's second level. */
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
      const first = join(this.rootDir, a.name);
      yield first;
      // The earlier layout's second level.
      for await (const b of await opendir(first)) {
        if (b.isDirectory() && /^[0-9a-f]{2}$/.test(b.name)) yield join(first, b.name);
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

  /** The 256 fan-out directories `locate` uses, made once; a failed attempt (a full disk) is retried by the next PUT. */
  private async ensureFanOut(): Promise<void> {
    this.fanOut ??= this.createFanOut().catch((err: unknown) => {
      this.fanOut = undefined;
      throw err;
    });
    await this.fanOut;
  }

  /** Syncs issued so far: one fdatasync per blob written, directory fsyncs shared by concurrent writes. */
  syncStats(): { readonly fileSyncs: number; readonly directorySyncs: number } {
    return { fileSyncs: this.fileSyncs, directorySyncs: this.syncer.syncs };
  }

  /** Releases the kept-open directory descriptors. */
  async close(): Promise<void> {
    await this.syncer.close();
  }

  /**
   * Whether blobs of the earlier layout may exist: not in a root this version created (it leaves a marker file),
   * possibly in any other that already holds blob directories.
   */
  private mayHoldLegacy(): Promise<boolean> {
    this.legacy ??= (async (): Promise<boolean> => {
      try {
        await stat(join(this.rootDir, LAYOUT_MARKER));
        return false;
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
      try {
        return (await readdir(this.rootDir)).some((name) => /^[0-9a-f]{2}$/.test(name));
      } catch (err) {
        if (isNotFound(err)) return false;
        throw err;
      }
    })().catch((err: unknown) => {
      this.legacy = undefined;
      throw err;
    });
    return this.legacy;
  }

  /** All 256 fan-out directories at once, on the first write: no later PUT creates one. */
  private async createFanOut(): Promise<void> {
    await mkdir(this.rootDir, { recursive: true, mode: 0o700 });
    if (!(await this.mayHoldLegacy())) {
      await writeFile(join(this.rootDir, LAYOUT_MARKER), 'blob layout 2: no blobs of the earlier layout here\n', { mode: FILE_MODE });
    }
    const names = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
    await Promise.all(names.map((name) => mkdir(join(this.rootDir, name), { mode: 0o700 }).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'EEXIST') throw err;
    })));
    await fsyncDir(this.rootDir);
    await fsyncDir(dirname(this.rootDir));
  }

  /** Where a blob lives (`dir`), and where the earlier layout kept it (`legacyDir`). */
  private locate(blobId: string): { dir: string; legacyDir: string; base: string } {
    const base = createHash('sha256').update(blobId, 'utf8').digest('hex');
    const dir = join(this.rootDir, base.slice(0, 2));
    return { dir, legacyDir: join(dir, base.slice(2, 4)), base };
  }

  /** Opens the blob for reading: the new layout, else the earlier one; BlobNotFoundError when neither exists. */
  private async openBlob(blobId: string): Promise<OpenedBlob> {
    const { dir, legacyDir, base } = this.locate(blobId);
    let handle: FileHandle | undefined;
    try {
      handle = await open(join(dir, `${base}${BLOB_SUFFIX}`), 'r');
      const { headerBytes } = await this.readPrefix(handle);
      return { handle, bodyOffset: PREFIX_BYTES + headerBytes };
    } catch (err) {
      await handle?.close().catch(() => undefined);
      if (!isNotFound(err)) throw err;
    }
    // The earlier layout, tried up to three times: an overwrite may replace the body between reading .meta and
    // opening it.
    for (let attempt = 0; attempt < 3; attempt++) {
      const meta = await this.readLegacyMeta(legacyDir, base);
      if (meta === undefined) break;
      try {
        return { handle: await open(join(legacyDir, `${base}.${meta.body}.body`), 'r'), bodyOffset: 0 };
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

  private readSidecar(dir: string, base: string): Promise<Sidecar | undefined> {
    return readJsonIfPresent<Sidecar>(join(dir, `${base}${SIDECAR_SUFFIX}`));
  }

  private readLegacyMeta(dir: string, base: string): Promise<LegacyMeta | undefined> {
    return readJsonIfPresent<LegacyMeta>(join(dir, `${base}${LEGACY_META_SUFFIX}`));
  }

  private async writeJsonAtomically(target: string, value: object): Promise<void> {
    try {
      await writeFileDurably(target, JSON.stringify(value));
    } catch (err) {
      throw writeFailure(err, 'blob metadata');
    }
  }
}

/** A JSON file this store wrote, or undefined when there is none. */
async function readJsonIfPresent<T>(path: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as T;
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}
