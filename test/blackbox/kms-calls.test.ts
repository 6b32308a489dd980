// KMS quotas are shared per account: exactly one GenerateDataKey per PUT (and per delete marker) and at most one
// Decrypt per GET.
// Counted on the wire for the AWS backend (SDK middleware on the real KMS client, against moto) and at the
// port for the embedded vault.
import { CreateBucketCommand, DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, PutBucketVersioningCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { initAwsResources, openAwsBackend } from '../../lambdas/adapters/aws';
import { openEmbeddedBackend } from '../../lambdas/adapters/embedded';
import { startServer, type Backend } from '../../local/server';
import { s3Client } from './s3-suite';
import { testCreds } from '../support/embedded-target';
import { awsBackendUnavailable } from '../support/aws-target';
import { startMoto } from '../support/moto';
import { interceptVault } from '../support/port-wrappers';
import { motoClients } from '../aws/moto-clients';

type Counts = Record<string, number>;

async function exercise(backend: Backend, counts: Counts): Promise<void> {
  const creds = testCreds();
  const server = await startServer({ backend, credentials: creds });
  const s3 = s3Client({ url: server.url, creds });
  try {
    await s3.send(new CreateBucketCommand({ Bucket: 'counted' }));
    const body = randomBytes(300_000);
    for (const k of Object.keys(counts)) delete counts[k];
    for (let i = 0; i < 5; i++) await s3.send(new PutObjectCommand({ Bucket: 'counted', Key: `k${i}`, Body: body }));
    expect(counts['GenerateDataKey']).toBe(5);
    expect(counts['Decrypt'] ?? 0).toBe(0);
    for (const k of Object.keys(counts)) delete counts[k];
    for (let i = 0; i < 5; i++) {
      const got = await s3.send(new GetObjectCommand({ Bucket: 'counted', Key: `k${i}` }));
      await got.Body!.transformToByteArray();
      await (await s3.send(new GetObjectCommand({ Bucket: 'counted', Key: `k${i}`, Range: 'bytes=70000-140000' }))).Body!.transformToByteArray();
      await s3.send(new HeadObjectCommand({ Bucket: 'counted', Key: `k${i}` }));
    }
    // Ten GETs (whole and ranged), five HEADs: one Decrypt per GET, none for HEAD, no new data keys.
    expect(counts['Decrypt']).toBe(10);
    expect(counts['GenerateDataKey'] ?? 0).toBe(0);
    // A delete marker is a record-only blob under a data key of its own: one GenerateDataKey per marker DELETE, as a PUT.
    await s3.send(new PutBucketVersioningCommand({ Bucket: 'counted', VersioningConfiguration: { Status: 'Enabled' } }));
    for (const k of Object.keys(counts)) delete counts[k];
    for (let i = 0; i < 3; i++) expect((await s3.send(new DeleteObjectCommand({ Bucket: 'counted', Key: `k${i}` }))).DeleteMarker).toBe(true);
    expect([counts['GenerateDataKey'], counts['Decrypt'] ?? 0]).toEqual([3, 0]);
  } finally {
    s3.destroy();
    await server.close();
  }
}

describe('key-vault calls per operation', () => {
  it('embedded vault: one data key per PUT, one unwrap per GET, none per HEAD', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sealstore-kms-'));
    const backend = await openEmbeddedBackend(dir);
    const counts: Counts = {};
    // Named as KMS names them, so `exercise` reads both backends' counts alike.
    const vault = interceptVault(backend.vault, (call, proceed) => {
      const name = call.op.charAt(0).toUpperCase() + call.op.slice(1);
      counts[name] = (counts[name] ?? 0) + 1;
      return proceed();
    });
    try {
      await exercise({ ...backend, vault }, counts);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  (awsBackendUnavailable ? it.skip : it)(`AWS KMS on the wire: one GenerateDataKey per PUT, one Decrypt per GET${awsBackendUnavailable ? ` — skipped: ${awsBackendUnavailable}` : ''}`, async () => {
    const moto = await startMoto();
    if (!moto) throw new Error('moto_server vanished');
    const clients = motoClients(moto.endpoint);
    const counts: Counts = {};
    clients.kms.middlewareStack.add(
      (next, context) => async (args) => {
        const name = String(context.commandName ?? '').replace(/Command$/, '');
        counts[name] = (counts[name] ?? 0) + 1;
        return next(args);
      },
      { step: 'initialize', name: 'countKmsCalls' },
    );
    try {
      const names = { tableName: 'counted-index', bucket: 'counted-blobs', keyAlias: 'alias/counted' };
      await initAwsResources(clients, names);
      const backend = await openAwsBackend({ SEALSTORE_TABLE_NAME: names.tableName, SEALSTORE_BLOB_BUCKET: names.bucket, SEALSTORE_KMS_KEY_ID: names.keyAlias }, clients);
      await exercise({ ...backend, close: async () => undefined }, counts);
    } finally {
      clients.kms.destroy();
      clients.s3.destroy();
      clients.dynamodb.destroy();
      await moto.stop();
    }
  }, 60_000);
});
