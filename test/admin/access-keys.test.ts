// Access keys over real HTTP with the AWS SDK: every action outside a key's role is AccessDenied,
// a key for one bucket cannot touch another, disabled and deleted keys are refused as S3 refuses unknown keys.
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { EmbeddedTarget } from '../support/embedded-target';
import type { Creds } from '../support/signed-fetch';
import { cli, cliJson, client, s3Error, startAdminTarget } from './helpers';

interface Created {
  accessKey: { accessKeyId: string; secretAccessKey: string; keyId: string; grants: Array<{ bucket: string; role: string }> };
}

describe('access keys (embedded backend, over HTTP)', () => {
  let target: EmbeddedTarget;
  let root: S3Client;
  const clients: S3Client[] = [];

  beforeAll(async () => {
    target = await startAdminTarget();
    root = client(target.url, target.creds);
    for (const b of ['bucket-a', 'bucket-b']) await root.send(new CreateBucketCommand({ Bucket: b }));
    await root.send(new PutObjectCommand({ Bucket: 'bucket-a', Key: 'doc', Body: 'secret words' }));
    await root.send(new PutObjectCommand({ Bucket: 'bucket-b', Key: 'doc', Body: 'other words' }));
  });
  afterAll(async () => {
    for (const c of clients) c.destroy();
    root.destroy();
    await target.close();
  });

  async function keyFor(bucket: string, role: string): Promise<{ creds: Creds; s3: S3Client }> {
    const created = await cliJson<Created>(target, 'access-keys', 'create', '--bucket', bucket, '--role', role);
    const creds = { accessKeyId: created.accessKey.accessKeyId, secretAccessKey: created.accessKey.secretAccessKey };
    const s3 = client(target.url, creds);
    clients.push(s3);
    return { creds, s3 };
  }
  const get = (s3: S3Client, bucket = 'bucket-a') => s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'doc' })).then((r) => r.Body?.transformToString());
  const put = (s3: S3Client, bucket = 'bucket-a', key = 'new') => s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'x' }));
  const del = (s3: S3Client, bucket = 'bucket-a', key = 'new') => s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
  const list = (s3: S3Client, bucket = 'bucket-a') => s3.send(new ListObjectsV2Command({ Bucket: bucket }));
  const denied = async (p: Promise<unknown>) => expect(await s3Error(p)).toMatchObject({ code: 'AccessDenied', status: 403 });

  it('prints the secret once and lists keys without secrets', async () => {
    const made = await cli(target, 'access-keys', 'create', '--bucket', 'bucket-a', '--role', 'read');
    expect(made.code).toBe(0);
    const secret = /secret access key: (\S+)/.exec(made.out)?.[1] ?? '';
    expect(secret.length).toBeGreaterThanOrEqual(40);
    const listed = await cli(target, 'access-keys', 'ls');
    expect(listed.out).toMatch(/ACCESS KEY\s+STATUS\s+GRANTS/);
    expect(listed.out).toMatch(/read@bucket-a/);
    expect(listed.out).not.toContain(secret);
    expect(JSON.stringify(await cliJson(target, 'access-keys', 'ls'))).not.toContain(secret);
  });

  it('a read key can GET and list its bucket, and nothing else', async () => {
    const { s3, creds } = await keyFor('bucket-a', 'read');
    expect(await get(s3)).toBe('secret words');
    expect((await list(s3)).KeyCount).toBeGreaterThan(0);
    await denied(put(s3));
    await denied(del(s3, 'bucket-a', 'doc'));
    await denied(get(s3, 'bucket-b'));
    await denied(list(s3, 'bucket-b'));
    const admin = await cli({ url: target.url, creds }, 'keys', 'ls');
    expect(admin.code).toBe(1);
    expect(admin.err).toMatch(/AccessDenied/);
  });

  it('a write key can PUT but not GET or DELETE', async () => {
    const { s3 } = await keyFor('bucket-a', 'write');
    await put(s3, 'bucket-a', 'w1');
    await denied(get(s3));
    await denied(del(s3, 'bucket-a', 'w1'));
    await denied(put(s3, 'bucket-b'));
    expect(await root.send(new GetObjectCommand({ Bucket: 'bucket-a', Key: 'w1' })).then((r) => r.Body?.transformToString())).toBe('x');
  });

  it('a delete key can DELETE but not GET or PUT', async () => {
    await put(root, 'bucket-a', 'd1');
    const { s3 } = await keyFor('bucket-a', 'delete');
    await denied(get(s3));
    await denied(put(s3));
    // A delete conditional on an ETag reveals the ETag, so S3 wants s3:GetObject too; If-Match: * only existence.
    const { ETag } = await put(root, 'bucket-a', 'd2');
    await denied(s3.send(new DeleteObjectCommand({ Bucket: 'bucket-a', Key: 'd2', IfMatch: ETag })));
    const batch = await s3.send(new DeleteObjectsCommand({ Bucket: 'bucket-a', Delete: { Objects: [{ Key: 'd2', ETag }] } }));
    expect(batch.Errors?.map((e) => [e.Key, e.Code])).toEqual([['d2', 'AccessDenied']]);
    await s3.send(new DeleteObjectCommand({ Bucket: 'bucket-a', Key: 'd2', IfMatch: '*' }));
    await del(s3, 'bucket-a', 'd1');
    await denied(del(s3, 'bucket-b', 'doc'));
    expect((await s3Error(root.send(new GetObjectCommand({ Bucket: 'bucket-a', Key: 'd1' })))).code).toBe('NoSuchKey');
    expect((await s3Error(root.send(new GetObjectCommand({ Bucket: 'bucket-a', Key: 'd2' })))).code).toBe('NoSuchKey');
  });

  it('a rewrap key cannot read or write bodies but can run rewrap and rotation; other admin calls are denied', async () => {
    const { s3, creds } = await keyFor('*', 'rewrap');
    await denied(get(s3));
    await denied(get(s3, 'bucket-b'));
    await denied(put(s3));
    const as = { url: target.url, creds };
    expect((await cli(as, 'keys', 'rotate')).code).toBe(0);
    const rewrap = await cliJson<{ report: { rewrapped: number; remaining: number; errors: number } }>(as, 'keys', 'rewrap');
    expect(rewrap.report.rewrapped).toBeGreaterThan(0);
    expect(rewrap.report).toMatchObject({ remaining: 0, errors: 0 });
    expect((await cli(as, 'keys', 'ls')).code).toBe(0);
    for (const args of [
      ['keys', 'create', '--alias', 'sneaky'],
      ['keys', 'rollover', '--to', 'sealstore-default'],
      ['keys', 'disable', 'sealstore-default'],
      ['access-keys', 'create', '--bucket', '*', '--role', 'admin'],
      ['access-keys', 'ls'],
    ]) {
      const r = await cli(as, ...args);
      expect({ args, code: r.code }).toEqual({ args, code: 1 });
      expect(r.err).toMatch(/AccessDenied/);
    }
    expect(await get(root)).toBe('secret words');
  });

  it('an admin key for one bucket works there only and cannot use the store-wide admin API', async () => {
    const { s3, creds } = await keyFor('bucket-a', 'admin');
    expect(await get(s3)).toBe('secret words');
    await put(s3, 'bucket-a', 'adm');
    await del(s3, 'bucket-a', 'adm');
    await denied(get(s3, 'bucket-b'));
    expect((await cli({ url: target.url, creds }, 'access-keys', 'ls')).err).toMatch(/AccessDenied/);
  });

  it('a disabled key is refused as unknown (InvalidAccessKeyId); enabling restores it; a deleted key is gone', async () => {
    const { s3, creds } = await keyFor('bucket-a', 'read');
    expect(await get(s3)).toBe('secret words');
    expect((await cli(target, 'access-keys', 'disable', creds.accessKeyId)).code).toBe(0);
    expect(await s3Error(get(s3))).toMatchObject({ code: 'InvalidAccessKeyId', status: 403 });
    const listed = await cliJson<{ accessKeys: Array<{ accessKeyId: string; status: string }> }>(target, 'access-keys', 'ls');
    expect(listed.accessKeys.find((k) => k.accessKeyId === creds.accessKeyId)?.status).toBe('Inactive');
    expect((await cli(target, 'access-keys', 'enable', creds.accessKeyId)).code).toBe(0);
    expect(await get(s3)).toBe('secret words');
    expect((await cli(target, 'access-keys', 'delete', creds.accessKeyId)).code).toBe(0);
    expect(await s3Error(get(s3))).toMatchObject({ code: 'InvalidAccessKeyId', status: 403 });
    expect((await cli(target, 'access-keys', 'delete', creds.accessKeyId)).code).toBe(1);
  });

  it('rejects grants that name no valid bucket or role', async () => {
    const bad = await cli(target, 'access-keys', 'create', '--bucket', 'bucket-a', '--role', 'superuser');
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/InvalidArgument: grant role must be one of read, write, delete, rewrap, admin/);
    expect((await cli(target, 'access-keys', 'create', '--role', 'read')).code).toBe(2);
  });
});
