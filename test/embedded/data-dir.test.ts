// The embedded data directory has one owner and keeps its secrets private: a second server on it refuses to start
// and changes nothing; every file is 0600; lost key files stop the start instead of being silently replaced.
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmod, mkdtemp, readdir, readFile, rm, stat, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataDirLockedError, openEmbeddedBackend } from '../../lambdas/adapters/embedded';
import { startServer } from '../../local/server';
import { s3Client } from '../blackbox/s3-suite';
import { exitOf, startServerProcess } from '../support/server-process';

const SERVER = join(__dirname, '../../bin/server.ts');

/** Every file and directory under `dir`: mode, size, mtime and content digest, so any change shows. */
async function snapshot(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    const path = join(entry.parentPath, entry.name);
    const s = await stat(path);
    const digest = entry.isFile() ? createHash('sha256').update(await readFile(path)).digest('hex') : 'dir';
    out[path.slice(dir.length)] = `${(s.mode & 0o7777).toString(8)} ${s.size} ${s.mtimeMs} ${digest}`;
  }
  return out;
}

function withoutOwnerNote(files: Record<string, string>): Record<string, string> {
  const { '/lock.owner': _note, ...rest } = files;
  return rest;
}

/** Runs `npm start`'s entry to its exit; resolves with the exit code and everything it printed. */
function runToExit(args: readonly string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, ['--require', 'tsx/cjs', SERVER, '--port', '0', ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr.on('data', (c: Buffer) => (output += c.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  return exitOf(child).then((code) => {
    clearTimeout(timer);
    return { code, output };
  });
}

describe('one owner per data directory', () => {
  let work: string;
  beforeEach(async () => {
    work = await mkdtemp(join(tmpdir(), 'sealstore-datadir-'));
  });
  afterEach(async () => {
    await rm(work, { recursive: true, force: true });
  });

  it('refuses a second server on the same directory, naming the holder’s pid; the first keeps serving and no file changes', async () => {
    const dataDir = join(work, 'data');
    const creds = { accessKeyId: 'LOCKROOT', secretAccessKey: randomBytes(24).toString('base64url') };
    const env = { SEALSTORE_DATA_DIR: dataDir, SEALSTORE_ACCESS_KEY_ID: creds.accessKeyId, SEALSTORE_SECRET_ACCESS_KEY: creds.secretAccessKey };
    const first = await startServerProcess([], env);
    const s3 = s3Client({ url: first.url, creds });
    try {
      await s3.send(new CreateBucketCommand({ Bucket: 'held' }));
      await s3.send(new PutObjectCommand({ Bucket: 'held', Key: 'k', Body: 'before' }));
      const before = await snapshot(dataDir);

      const second = await runToExit([], env);
      expect(second.code).not.toBe(0);
      expect(second.output).toContain(`in use by another sealstore server (pid ${first.child.pid})`);
      expect(second.output).not.toContain('listening on');
      expect(await snapshot(dataDir)).toEqual(before);

      await s3.send(new PutObjectCommand({ Bucket: 'held', Key: 'k2', Body: 'after' }));
      expect(await (await s3.send(new GetObjectCommand({ Bucket: 'held', Key: 'k' }))).Body?.transformToString()).toBe('before');
    } finally {
      s3.destroy();
    }

    // A holder that dies without closing (SIGKILL) leaves no stale lock: the kernel drops it.
    first.child.kill('SIGKILL');
    await exitOf(first.child);
    const third = await startServerProcess([], env);
    const again = s3Client({ url: third.url, creds });
    try {
      expect(await (await again.send(new GetObjectCommand({ Bucket: 'held', Key: 'k2' }))).Body?.transformToString()).toBe('after');
    } finally {
      again.destroy();
      expect(await third.stop()).toBe(0);
    }
  }, 90_000);

  it('refuses a second open within one process too, keeps the first one’s lock through the refusals, and frees the directory on close', async () => {
    const first = await openEmbeddedBackend(work);
    await expect(openEmbeddedBackend(work)).rejects.toBeInstanceOf(DataDirLockedError);
    await expect(openEmbeddedBackend(work)).rejects.toThrow(`pid ${process.pid}`);
    // Still held against other processes (a refused open must not close a descriptor that drops it).
    const other = await runToExit([], { SEALSTORE_DATA_DIR: work, SEALSTORE_ACCESS_KEY_ID: 'OTHERPROC', SEALSTORE_SECRET_ACCESS_KEY: 'other-process-secret' });
    expect(other.code).not.toBe(0);
    expect(other.output).toContain(`in use by another sealstore server (pid ${process.pid})`);
    await first.close();
    const second = await openEmbeddedBackend(work);
    await second.close();
  });
});

describe('a private data directory', () => {
  let work: string;
  beforeEach(async () => {
    work = await mkdtemp(join(tmpdir(), 'sealstore-private-'));
  });
  afterEach(async () => {
    await rm(work, { recursive: true, force: true });
  });

  async function modes(dir: string): Promise<Array<[string, string]>> {
    const out: Array<[string, string]> = [];
    for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
      const path = join(entry.parentPath, entry.name);
      out.push([path.slice(dir.length), ((await stat(path)).mode & 0o777).toString(8)]);
    }
    return out;
  }

  it('keeps every file 0600 and every directory 0700, including the index and its WAL files; older 0644 index files are made private', async () => {
    const creds = { accessKeyId: 'PRIVROOT', secretAccessKey: randomBytes(24).toString('base64url') };
    const run = async () => {
      const server = await startServer({ backend: await openEmbeddedBackend(work), credentials: creds });
      const s3 = s3Client({ url: server.url, creds });
      try {
        await s3.send(new CreateBucketCommand({ Bucket: 'private' })).catch(() => undefined);
        await s3.send(new PutObjectCommand({ Bucket: 'private', Key: 'k', Body: randomBytes(300_000) }));
        const seen = await modes(work);
        expect(seen.map(([p]) => p)).toEqual(expect.arrayContaining(['/index.sqlite', '/index.sqlite-wal', '/index.sqlite-shm', '/keys/root.key', '/keys/keys.json', '/lock']));
        for (const [path, mode] of seen) {
          const isDir = (await stat(join(work, path))).isDirectory();
          expect([path, mode]).toEqual([path, isDir ? '700' : '600']);
        }
      } finally {
        s3.destroy();
        await server.close();
      }
    };
    await run();
    for (const f of ['index.sqlite', 'index.sqlite-wal', 'index.sqlite-shm']) await chmod(join(work, f), 0o644).catch(() => undefined);
    await run();
  });

  it('refuses to start without root.key when keys exist: names the file and writes nothing', async () => {
    const backend = await openEmbeddedBackend(work);
    await backend.close();
    await unlink(join(work, 'keys', 'root.key'));
    const before = await snapshot(work);
    await expect(openEmbeddedBackend(work)).rejects.toThrow(`${join(work, 'keys', 'root.key')} is missing`);
    // This open took the free lock and noted itself as holder (lock.owner); nothing else is touched.
    expect(withoutOwnerNote(await snapshot(work))).toEqual(withoutOwnerNote(before));
  });

  it('refuses to start without keys.json when the index holds a store', async () => {
    const server = await startServer({ backend: await openEmbeddedBackend(work), credentials: { accessKeyId: 'KJ', secretAccessKey: 'kj-secret-kj-secret' } });
    await server.close();
    await unlink(join(work, 'keys', 'keys.json'));
    const before = await snapshot(work);
    await expect(openEmbeddedBackend(work)).rejects.toThrow(`${join(work, 'keys', 'keys.json')} is missing`);
    expect(withoutOwnerNote(await snapshot(work))).toEqual(withoutOwnerNote(before));
  });
});
