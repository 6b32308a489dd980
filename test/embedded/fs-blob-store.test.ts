// Runs the BlobStore contract against the file-system store, plus its layout, id and crash-recovery rules.
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { BlobNotFoundError } from '../../lambdas/core/errors';
import { FsBlobStore } from '../../lambdas/adapters/embedded/fs-blob-store';
import { describeBlobStoreContract } from '../contract/blob-store.contract';
import { chunked, readAll } from '../contract/streams';

describeBlobStoreContract('FsBlobStore (BlobStore contract)', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sealstore-blobs-'));
  return { store: new FsBlobStore(dir), cleanup: () => rm(dir, { recursive: true, force: true }) };
});

/** Every file a blob left: everything under the root but the layout marker the store writes once. */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath ?? e.path, e.name))
    .filter((f) => f !== join(dir, 'layout-2'));
}

describe('FsBlobStore', () => {
  let dir: string;
  let store: FsBlobStore;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sealstore-blobs-'));
    store = new FsBlobStore(dir);
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('makes its directories again on the next write when the first attempt failed', async () => {
    // Something in the way of the blob root (a full disk fails the same mkdir): the first PUT fails, and once
    // the cause is gone the next PUT succeeds without a restart.
    const root = join(dir, 'later');
    await writeFile(root, 'in the way');
    const later = new FsBlobStore(root);
    await expect(later.put('first', Readable.from([Buffer.from('a')]), {})).rejects.toThrow();
    await rm(root);
    await later.put('second', Readable.from([Buffer.from('b')]), {});
    expect((await readAll(await later.get('second'))).toString()).toBe('b');
    await later.close();
  });

  it.each([
    ['a parent segment', '../escape'],
    ['a nested parent segment', 'a/../../b'],
    ['an absolute path', '/abs'],
    ['an empty segment', 'a//b'],
    ['a dot segment', 'a/./b'],
    ['the empty id', ''],
    ['a NUL byte', 'nul\u0000byte'],
    ['more than 1024 characters', 'x'.repeat(1025)],
    ['a trailing slash', 'a/b/'],
  ])('refuses a blob id with %s', async (_label, blobId) => {
    await expect(store.put(blobId, chunked(Buffer.from('x')), {})).rejects.toThrow(RangeError);
    await expect(store.get(blobId)).rejects.toThrow(RangeError);
    await expect(store.delete(blobId)).rejects.toThrow(RangeError);
  });

  it('accepts ids with path-like segments and keeps every file inside the root, named by hash', async () => {
    await store.put('bucket/parts/upload-1/00001', chunked(Buffer.from('part')), {});
    expect((await readAll(await store.get('bucket/parts/upload-1/00001'))).toString()).toBe('part');
    const files = await filesUnder(dir);
    expect(files.length).toBe(1);
    for (const file of files) {
      expect(file.startsWith(dir)).toBe(true);
      expect(file).toMatch(/\/[0-9a-f]{2}\/[0-9a-f]{64}\.blob$/);
    }
  });

  it('writes files readable by the owner only', async () => {
    await store.put('secret', chunked(Buffer.from('x')), {});
    await store.replaceMetadata('secret', { 'x-a': '2' });
    for (const file of await filesUnder(dir)) expect((await stat(file)).mode & 0o077).toBe(0);
  });

  it('replaceMetadata writes a sidecar and never touches the blob file', async () => {
    await store.put('obj', chunked(Buffer.alloc(100_000, 7)), { 'x-a': '1' });
    const [blob] = await filesUnder(dir);
    const before = await stat(blob ?? '');
    await store.replaceMetadata('obj', { 'x-a': '2' });
    const after = await stat(blob ?? '');
    expect({ ino: after.ino, mtime: after.mtimeMs, size: after.size }).toEqual({ ino: before.ino, mtime: before.mtimeMs, size: before.size });
    expect((await filesUnder(dir)).map((f) => f.replace(/^.*\./, '')).sort()).toEqual(['blob', 'md']);
    expect((await store.head('obj')).metadata).toEqual({ 'x-a': '2' });
  });

  it('ignores a sidecar written for an earlier blob under the same id; delete removes both', async () => {
    await store.put('obj', chunked(Buffer.from('first')), { 'x-v': '1' });
    await store.replaceMetadata('obj', { 'x-v': 'rewrapped' });
    await store.put('obj', chunked(Buffer.from('second')), { 'x-v': '2' });
    expect((await store.head('obj')).metadata).toEqual({ 'x-v': '2' });
    await store.delete('obj');
    expect(await filesUnder(dir)).toEqual([]);
  });

  it('leaves exactly one blob file after overwrites and nothing after delete', async () => {
    for (let i = 0; i < 3; i++) await store.put('obj', chunked(Buffer.from(`v${i}`)), {});
    await store.replaceMetadata('obj', { 'x-v': 'r' });
    expect((await filesUnder(dir)).filter((f) => f.endsWith('.blob')).length).toBe(1);
    await store.delete('obj');
    expect(await filesUnder(dir)).toEqual([]);
  });

  it('publishes a blob only after beforePublish resolves, and not at all when it rejects', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const writing = store.put('gated', chunked(Buffer.from('body')), {}, { beforePublish: () => gate });
    await new Promise((r) => setTimeout(r, 50));
    await expect(store.head('gated')).rejects.toBeInstanceOf(BlobNotFoundError);
    release();
    await writing;
    expect((await readAll(await store.get('gated'))).toString()).toBe('body');

    const refused = new Error('ledger unreachable');
    await expect(store.put('refused', chunked(Buffer.from('body')), {}, { beforePublish: () => Promise.reject(refused) })).rejects.toBe(refused);
    await expect(store.head('refused')).rejects.toBeInstanceOf(BlobNotFoundError);
    expect((await filesUnder(dir)).filter((f) => !f.endsWith('.blob'))).toEqual([]);
  });

  it('reads, rewraps and deletes blobs of the earlier two-file layout', async () => {
    const base = createHash('sha256').update('legacy', 'utf8').digest('hex');
    const where = join(dir, base.slice(0, 2), base.slice(2, 4));
    await mkdir(where, { recursive: true });
    await writeFile(join(where, `${base}.0123456789abcdef.body`), 'old body', { mode: 0o600 });
    const meta = { v: 1, blobId: 'legacy', body: '0123456789abcdef', size: 8, lastModified: new Date().toISOString(), metadata: { 'x-k': 'v1' } };
    await writeFile(join(where, `${base}.meta`), JSON.stringify(meta), { mode: 0o600 });
    expect((await readAll(await store.get('legacy'))).toString()).toBe('old body');
    expect((await readAll(await store.get('legacy', { start: 4, end: 7 }))).toString()).toBe('body');
    await store.replaceMetadata('legacy', { 'x-k': 'v2' });
    expect(await store.head('legacy')).toMatchObject({ size: 8, metadata: { 'x-k': 'v2' } });
    const listed: string[] = [];
    for await (const entry of store.listBlobIds()) listed.push(entry.blobId);
    expect(listed).toEqual(['legacy']);
    await store.delete('legacy');
    expect(await filesUnder(dir)).toEqual([]);
  });

  it('serves a range from a stream that reads only the requested bytes', async () => {
    const body = Buffer.from(Array.from({ length: 256 * 1024 }, (_, i) => i % 256));
    await store.put('big', chunked(body), {});
    const stream = await store.get('big', { start: 200_000, end: 200_009 });
    const back = await readAll(stream);
    expect(back.equals(body.subarray(200_000, 200_010))).toBe(true);
    expect((stream as Readable & { bytesRead?: number }).bytesRead).toBe(10);
  });

  it('lets the last of two overlapping uploads of one id win, whole', async () => {
    const a = Buffer.alloc(200_000, 0xaa);
    const b = Buffer.alloc(150_000, 0xbb);
    await Promise.all([store.put('race', chunked(a, 1000), { 'x-v': 'a' }), store.put('race', chunked(b, 1000), { 'x-v': 'b' })]);
    const info = await store.head('race');
    const back = await readAll(await store.get('race'));
    expect(back.equals(info.metadata['x-v'] === 'a' ? a : b)).toBe(true);
    expect(await filesUnder(dir)).toHaveLength(1);
  });

  it('keeps reading a body that a concurrent overwrite replaces mid-stream', async () => {
    const first = Buffer.alloc(300_000, 1);
    await store.put('obj', chunked(first), {});
    const stream = await store.get('obj');
    await store.put('obj', chunked(Buffer.from('second')), {});
    expect((await readAll(stream)).equals(first)).toBe(true);
  });

  it('lists committed blobs with their write time for the orphan sweep', async () => {
    await store.put('a/1', chunked(Buffer.from('1')), {});
    await store.put('b', chunked(Buffer.from('2')), {});
    await store.put('c', chunked(Buffer.from('3')), {});
    await store.delete('c');
    const listed: { blobId: string; lastModified: Date }[] = [];
    for await (const entry of store.listBlobIds()) listed.push(entry);
    expect(listed.map((e) => e.blobId).sort()).toEqual(['a/1', 'b']);
    for (const e of listed) expect(Math.abs(e.lastModified.getTime() - Date.now())).toBeLessThan(10_000);
  });

  it('lists nothing for a root that does not exist yet', async () => {
    const listed: unknown[] = [];
    for await (const entry of new FsBlobStore(join(dir, 'absent')).listBlobIds()) listed.push(entry);
    expect(listed).toEqual([]);
  });

  it('ignores a temp file a crash left before its rename, and the sweep removes it', async () => {
    await store.put('obj', chunked(Buffer.from('committed')), { 'x-v': '1' });
    const [blob] = await filesUnder(dir);
    const stray = (blob ?? '').replace(/\.blob$/, '.00000000deadbeef.tmp');
    await writeFile(stray, 'torn upload');
    const orphanSidecar = join(dirname(blob ?? ''), `${'f'.repeat(64)}.md`);
    await writeFile(orphanSidecar, '{}');
    const old = new Date(Date.now() - 3_600_000);
    await utimes(stray, old, old);
    await utimes(orphanSidecar, old, old);
    expect((await readAll(await store.get('obj'))).toString()).toBe('committed');
    expect(await store.sweepStrayFiles(new Date(Date.now() - 60_000))).toBe(2);
    expect(await filesUnder(dir)).toEqual([blob]);
    expect((await readAll(await store.get('obj'))).toString()).toBe('committed');
  });

  it('spares stray files younger than the cutoff (an upload in flight)', async () => {
    await store.put('obj', chunked(Buffer.from('x')), {});
    const [blob] = await filesUnder(dir);
    await writeFile((blob ?? '').replace(/\.blob$/, '.0000000000000001.tmp'), 'in flight');
    expect(await store.sweepStrayFiles(new Date(Date.now() - 60_000))).toBe(0);
  });

  it('survives a reopen: a new instance on the same root sees the same blobs', async () => {
    await store.put('kept', chunked(Buffer.from('still here')), { 'x-k': 'v' });
    const reopened = new FsBlobStore(dir);
    expect((await readAll(await reopened.get('kept'))).toString()).toBe('still here');
    expect((await reopened.head('kept')).metadata).toEqual({ 'x-k': 'v' });
    await expect(reopened.get('never')).rejects.toBeInstanceOf(BlobNotFoundError);
  });
});
