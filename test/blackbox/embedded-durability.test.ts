// Durability of the embedded run: data survives a restart, and a process killed between blob write and
// index commit loses nothing and leaves only an orphan that the sweep removes.
import { GetObjectCommand, PutObjectCommand, CreateBucketCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { s3Client } from './s3-suite';
import { startEmbedded, testCreds } from '../support/embedded-target';

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
    const child = spawn(process.execPath, ['--import', 'tsx', join(__dirname, '../fixtures/crash-server.ts')], {
      env: { ...process.env, CRASH_DATA_DIR: dataDir, CRASH_ON_BLOB_WRITE: '2', CRASH_ACCESS_KEY_ID: credentials.accessKeyId, CRASH_SECRET_ACCESS_KEY: credentials.secretAccessKey },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
    const firstLine = await new Promise<string>((resolve, reject) => {
      const rl = createInterface({ input: child.stdout! });
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
});
