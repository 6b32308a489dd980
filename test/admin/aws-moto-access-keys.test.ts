// Access keys on the AWS backend over moto_server: made through the admin CLI over HTTP, secrets sealed by KMS in
// DynamoDB (never plaintext, bound to the key id), roles enforced on S3 requests, secrets moved by a rollover.
import { ScanCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { DecryptCommand } from '@aws-sdk/client-kms';
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { AccessKeyStore, ACCESS_KEYS_PK, secretContext } from '../../lambdas/core/access-keys';
import { openMotoStore, type MotoStore } from '../aws/moto-store';
import { awsBackendUnavailable, startAwsOnMoto, type AwsTarget } from '../support/aws-target';
import { cli, cliJson, client, s3Error } from './helpers';

const describeOnMoto = awsBackendUnavailable ? describe.skip : describe;
const skipped = awsBackendUnavailable ? ` — skipped: ${awsBackendUnavailable}` : '';
const CONFIG = { retireGraceMs: 0, pendingWindowDays: 7, activeKeyCacheMs: 0 };

interface Created {
  accessKey: { accessKeyId: string; secretAccessKey: string; keyId: string; grants: Array<{ bucket: string; role: string }> };
}

/** Every string and binary value of a raw DynamoDB item, at any depth, as bytes. */
function rawValues(value: AttributeValue): Buffer[] {
  if (value.S !== undefined) return [Buffer.from(value.S, 'utf8')];
  if (value.B !== undefined) return [Buffer.from(value.B)];
  if (value.L !== undefined) return value.L.flatMap(rawValues);
  if (value.M !== undefined) return Object.values(value.M).flatMap(rawValues);
  if (value.SS !== undefined) return value.SS.map((s) => Buffer.from(s, 'utf8'));
  if (value.BS !== undefined) return value.BS.map((b) => Buffer.from(b));
  return [];
}

describeOnMoto(`access keys on the AWS backend (moto_server, over HTTP)${skipped}`, () => {
  let target: AwsTarget;
  let store: MotoStore;
  let root: S3Client;
  const clients: S3Client[] = [];

  beforeAll(async () => {
    target = await startAwsOnMoto({ lifecycleConfig: CONFIG });
    store = await openMotoStore(target, CONFIG);
    root = client(target.url, target.creds);
    for (const bucket of ['docs', 'other']) {
      await root.send(new CreateBucketCommand({ Bucket: bucket }));
      await root.send(new PutObjectCommand({ Bucket: bucket, Key: 'doc', Body: `words in ${bucket}` }));
    }
  });
  afterAll(async () => {
    for (const c of clients) c.destroy();
    root.destroy();
    store.close();
    await target.close();
  });

  async function readKey(): Promise<{ created: Created['accessKey']; s3: S3Client }> {
    const { accessKey } = await cliJson<Created>(target, 'access-keys', 'create', '--bucket', 'docs', '--role', 'read');
    const s3 = client(target.url, { accessKeyId: accessKey.accessKeyId, secretAccessKey: accessKey.secretAccessKey });
    clients.push(s3);
    return { created: accessKey, s3 };
  }
  const get = (s3: S3Client, bucket = 'docs') => s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'doc' })).then((r) => r.Body?.transformToString());
  const put = (s3: S3Client) => s3.send(new PutObjectCommand({ Bucket: 'docs', Key: 'new', Body: 'x' }));
  const denied = async (p: Promise<unknown>) => expect(await s3Error(p)).toMatchObject({ code: 'AccessDenied', status: 403 });
  const rawTable = async () => (await store.clients.dynamodb.send(new ScanCommand({ TableName: store.tableName }))).Items ?? [];
  const openSealed = (sealed: Uint8Array, accessKeyId: string) =>
    store.clients.kms.send(new DecryptCommand({ CiphertextBlob: sealed, EncryptionContext: { ...secretContext(accessKeyId) } }));

  it('creates a read-only key through the CLI and stores its secret only as KMS ciphertext bound to the key id', async () => {
    const { created } = await readKey();
    expect(created).toMatchObject({ grants: [{ bucket: 'docs', role: 'read' }], keyId: await store.kms.resolveKeyId(store.keyAlias) });
    const secret = Buffer.from(created.secretAccessKey, 'utf8');
    expect(secret.length).toBeGreaterThanOrEqual(40);

    // The raw table, read with a test-only Scan: no item, at any depth, holds the secret in any attribute.
    const items = await rawTable();
    const item = items.find((i) => i['pk']?.S === ACCESS_KEYS_PK && i['sk']?.S === created.accessKeyId);
    if (!item) throw new Error('the access key has no item in DynamoDB');
    for (const raw of items) for (const v of Object.values(raw).flatMap(rawValues)) expect(v.includes(secret)).toBe(false);
    expect(JSON.stringify(items)).not.toContain(created.secretAccessKey);

    // What is stored is KMS ciphertext under the active CMK that opens only with this key id as context.
    const sealed = item['sealedSecret']?.B;
    if (!sealed) throw new Error('the access key item has no binary sealedSecret');
    const opened = await openSealed(sealed, created.accessKeyId);
    expect(Buffer.from(opened.Plaintext ?? []).equals(secret)).toBe(true);
    expect(opened.KeyId).toBe(created.keyId);
    await expect(openSealed(sealed, 'SK000000000000000000')).rejects.toMatchObject({ name: 'InvalidCiphertextException' });
  });

  it('the read-only key can GET and list its bucket, and gets AccessDenied on PUT, DELETE, another bucket and the admin API', async () => {
    const { s3, created } = await readKey();
    expect(await get(s3)).toBe('words in docs');
    expect((await s3.send(new ListObjectsV2Command({ Bucket: 'docs' }))).KeyCount).toBe(1);
    await denied(put(s3));
    await denied(s3.send(new DeleteObjectCommand({ Bucket: 'docs', Key: 'doc' })));
    await denied(get(s3, 'other'));
    const admin = await cli({ url: target.url, creds: { accessKeyId: created.accessKeyId, secretAccessKey: created.secretAccessKey } }, 'keys', 'ls');
    expect(admin.code).toBe(1);
    expect(admin.err).toMatch(/AccessDenied/);
    expect(await get(root)).toBe('words in docs'); // the refused writes changed nothing
  });

  it('a disabled key is refused with InvalidAccessKeyId, and enabling it restores access', async () => {
    const { s3, created } = await readKey();
    expect((await cli(target, 'access-keys', 'disable', created.accessKeyId)).code).toBe(0);
    expect(await s3Error(get(s3))).toMatchObject({ code: 'InvalidAccessKeyId', status: 403 });
    expect((await cli(target, 'access-keys', 'enable', created.accessKeyId)).code).toBe(0);
    expect(await get(s3)).toBe('words in docs');
  });

  it('after a rollover the job moves every sealed secret to the new CMK with ReEncrypt, retires the old CMK, and the keys still authenticate', async () => {
    const { s3, created } = await readKey();
    const oldKey = created.keyId;
    const made = await cliJson<{ key: { keyId: string } }>(target, 'keys', 'create', '--alias', 'secrets-next');
    await cliJson(target, 'keys', 'rollover', '--to', 'secrets-next');
    const report = (await cliJson<{ report: { sealedSecretsRewrapped: number; errors: number; retired: Array<{ keyId: string }> } }>(target, 'keys', 'rewrap')).report;
    const sealedBefore = (await store.index.query(ACCESS_KEYS_PK, { limit: 100 })).items;
    // Every access-key secret, and the index key that authenticates the table's rows.
    expect(report).toMatchObject({ sealedSecretsRewrapped: sealedBefore.length + 1, errors: 0 });
    expect(report.retired.map((r) => r.keyId)).toEqual([oldKey]);

    const listed = await cliJson<{ accessKeys: Array<{ accessKeyId: string; keyId: string }> }>(target, 'access-keys', 'ls');
    expect(new Set(listed.accessKeys.map((k) => k.keyId))).toEqual(new Set([made.key.keyId]));
    const item = (await rawTable()).find((i) => i['pk']?.S === ACCESS_KEYS_PK && i['sk']?.S === created.accessKeyId);
    const opened = await openSealed(item?.['sealedSecret']?.B ?? new Uint8Array(), created.accessKeyId);
    expect(opened.KeyId).toBe(made.key.keyId);
    expect(Buffer.from(opened.Plaintext ?? []).toString('utf8')).toBe(created.secretAccessKey);

    // A store with a cold cache (another Lambda container) opens the moved secret through KMS.
    const cold = new AccessKeyStore({ index: store.index, vault: store.kms, activeKeys: { activeKeyId: async () => made.key.keyId } });
    expect((await cold.lookup(created.accessKeyId))?.secret).toBe(created.secretAccessKey);
    expect(await get(s3)).toBe('words in docs');
    expect((await store.describe(oldKey)).KeyState).toBe('PendingDeletion');
  });
});
