// Durability of the embedded run: data survives a restart, and a process killed between blob write and
// index commit loses nothing and leaves only an orphan that the sweep removes.
import { GetObjectCommand, PutObjectCommand, CreateBucketCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { createHash, randomBytes } from 'node:crypto';
import { s3Client } from './s3-suite';
import { startEmbedded, testCreds } from '../support/embedded-target';
import { exitOf, startServerProcess } from '../support/server-process';

describe('embedded durability', () => {
  let dataDir: string;
  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'sealstore-durable-'));
  });
  afterEach(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('keeps buckets and objects across a restart', async () => {
    const credentials = testCreds();
    const first = await startEmbedded({ dataDir, keepData: true, credentials });
    const s3 = s3Client(first);
    await s3.send(new CreateBucketCommand({ Bucket: 'persist' }));
    await s3.send(new PutObjectCommand({ Bucket: 'persist', Key: 'a/b.txt', Body: 'survives' }));
    s3.destroy();
    await first.close();

    const second = await startEmbedded({ dataDir, keepData: true, credentials });
    const s3b = s3Client(second);
    const got = await s3b.send(new GetObjectCommand({ Bucket: 'persist', Key: 'a/b.txt' }));
    expect(await got.Body!.transformToString()).toBe('survives');
    s3b.destroy();
    await second.close();
  });

  it('loses nothing when the process dies between blob write and index commit, and sweeps the orphan', async () => {
    const credentials = testCreds();
    const child = spawn(process.execPath, ['--require', 'tsx/cjs', join(__dirname, '../fixtures/crash-server.ts')], {
      env: { ...process.env, CRASH_DATA_DIR: dataDir, CRASH_ON_BLOB_WRITE: '2', CRASH_ACCESS_KEY_ID: credentials.accessKeyId, CRASH_SECRET_ACCESS_KEY: credentials.secretAccessKey },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
    const firstLine = await new Promise<string>((resolve, reject) => {
      const rl = createInterface({ input: child.stdout });
      rl.once('line', resolve);
      child.once('exit', () => reject(new Error('crash server exited before it started')));
    });
    const { url } = JSON.parse(firstLine) as { url: string };
    const s3 = s3Client({ url, creds: credentials });
    await s3.send(new CreateBucketCommand({ Bucket: 'crash' }));
    await s3.send(new PutObjectCommand({ Bucket: 'crash', Key: 'doc', Body: 'version one' }));
    await expect(s3.send(new PutObjectCommand({ Bucket: 'crash', Key: 'doc', Body: 'version two' }))).rejects.toThrow();
    expect(await exited).toBe('SIGKILL');
    s3.destroy();

    const restarted = await startEmbedded({ dataDir, keepData: true, credentials });
    const s3b = s3Client(restarted);
    const got = await s3b.send(new GetObjectCommand({ Bucket: 'crash', Key: 'doc' }));
    expect(await got.Body!.transformToString()).toBe('version one');
    const listed = await s3b.send(new ListObjectsV2Command({ Bucket: 'crash' }));
    expect(listed.Contents?.map((c) => c.Key)).toEqual(['doc']);
    expect((await restarted.rawBlobs()).length).toBe(2);
    const swept = await restarted.server.service.sweep(0);
    expect(swept.blobsDeleted).toBe(1);
    expect((await restarted.rawBlobs()).length).toBe(1);
    const again = await s3b.send(new GetObjectCommand({ Bucket: 'crash', Key: 'doc' }));
    expect(await again.Body!.transformToString()).toBe('version one');
    s3b.destroy();
    await restarted.close();
  }, 60_000);

  it('loses no acknowledged write when npm start is SIGKILLed under eight concurrent writers', async () => {
    const credentials = testCreds();
    const server = await startServerProcess([], { SEALSTORE_DATA_DIR: dataDir, SEALSTORE_ACCESS_KEY_ID: credentials.accessKeyId, SEALSTORE_SECRET_ACCESS_KEY: credentials.secretAccessKey });
    const s3 = s3Client({ url: server.url, creds: credentials });
    await s3.send(new CreateBucketCommand({ Bucket: 'kill' }));
    // Each writer owns five keys and writes them in turn: at the kill, each key holds its last acknowledged
    // body, or the one in flight for it when the process died.
    const acked = new Map<string, string>();
    const inFlight = new Map<string, string>();
    const digest = (b: Buffer) => createHash('sha256').update(b).digest('hex');
    let killed = false;
    // Killed after a count of acknowledged writes, not after a time: the same work on a fast or a loaded machine.
    const KILL_AFTER_ACKS = 24;
    let acks = 0;
    let reachedKillPoint: () => void = () => undefined;
    const killPoint = new Promise<void>((resolve) => (reachedKillPoint = resolve));
    const writer = async (w: number) => {
      for (let i = 0; !killed; i++) {
        const key = `w${w}/k${i % 5}`;
        const body = randomBytes(1024 + Math.floor(Math.random() * 2 * 1024 * 1024));
        inFlight.set(key, digest(body));
        try {
          await s3.send(new PutObjectCommand({ Bucket: 'kill', Key: key, Body: body }));
          acked.set(key, digest(body));
          inFlight.delete(key);
          if (++acks >= KILL_AFTER_ACKS) reachedKillPoint();
        } catch {
          return; // the server is gone: this write is in doubt
        }
      }
    };
    const writers = Promise.all(Array.from({ length: 8 }, (_, w) => writer(w)));
    await killPoint;
    killed = true;
    server.child.kill('SIGKILL');
    await exitOf(server.child);
    await writers;
    s3.destroy();
    console.log(`SIGKILL after ${acks} acknowledged PUTs over ${acked.size} keys, ${inFlight.size} in flight`);

    const restarted = await startEmbedded({ dataDir, keepData: true, credentials });
    const s3b = s3Client(restarted);
    let live = 0;
    for (const key of new Set([...acked.keys(), ...inFlight.keys()])) {
      let found: string | null = null;
      try {
        const got = await s3b.send(new GetObjectCommand({ Bucket: 'kill', Key: key }));
        found = digest(Buffer.from(await got.Body!.transformToByteArray()));
      } catch (e) {
        if ((e as { name?: string }).name !== 'NoSuchKey') throw e;
      }
      const allowed = [acked.get(key) ?? null, inFlight.get(key) ?? null].filter((d, i) => d !== null || i === 0);
      expect({ key, found, allowed: allowed.includes(found) }).toEqual({ key, found, allowed: true });
      if (found !== null) live++;
    }
    // The sweep leaves exactly one blob per live object: nothing leaked, nothing lost.
    await restarted.server.service.sweep(0);
    expect((await restarted.rawBlobs()).length).toBe(live);
    s3b.destroy();
    await restarted.close();
  }, 120_000);
});
