// The dry run of a CMK's deletion: the objects it lists are exactly those that stop being readable once the CMK is
// unusable (disabled here: the embedded vault refuses a disabled CMK as KMS does; moto's KMS does not, so this runs
// on the embedded backend only), every other object stays readable, and the real command names the same total.
import { InvalidRequestError, KmsChosenKeyDisabledError, KmsDisabledError } from '../../lambdas/core/errors';
import type { DeletionImpactPage, ImpactedObject } from '../../lambdas/core/key-lifecycle';
import { bytes } from '../support/bytes';
import { openHarness, readAll, type Harness } from './harness';

describe('deletion impact of a CMK (embedded backend)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await openHarness();
  });
  afterAll(async () => {
    await h.close();
  });

  /** Every object in every bucket, as bucket/key → its bytes, or the error reading it failed with. */
  async function readEverything(): Promise<Map<string, Buffer | Error>> {
    const out = new Map<string, Buffer | Error>();
    for (const b of await h.service.listBuckets()) {
      const listed = await h.service.listObjects({ bucket: b.name, maxKeys: 1000 });
      for (const o of listed.objects) {
        try {
          out.set(`${b.name}/${o.key}`, await readAll(await h.service.openObject(await h.service.headObject(b.name, o.key))));
        } catch (e) {
          out.set(`${b.name}/${o.key}`, e as Error);
        }
      }
    }
    return out;
  }

  /** Every page of the dry run, followed by cursor; returns the pages and the objects in order. */
  async function dryRun(ref: string, limit: number): Promise<{ pages: DeletionImpactPage[]; objects: ImpactedObject[] }> {
    const pages: DeletionImpactPage[] = [];
    let cursor: string | undefined;
    do {
      const page = await h.lifecycle.deletionImpact(ref, { limit, ...(cursor === undefined ? {} : { cursor }) });
      pages.push(page);
      cursor = page.nextCursor;
    } while (cursor !== undefined);
    return { pages, objects: pages.flatMap((p) => p.objects) };
  }

  it('lists exactly the objects that become unreadable when the key is disabled, with totals; the rest stay readable', async () => {
    // Prepare: objects under the active CMK, and under a tenant CMK by bucket default, by request and by a multipart
    // upload (one completed, one left open); one object first written under the tenant CMK then overwritten under
    // the active one, which must not be listed.
    const tenant = await h.lifecycle.create({ alias: 'impact-tenant' });
    await h.service.createBucket('plain');
    await h.service.createBucket('tenant');
    await h.service.setBucketDefaultKey('tenant', 'alias/impact-tenant');
    const texts: Record<string, string> = {};
    const put = async (bucket: string, key: string, text: string, requestedKey?: string) => {
      await h.service.putObject({ bucket, key, body: bytes(text), ...(requestedKey ? { requestedKey } : {}) });
      texts[`${bucket}/${key}`] = text;
    };
    for (let i = 0; i < 4; i++) await put('plain', `p/${i}`, `plain object ${i} `.repeat(i + 1));
    for (let i = 0; i < 5; i++) await put('tenant', `t/${i}`, `tenant object ${i} `.repeat(i + 3));
    await put('plain', 'requested', 'asked for the tenant key', tenant.keyId);
    await put('plain', 'moved-away', 'first under the tenant key', tenant.keyId);
    await put('plain', 'moved-away', 'then under the active key');
    const mp = await h.service.createMultipartUpload({ bucket: 'tenant', key: 'multipart' });
    const part = await h.service.uploadPart({ bucket: 'tenant', key: 'multipart', uploadId: mp.uploadId, partNumber: 1, body: bytes('one multipart part') });
    await h.service.completeMultipartUpload({ bucket: 'tenant', key: 'multipart', uploadId: mp.uploadId, parts: [{ partNumber: 1, etag: part.etag }] });
    texts['tenant/multipart'] = 'one multipart part';
    const open = await h.service.createMultipartUpload({ bucket: 'tenant', key: 'left-open' });
    await h.service.uploadPart({ bucket: 'tenant', key: 'left-open', uploadId: open.uploadId, partNumber: 1, body: bytes('never completed') });
    const before = await readEverything();
    for (const [name, got] of before) expect(got instanceof Buffer ? got.toString() : got).toBe(texts[name]);

    // Act: the dry run, in pages of 2 (more pages than shards with objects in them), and in one page.
    const { pages, objects } = await dryRun('alias/impact-tenant', 2);
    const whole = await dryRun(tenant.keyId, 1000);

    // Assess: the list, its pages and the extras of the first page.
    const expected = ['plain/requested', 'tenant/multipart', ...[0, 1, 2, 3, 4].map((i) => `tenant/t/${i}`)].sort();
    const listed = objects.map((o) => `${o.bucket}/${o.key}`);
    expect([...listed].sort()).toEqual(expected);
    expect(new Set(listed).size).toBe(listed.length); // no object twice across pages
    expect([...whole.objects].map((o) => `${o.bucket}/${o.key}`).sort()).toEqual(expected);
    for (const p of pages.slice(0, -1)) expect(p.objects.length).toBe(2); // only the last page may be short
    expect(pages.every((p) => p.keyId === tenant.keyId)).toBe(true);
    expect(pages[0]).toMatchObject({ uploads: [{ bucket: 'tenant', key: 'left-open', uploadId: open.uploadId, state: 'open' }], sealedSecrets: 0, bucketDefaults: ['tenant'] });
    expect(pages[1]?.uploads).toBeUndefined();
    for (const o of objects) {
      expect(o.size).toBe(Buffer.byteLength(texts[`${o.bucket}/${o.key}`] ?? ''));
      expect(o.keyChosen).toBe(true);
      expect(o.objectId).toBe((await h.service.headObject(o.bucket, o.key)).objectId);
    }
    const totalBytes = objects.reduce((n, o) => n + o.size, 0);

    // The real command refuses and names the same total; nothing was scheduled.
    const refusal = await h.lifecycle.scheduleDeletion('alias/impact-tenant').catch((e: unknown) => e);
    expect(refusal).toBeInstanceOf(InvalidRequestError);
    expect((refusal as Error).message).toContain(`still wraps ${expected.length} object(s), ${totalBytes} bytes`);
    expect((refusal as Error).message).toContain('--dry-run');
    expect((await h.lifecycle.list()).find((k) => k.keyId === tenant.keyId)?.kmsState).toBe('Enabled');

    // Disable the CMK and read every object: the unreadable ones are exactly the listed ones.
    await h.lifecycle.disable(tenant.keyId);
    const after = await readEverything();
    const unreadable = [...after].filter(([, got]) => !(got instanceof Buffer));
    expect(unreadable.map(([name]) => name).sort()).toEqual(expected);
    for (const [, e] of unreadable) expect(e instanceof KmsDisabledError || e instanceof KmsChosenKeyDisabledError).toBe(true);
    for (const [name, got] of after) if (got instanceof Buffer) expect(got.toString()).toBe(texts[name]);
    expect(after.size).toBe(before.size);

    // Forced, it schedules and reports the same figures.
    const scheduled = await h.lifecycle.scheduleDeletion(tenant.keyId, { force: true });
    expect(scheduled.impact).toEqual({ objects: expected.length, bytes: totalBytes, capped: false });
    expect(scheduled.key.kmsState).toBe('PendingDeletion');
  });

  it('lists every version under the key, noncurrent ones included, and those are what the disabled key makes unreadable', async () => {
    const cmk = await h.lifecycle.create({ alias: 'impact-versions' });
    await h.service.createBucket('versioned');
    await h.service.setBucketVersioning('versioned', 'Enabled');
    // Two versions under the chosen CMK, then the latest under the active one: the old two are noncurrent.
    const v1 = await h.service.putObject({ bucket: 'versioned', key: 'doc', body: bytes('version one'), requestedKey: cmk.keyId });
    const v2 = await h.service.putObject({ bucket: 'versioned', key: 'doc', body: bytes('version two!'), requestedKey: cmk.keyId });
    const v3 = await h.service.putObject({ bucket: 'versioned', key: 'doc', body: bytes('version three, latest') });
    const { objects } = await dryRun('alias/impact-versions', 1);
    const listed = objects.map((o) => [o.key, o.versionId, o.isLatest, o.size]).sort();
    expect(listed).toEqual([
      ['doc', v1.versionId, false, 11],
      ['doc', v2.versionId, false, 12],
    ].sort());
    await h.lifecycle.disable(cmk.keyId);
    const read = async (versionId: string | undefined) => {
      try {
        return (await readAll(await h.service.openObject(await h.service.headObject('versioned', 'doc', versionId)))).toString();
      } catch (e) {
        return e as Error;
      }
    };
    for (const gone of [v1.versionId, v2.versionId]) {
      const got = await read(gone);
      expect(got instanceof KmsDisabledError || got instanceof KmsChosenKeyDisabledError).toBe(true);
    }
    expect(await read(v3.versionId)).toBe('version three, latest');
    expect(await read(undefined)).toBe('version three, latest');
    await h.lifecycle.enable(cmk.keyId);
  });

  it('lists a delete marker sealed under the key (a bucket default): without it a rebuilt index would bring the key back', async () => {
    const cmk = await h.lifecycle.create({ alias: 'impact-markers' });
    await h.service.createBucket('marked');
    await h.service.setBucketVersioning('marked', 'Enabled');
    await h.service.putObject({ bucket: 'marked', key: 'gone', body: bytes('under the active key') });
    await h.service.setBucketDefaultKey('marked', cmk.keyId);
    const marker = await h.service.deleteObject('marked', 'gone');
    const { objects } = await dryRun('alias/impact-markers', 5);
    expect(objects).toEqual([expect.objectContaining({ bucket: 'marked', key: 'gone', versionId: marker.versionId, isLatest: true, size: 0, keyChosen: true, deleteMarker: true })]);
    expect((await h.lifecycle.scheduleDeletion(cmk.keyId, { force: true })).impact).toEqual({ objects: 1, bytes: 0, capped: false });
  });

  it('lists nothing for a key nothing is sealed under, and the command then needs no --force', async () => {
    const idle = await h.lifecycle.create({ alias: 'impact-idle' });
    const { pages, objects } = await dryRun('alias/impact-idle', 5);
    expect(objects).toEqual([]);
    expect(pages).toHaveLength(1);
    expect(pages[0]).toMatchObject({ uploads: [], bucketDefaults: [], sealedSecrets: 0 });
    const scheduled = await h.lifecycle.scheduleDeletion(idle.keyId);
    expect(scheduled.impact).toEqual({ objects: 0, bytes: 0, capped: false });
  });

  it('counts the stored secrets sealed under the active key, and refuses a page size out of bounds', async () => {
    const active = await h.service.activeKeyId();
    const first = await h.lifecycle.deletionImpact(active, { limit: 1 });
    expect(first.sealedSecrets).toBeGreaterThanOrEqual(1); // the index key is sealed under the active CMK
    await expect(h.lifecycle.deletionImpact(active, { limit: 0 })).rejects.toThrow('limit must be 1 to 1000');
    await expect(h.lifecycle.deletionImpact(active, { limit: 1001 })).rejects.toThrow('limit must be 1 to 1000');
  });
});
