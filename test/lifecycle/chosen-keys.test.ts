// Objects whose CMK was chosen (x-amz-server-side-encryption-aws-kms-key-id, or the bucket's default encryption) under
// the key lifecycle: rollover leaves them under their CMK, rotation rewraps them within it, counts include them, and a
// CMK a bucket names or chosen objects need is never retired or deleted out from under them.
import { InvalidRequestError, KmsChosenKeyDisabledError, KmsChosenKeyInvalidStateError, type StoreError } from '../../lambdas/core/errors';
import type { LogFields } from '../../lambdas/core/logger';
import { bucketItem } from '../../lambdas/core/records';
import { bytes } from '../support/bytes';
import { expectBlobCopiesValid, openHarness, putMany, readAll, record, type Harness } from './harness';

describe('key lifecycle with chosen CMKs (embedded backend)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await openHarness();
  });
  afterAll(async () => {
    await h.close();
  });

  const readBack = async (bucket: string, key: string) => (await readAll(await h.service.openObject(await h.service.headObject(bucket, key)))).toString();

  it('keeps chosen objects under their CMK through rollover, rotation and a second rollover, readable and counted', async () => {
    // Prepare: objects under the active CMK A, a tenant CMK T named by a bucket default and by one request.
    const plain = await putMany(h, 'plain', 3);
    const a = (await record(h, 'plain', plain[0] ?? '')).keyId;
    const t = await h.lifecycle.create({ alias: 'tenant' });
    await h.service.createBucket('tenant');
    await h.service.setBucketDefaultKey('tenant', 'alias/tenant');
    await h.service.putObject({ bucket: 'tenant', key: 'by-default-1', body: bytes('default one') });
    await h.service.putObject({ bucket: 'tenant', key: 'by-default-2', body: bytes('default two') });
    await h.service.putObject({ bucket: 'plain', key: 'requested', body: bytes('requested'), requestedKey: t.keyId });
    const chosen: Array<[string, string, string]> = [
      ['tenant', 'by-default-1', 'default one'],
      ['tenant', 'by-default-2', 'default two'],
      ['plain', 'requested', 'requested'],
    ];
    for (const [bucket, key] of chosen) expect(await record(h, bucket, key)).toMatchObject({ keyId: t.keyId, keyChosen: true });

    // Act: roll over from A to B and run the job.
    const b = await h.lifecycle.create({ alias: 'next' });
    await h.lifecycle.rollover('next');
    const first = await h.lifecycle.runJob();

    // Assess: the plain objects moved to B, A retired; the chosen ones stayed under T, which was not touched.
    expect(first).toMatchObject({ rewrapped: 3, remaining: 0, errors: 0 });
    expect(first.retired.map((r) => r.keyId)).toEqual([a]);
    for (const key of plain) expect((await record(h, 'plain', key)).keyId).toBe(b.keyId);
    for (const [bucket, key, text] of chosen) {
      expect((await record(h, bucket, key)).keyId).toBe(t.keyId);
      expect(await readBack(bucket, key)).toBe(text);
    }
    const afterRollover = await h.lifecycle.list();
    expect(afterRollover.find((k) => k.keyId === t.keyId)).toMatchObject({ role: 'standby', objectCount: 3 });
    expect(afterRollover.find((k) => k.keyId === b.keyId)).toMatchObject({ role: 'active', objectCount: 3 });

    // A rotation of T: the job rewraps the chosen objects onto T's new material, never onto the active CMK.
    const before = await record(h, 'tenant', 'by-default-1');
    const rotated = await h.lifecycle.rotate('alias/tenant');
    expect(rotated.currentMaterialId).not.toBe(before.keyMaterialId);
    expect(await h.lifecycle.runJob()).toMatchObject({ rewrapped: 3, remaining: 0, errors: 0 });
    for (const [bucket, key, text] of chosen) {
      const rec = await record(h, bucket, key);
      expect(rec).toMatchObject({ keyId: t.keyId, keyMaterialId: rotated.currentMaterialId, keyChosen: true });
      expect(await readBack(bucket, key)).toBe(text);
      await expectBlobCopiesValid(h, await h.service.headObject(bucket, key));
    }
    expect(await h.lifecycle.runJob()).toMatchObject({ rewrapped: 0, remaining: 0 });

    // Deleting T by hand is refused while a bucket names it, even once no object needs it.
    await expect(h.lifecycle.scheduleDeletion('alias/tenant')).rejects.toBeInstanceOf(InvalidRequestError);

    // T as the active CMK, then rolled away from: the object it got as the active key moves to B, the chosen ones
    // stay, and T is not retired (a bucket names it, chosen objects need it).
    await h.lifecycle.rollover('alias/tenant');
    await h.service.putObject({ bucket: 'plain', key: 'while-t-active', body: bytes('unchosen') });
    expect(await record(h, 'plain', 'while-t-active')).toMatchObject({ keyId: t.keyId });
    expect((await record(h, 'plain', 'while-t-active')).keyChosen).toBeUndefined();
    await h.lifecycle.rollover('next');
    const away = await h.lifecycle.runJob();
    expect(away.retired.map((r) => r.keyId)).not.toContain(t.keyId);
    expect(away.notes.join('\n')).toContain('default encryption key of bucket(s) tenant');
    expect((await record(h, 'plain', 'while-t-active')).keyId).toBe(b.keyId);
    for (const [bucket, key, text] of chosen) {
      expect((await record(h, bucket, key)).keyId).toBe(t.keyId);
      expect(await readBack(bucket, key)).toBe(text);
    }
    expect((await h.backend.vault.describeKey(t.keyId)).state).toBe('Enabled');
    expect((await h.lifecycle.list()).find((k) => k.keyId === t.keyId)).toMatchObject({ role: 'retiring', objectCount: 3 });
  }, 120_000);
  const DAY_MS = 24 * 60 * 60 * 1000;
  /** The S3 error a promise rejects with, as the protocol layer renders it. */
  const refusal = async (p: Promise<unknown>): Promise<StoreError> => {
    const e: unknown = await p.then(
      () => undefined,
      (err: unknown) => err,
    );
    if (!(e instanceof KmsChosenKeyInvalidStateError) && !(e instanceof KmsChosenKeyDisabledError)) throw new Error(`expected a KMS state refusal, got ${String(e)}`);
    return e;
  };

  it('treats naming the active CMK as naming none: the objects follow a rollover; a bucket default naming it then pins later writes and keeps it retiring', async () => {
    // Prepare: a bucket whose default is the active CMK, and a request naming the active CMK by alias.
    const active = await h.service.activeKeyId();
    await h.service.createBucket('follow');
    await h.service.setBucketDefaultKey('follow', active);
    await h.service.putObject({ bucket: 'follow', key: 'by-default', body: bytes('by default') });
    await h.service.putObject({ bucket: 'follow', key: 'requested', body: bytes('requested'), requestedKey: active });
    for (const key of ['by-default', 'requested']) {
      const rec = await record(h, 'follow', key);
      expect(rec.keyId).toBe(active);
      expect(rec.keyChosen).toBeUndefined();
    }

    // Act: roll over to a new CMK and run the job.
    const c = await h.lifecycle.create({ alias: 'follow-next' });
    await h.lifecycle.rollover('follow-next');
    const run = await h.lifecycle.runJob();

    // Assess: both objects moved with the rollover, readable.
    expect(run.errors).toBe(0);
    for (const [key, text] of [['by-default', 'by default'], ['requested', 'requested']] as const) {
      expect((await record(h, 'follow', key)).keyId).toBe(c.keyId);
      expect(await readBack('follow', key)).toBe(text);
    }
    // The bucket still names the old CMK (GetBucketEncryption says what was set): a write under it now is chosen,
    // and stays there; the old CMK stays retiring because the bucket names it. A request naming it is refused.
    expect((await h.service.headBucket('follow')).defaultKeyId).toBe(active);
    await h.service.putObject({ bucket: 'follow', key: 'after-rollover', body: bytes('after') });
    expect(await record(h, 'follow', 'after-rollover')).toMatchObject({ keyId: active, keyChosen: true });
    const again = await h.lifecycle.runJob();
    expect(again.retired.map((r) => r.keyId)).not.toContain(active);
    expect(again.notes.join('\n')).toContain('default encryption key of bucket(s) follow');
    expect((await record(h, 'follow', 'after-rollover')).keyId).toBe(active);
    expect((await h.lifecycle.list()).find((k) => k.keyId === active)).toMatchObject({ role: 'retiring', kmsState: 'Enabled' });
    const byRequest = await refusal(h.service.putObject({ bucket: 'follow', key: 'x', body: bytes('x'), requestedKey: active }));
    expect(byRequest).toMatchObject({ code: 'KMS.KMSInvalidStateException', statusCode: 400 });
    expect(byRequest.message).toContain('retiring');
  }, 120_000);

  it('refuses a request or a new bucket default naming a retiring, retired or disabled CMK, with what to do', async () => {
    const keys = await h.lifecycle.list();
    const retiring = keys.find((k) => k.role === 'retiring');
    const retired = keys.find((k) => k.role === 'retired' && k.kmsState === 'PendingDeletion');
    if (!retiring || !retired) throw new Error('the earlier cases leave a retiring and a retired CMK');
    await h.service.createBucket('pin');

    for (const k of [retiring, retired]) {
      const asDefault = await refusal(h.service.setBucketDefaultKey('pin', k.keyId));
      expect(asDefault).toMatchObject({ code: 'KMS.KMSInvalidStateException', statusCode: 400 });
      expect(asDefault.message).toContain(`is ${k.role} in this store`);
      expect(asDefault.message).toContain('sealstore keys ls');
      expect((await refusal(h.service.putObject({ bucket: 'pin', key: 'x', body: bytes('x'), requestedKey: k.keyId }))).statusCode).toBe(400);
    }
    expect((await h.service.headBucket('pin')).defaultKeyId).toBeUndefined();
    // The retired CMK stays pending deletion: refusing it undid nothing.
    expect((await h.backend.vault.describeKey(retired.keyId)).state).toBe('PendingDeletion');

    const off = await h.lifecycle.create({ alias: 'switched-off' });
    await h.lifecycle.disable('switched-off');
    const disabled = await refusal(h.service.setBucketDefaultKey('pin', 'alias/switched-off'));
    expect(disabled).toMatchObject({ code: 'KMS.DisabledException', statusCode: 400 });
    expect(disabled.message).toContain(`sealstore keys enable ${off.keyId}`);
    await h.lifecycle.enable('switched-off');
    await h.service.setBucketDefaultKey('pin', 'alias/switched-off');
    expect((await h.service.headBucket('pin')).defaultKeyId).toBe(off.keyId);
  }, 120_000);

  it('keeps a retiring CMK that holds chosen objects (no bucket names it), says so, and rotates it with its objects', async () => {
    // Prepare: objects that chose a standby CMK P, then P active and rolled away from: P is retiring with them.
    const start = await h.service.activeKeyId();
    const p = await h.lifecycle.create({ alias: 'solo' });
    await h.service.createBucket('solo');
    for (const key of ['one', 'two']) await h.service.putObject({ bucket: 'solo', key, body: bytes(key), requestedKey: 'alias/solo' });
    await h.lifecycle.rollover('alias/solo');
    await h.lifecycle.rollover(start);
    expect((await h.lifecycle.list()).find((k) => k.keyId === p.keyId)).toMatchObject({ role: 'retiring' });

    // Act: the rotation period passes.
    h.advance(366 * DAY_MS);
    const run = await h.lifecycle.runJob();

    // Assess: P was rotated and its chosen objects rewrapped onto its new material; it stays retiring, enabled.
    expect(run.errors).toBe(0);
    expect(run.rotated).toContain(p.keyId);
    expect(run.retired.map((r) => r.keyId)).not.toContain(p.keyId);
    expect(run.notes.join('\n')).toMatch(new RegExp(`chosen object\\(s\\) keep CMK\\(s\\) retiring: .*${p.keyId} \\(2\\)`));
    const after = (await h.lifecycle.list()).find((k) => k.keyId === p.keyId);
    expect(after).toMatchObject({ role: 'retiring', kmsState: 'Enabled', objectCount: 2 });
    for (const key of ['one', 'two']) {
      expect(await record(h, 'solo', key)).toMatchObject({ keyId: p.keyId, keyChosen: true, keyMaterialId: after?.currentMaterialId });
      expect(await readBack('solo', key)).toBe(key);
    }
  }, 120_000);

  it('never revives a retired CMK because a bucket names it (a row written behind the API): the deletion stands, an error says which bucket', async () => {
    const retired = (await h.lifecycle.list()).find((k) => k.role === 'retired' && k.kmsState === 'PendingDeletion');
    if (!retired) throw new Error('the earlier cases leave a retired CMK');
    await h.service.createBucket('legacy');
    // As a bucket admin would have it, had PutBucketEncryption not refused: the row names the retired CMK.
    await h.index.put(bucketItem({ ...(await h.service.headBucket('legacy')), defaultKeyId: retired.keyId }));
    const errors: string[] = [];
    const logger = {
      info: () => undefined,
      warn: () => undefined,
      error: (_m: string, fields?: LogFields) => errors.push(String(fields?.['note'])),
    };

    const run = await h.makeLifecycle({ logger }).runJob();

    expect((await h.backend.vault.describeKey(retired.keyId)).state).toBe('PendingDeletion');
    expect((await h.lifecycle.list()).find((k) => k.keyId === retired.keyId)).toMatchObject({ role: 'retired' });
    expect(run.notes.join('\n')).not.toContain('deletion cancelled');
    const said = errors.find((e) => e.includes(retired.keyId) && e.includes('bucket(s)'));
    expect(said).toContain('bucket(s) legacy');
    expect(said).toContain('put-bucket-encryption');
    // The bucket's writes fail with the reason, until its default is changed.
    const write = await refusal(h.service.putObject({ bucket: 'legacy', key: 'x', body: bytes('x') }));
    expect(write).toMatchObject({ code: 'KMS.KMSInvalidStateException', statusCode: 400 });
    expect(write.message).toContain('DeleteBucketEncryption');
    await h.service.setBucketDefaultKey('legacy', undefined);
    await h.service.putObject({ bucket: 'legacy', key: 'x', body: bytes('x') });
  }, 120_000);
});
