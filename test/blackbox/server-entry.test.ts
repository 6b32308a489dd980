// The front door: `npm start` (bin/server.ts) in a real child process, embedded and `--backend aws --init`
// against moto_server, used by the SDK, then shut down with SIGTERM/SIGINT.
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { s3Client } from './s3-suite';
import { awsBackendUnavailable } from '../support/aws-target';
import { motoCredentials, startMoto } from '../support/moto';
import { exitOf, startServerProcess } from '../support/server-process';

const startEntry = startServerProcess;

async function roundTrip(url: string, creds: { accessKeyId: string; secretAccessKey: string }): Promise<void> {
  const s3 = s3Client({ url, creds });
  const body = randomBytes(123_456);
  await s3.send(new CreateBucketCommand({ Bucket: 'front-door' }));
  await s3.send(new PutObjectCommand({ Bucket: 'front-door', Key: 'hello.bin', Body: body }));
  const got = await s3.send(new GetObjectCommand({ Bucket: 'front-door', Key: 'hello.bin' }));
  expect(Buffer.from(await got.Body!.transformToByteArray()).equals(body)).toBe(true);
  s3.destroy();
}

describe('npm start (bin/server.ts)', () => {
  let dataDir: string;
  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'sealstore-entry-'));
  });
  afterEach(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('starts embedded, prints root credentials once (saved 0600), serves S3, and exits 0 on SIGTERM', async () => {
    const env = { SEALSTORE_DATA_DIR: dataDir, SEALSTORE_ACCESS_KEY_ID: '', SEALSTORE_SECRET_ACCESS_KEY: '' };
    const first = await startEntry([], env);
    const id = /access key id:\s+(\S+)/.exec(first.output())?.[1];
    const secret = /secret access key:\s+(\S+)/.exec(first.output())?.[1];
    expect(id && secret).toBeTruthy();
    expect((await stat(join(dataDir, 'root-credentials.json'))).mode & 0o777).toBe(0o600);
    await roundTrip(first.url, { accessKeyId: id!, secretAccessKey: secret! });
    const exited = exitOf(first.child);
    first.child.kill('SIGTERM');
    expect(await exited).toBe(0);

    // Second start: same data, credentials not printed again, the object is still there.
    const second = await startEntry([], env);
    expect(second.output()).not.toContain(secret!);
    const s3 = s3Client({ url: second.url, creds: { accessKeyId: id!, secretAccessKey: secret! } });
    const got = await s3.send(new GetObjectCommand({ Bucket: 'front-door', Key: 'hello.bin' }));
    expect((await got.Body!.transformToByteArray()).length).toBe(123_456);
    s3.destroy();
    const exited2 = exitOf(second.child);
    second.child.kill('SIGINT');
    expect(await exited2).toBe(0);
  }, 90_000);

  (awsBackendUnavailable ? it.skip : it)(
    `goes from an empty AWS endpoint to a working store with --backend aws --init${awsBackendUnavailable ? ` — skipped: ${awsBackendUnavailable}` : ''}`,
    async () => {
      const moto = await startMoto();
      if (!moto) throw new Error('moto_server vanished');
      const creds = { accessKeyId: 'ENTRYROOT', secretAccessKey: randomBytes(20).toString('hex') };
      try {
        const started = await startEntry(['--backend', 'aws', '--init'], {
          SEALSTORE_DATA_DIR: dataDir,
          AWS_ENDPOINT_URL: moto.endpoint,
          AWS_REGION: 'us-east-1',
          AWS_ACCESS_KEY_ID: motoCredentials.accessKeyId,
          AWS_SECRET_ACCESS_KEY: motoCredentials.secretAccessKey,
          SEALSTORE_TABLE_NAME: 'sealstore-entry',
          SEALSTORE_BLOB_BUCKET: 'sealstore-entry-blobs',
          SEALSTORE_KMS_KEY_ID: 'alias/sealstore-entry',
          SEALSTORE_ACCESS_KEY_ID: creds.accessKeyId,
          SEALSTORE_SECRET_ACCESS_KEY: creds.secretAccessKey,
        });
        expect(started.output()).toContain('initialised: table sealstore-entry, bucket sealstore-entry-blobs');
        await roundTrip(started.url, creds);
        const exited = exitOf(started.child);
        started.child.kill('SIGTERM');
        expect(await exited).toBe(0);
      } finally {
        await moto.stop();
      }
    },
    90_000,
  );
});
