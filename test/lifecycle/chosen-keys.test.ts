// Objects whose CMK was chosen (x-amz-server-side-encryption-aws-kms-key-id, or the bucket's default encryption) under
// the key lifecycle: rollover leaves them under their CMK, rotation rewraps them within it, counts include them, and a
// CMK a bucket names or chosen objects need is never retired or deleted out from under them.
import { InvalidRequestError } from '../../lambdas/core/errors';
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
});
