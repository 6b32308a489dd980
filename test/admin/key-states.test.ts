// Key states enforced on the data path, driven through the admin CLI over real HTTP against the embedded store.
// The embedded vault enforces Disabled/PendingDeletion as KMS does; moto's KMS does not, so these run embedded only.
import { GetObjectCommand, PutObjectCommand, CreateBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import type { EmbeddedTarget } from '../support/embedded-target';
import { cli, cliJson, client, s3Error, startAdminTarget } from './helpers';

interface KeyJson {
  keyId: string;
  alias?: string;
  role: string;
  kmsState: string;
  deletionDate?: string;
  objectCount?: number;
}

describe('key states on the data path (embedded backend, over HTTP)', () => {
  let target: EmbeddedTarget;
  let s3: S3Client;
  beforeEach(async () => {
    target = await startAdminTarget();
    s3 = client(target.url, target.creds);
    await s3.send(new CreateBucketCommand({ Bucket: 'kst' }));
  });
  afterEach(async () => {
    s3.destroy();
    await target.close();
  });

  const get = async (key: string) => (await s3.send(new GetObjectCommand({ Bucket: 'kst', Key: key }))).Body?.transformToString();

  it('a disabled CMK fails GET and PUT with 403 KMS.DisabledException naming the key; enable restores access', async () => {
    await s3.send(new PutObjectCommand({ Bucket: 'kst', Key: 'a', Body: 'alpha' }));
    const [active] = (await cliJson<{ keys: KeyJson[] }>(target, 'keys', 'ls')).keys;
    const keyId = active?.keyId ?? '';
    expect((await cli(target, 'keys', 'disable', 'sealstore-default')).code).toBe(0);

    const read = await s3Error(get('a'));
    expect(read).toMatchObject({ code: 'KMS.DisabledException', status: 403 });
    expect(read.message).toContain(keyId);
    const write = await s3Error(s3.send(new PutObjectCommand({ Bucket: 'kst', Key: 'b', Body: 'beta' })));
    expect(write).toMatchObject({ code: 'KMS.DisabledException', status: 403 });
    expect(write.message).toContain(keyId);
    expect((await cliJson<{ keys: KeyJson[] }>(target, 'keys', 'ls')).keys[0]?.kmsState).toBe('Disabled');

    expect((await cli(target, 'keys', 'enable', keyId)).code).toBe(0);
    expect(await get('a')).toBe('alpha');
    await s3.send(new PutObjectCommand({ Bucket: 'kst', Key: 'b', Body: 'beta' }));
    expect(await get('b')).toBe('beta');
  });

  it('with the CMK disabled, an access key’s request learns nothing about the CMK before it is authenticated: one generic 503, wrong signature or right', async () => {
    await s3.send(new PutObjectCommand({ Bucket: 'kst', Key: 'a', Body: 'alpha' }));
    const made = await cliJson<{ accessKey: { accessKeyId: string; secretAccessKey: string } }>(target, 'access-keys', 'create', '--bucket', 'kst', '--role', 'read');
    const [active] = (await cliJson<{ keys: KeyJson[] }>(target, 'keys', 'ls')).keys;
    expect((await cli(target, 'keys', 'disable', 'sealstore-default')).code).toBe(0);

    const forger = client(target.url, { accessKeyId: made.accessKey.accessKeyId, secretAccessKey: 'not-the-secret-not-the-secret-000000' });
    const holder = client(target.url, { accessKeyId: made.accessKey.accessKeyId, secretAccessKey: made.accessKey.secretAccessKey });
    try {
      for (const who of [forger, holder]) {
        const refused = await s3Error(who.send(new GetObjectCommand({ Bucket: 'kst', Key: 'a' })));
        expect(refused).toMatchObject({ code: 'ServiceUnavailable', status: 503 });
        expect(refused.message).not.toMatch(/KMS|Disabled|arn:|key\//);
        expect(refused.message).not.toContain(active?.keyId ?? 'no key id');
      }
      expect((await cli(target, 'keys', 'enable', 'sealstore-default')).code).toBe(0);
      expect(await (await holder.send(new GetObjectCommand({ Bucket: 'kst', Key: 'a' }))).Body?.transformToString()).toBe('alpha');
      expect((await s3Error(forger.send(new GetObjectCommand({ Bucket: 'kst', Key: 'a' })))).code).toBe('SignatureDoesNotMatch');
    } finally {
      forger.destroy();
      holder.destroy();
    }
  });

  it('a CMK pending deletion fails GET with 403 KMS.KMSInvalidStateException; cancelling and enabling restores it', async () => {
    await s3.send(new PutObjectCommand({ Bucket: 'kst', Key: 'old', Body: 'under the first key' }));
    expect((await cli(target, 'keys', 'create', '--alias', 'second')).code).toBe(0);
    expect((await cli(target, 'keys', 'rollover', '--to', 'second')).code).toBe(0);
    await s3.send(new PutObjectCommand({ Bucket: 'kst', Key: 'new', Body: 'under the second key' }));
    // The dry run lists what the deletion would destroy, in JSON and as text, and schedules nothing.
    const dry = await cliJson<{ keyId: string; objects: Array<{ bucket: string; key: string; size: number; keyChosen: boolean }>; totals: { objects: number; bytes: number } }>(
      target, 'keys', 'schedule-deletion', 'sealstore-default', '--dry-run',
    );
    expect(dry.objects).toEqual([expect.objectContaining({ bucket: 'kst', key: 'old', size: 19, keyChosen: false })]);
    expect(dry.totals).toEqual({ objects: 1, bytes: 19 });
    const dryText = await cli(target, 'keys', 'schedule-deletion', 'sealstore-default', '--dry-run');
    expect(dryText.code).toBe(0);
    expect(dryText.out).toMatch(/^\s+19 {2}no {6}\S+ {2}kst\/old$/m);
    expect(dryText.out).toContain('total: 1 object(s), 19 B (19 bytes) would become unreadable; 0 upload(s). Nothing was scheduled.');
    expect((await cliJson<{ keys: KeyJson[] }>(target, 'keys', 'ls')).keys.find((k) => k.keyId === dry.keyId)?.kmsState).toBe('Enabled');
    // Deleting a key that still wraps objects is refused unless forced, naming how many.
    const refused = await cli(target, 'keys', 'schedule-deletion', 'sealstore-default', '--days', '7');
    expect(refused.code).toBe(1);
    expect(refused.err).toMatch(/InvalidRequest: .*still wraps 1 object\(s\), 19 bytes; .*--dry-run/);
    const scheduled = await cliJson<{ key: KeyJson; impact: { objects: number; bytes: number } }>(target, 'keys', 'schedule-deletion', 'sealstore-default', '--days', '7', '--force');
    expect(scheduled.key.kmsState).toBe('PendingDeletion');
    expect(scheduled.impact).toEqual({ objects: 1, bytes: 19, capped: false });

    // What the dry run listed is what became unreadable; the object under the other key is still served.
    const read = await s3Error(get('old'));
    expect(read).toMatchObject({ code: 'KMS.KMSInvalidStateException', status: 403 });
    expect(read.message).toContain(scheduled.key.keyId);
    expect(await get('new')).toBe('under the second key');

    expect((await cli(target, 'keys', 'cancel-deletion', 'sealstore-default')).code).toBe(0);
    expect((await s3Error(get('old'))).code).toBe('KMS.DisabledException'); // as in KMS: back Disabled
    expect((await cli(target, 'keys', 'enable', 'sealstore-default')).code).toBe(0);
    expect(await get('old')).toBe('under the first key');
  });

  it('rollover + `keys rewrap --wait` moves every object, retires the old CMK and schedules its deletion 7 days out', async () => {
    for (let i = 0; i < 5; i++) await s3.send(new PutObjectCommand({ Bucket: 'kst', Key: `k${i}`, Body: `body ${i}` }));
    await cli(target, 'keys', 'create', '--alias', 'next');
    const before = (await cliJson<{ keys: KeyJson[] }>(target, 'keys', 'ls')).keys;
    expect(before.map((k) => k.role)).toEqual(['active', 'standby']);
    expect((await cli(target, 'keys', 'rollover', '--to', 'alias/next')).code).toBe(0);

    const waited = await cli(target, 'keys', 'rewrap', '--wait');
    expect(waited.code).toBe(0);
    expect(waited.out).toMatch(/100% 5\/5/);
    expect(waited.out).toMatch(/retired arn:aws:kms:[^ ]+, deletion on /);

    const keys = (await cliJson<{ keys: KeyJson[] }>(target, 'keys', 'ls')).keys;
    const next = keys.find((k) => k.alias === 'alias/next');
    const old = keys.find((k) => k.alias === 'alias/sealstore-default');
    expect(next).toMatchObject({ role: 'active', objectCount: 5 });
    expect(old).toMatchObject({ role: 'retired', kmsState: 'PendingDeletion' });
    const days = (Date.parse(old?.deletionDate ?? '') - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(6.99);
    expect(days).toBeLessThanOrEqual(7);
    for (let i = 0; i < 5; i++) {
      const res = await s3.send(new GetObjectCommand({ Bucket: 'kst', Key: `k${i}` }));
      expect(res.SSEKMSKeyId).toBe(next?.keyId);
      expect(await res.Body?.transformToString()).toBe(`body ${i}`);
    }
    const table = await cli(target, 'keys', 'ls');
    expect(table.out.split('\n')[0]).toMatch(/^ALIAS\s+ROLE\s+STATE\s+OBJECTS\s+REWRAP/);
    expect(table.out).toMatch(/alias\/sealstore-default\s+retired\s+PendingDeletion/);
  });

  it('reports clear errors with non-zero exit codes', async () => {
    expect((await cli(target, 'keys', 'frobnicate')).code).toBe(2);
    expect((await cli(target, 'keys', 'rollover')).err).toMatch(/needs --to/);
    const missing = await cli(target, 'keys', 'disable', 'no-such-key');
    expect(missing.code).toBe(1);
    expect(missing.err).toMatch(/KMS.NotFoundException: .*alias\/no-such-key/);
    const wrongSecret = await cli({ url: target.url, creds: { ...target.creds, secretAccessKey: 'wrong' } }, 'keys', 'ls');
    expect(wrongSecret).toMatchObject({ code: 1 });
    expect(wrongSecret.err).toMatch(/SignatureDoesNotMatch/);
    const down = await cli({ url: 'http://127.0.0.1:1', creds: target.creds }, 'keys', 'ls');
    expect(down.code).toBe(1);
    expect(down.err).toMatch(/cannot reach sealstore/);
  });
});
