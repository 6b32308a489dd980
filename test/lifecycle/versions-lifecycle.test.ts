// The key lifecycle over versions (issue 15): every version keeps its own data key and gsi1 entry, so rotation,
// rollover, rewrap and retirement cover noncurrent versions too, and shredding one version removes both copies of its
// wrapped key (index row and blob).
import { BlobNotFoundError } from '../../lambdas/core/errors';
import { versionsPk } from '../../lambdas/core/records';
import { bytes } from '../support/bytes';
import { expectBlobCopiesValid, openHarness, readAll, type Harness } from './harness';

describe('key lifecycle over object versions (embedded backend)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await openHarness();
  });
  afterAll(async () => {
    await h.close();
  });

  const read = async (bucket: string, key: string, versionId?: string) => (await readAll(await h.service.openObject(await h.service.headObject(bucket, key, versionId)))).toString();

  it('rewraps noncurrent versions and delete-marked keys on rollover, and the job retires the old CMK after moving every version (4 rows) off it', async () => {
    await h.service.createBucket('vlife');
    await h.service.setBucketVersioning('vlife', 'Enabled');
    const texts = ['v one', 'v two', 'v three'];
    const versions = [];
    for (const t of texts) versions.push(await h.service.putObject({ bucket: 'vlife', key: 'k', body: bytes(t) }));
    const hidden = await h.service.putObject({ bucket: 'vlife', key: 'hidden', body: bytes('under a marker') });
    await h.service.deleteObject('vlife', 'hidden');
    const from = versions[0]!.keyId;
    await h.lifecycle.create({ alias: 'vlife-next' });
    await h.lifecycle.rollover('vlife-next');
    const report = await h.lifecycle.runJob();
    expect(report).toMatchObject({ rewrapped: 4, remaining: 0, errors: 0 });
    expect(report.retired.map((r) => r.keyId)).toEqual([from]);
    for (const [i, v] of versions.entries()) {
      const rec = await h.service.headObject('vlife', 'k', v.versionId);
      expect(rec.keyId).not.toBe(from);
      expect(await read('vlife', 'k', v.versionId)).toBe(texts[i]);
      await expectBlobCopiesValid(h, rec);
    }
    expect(await read('vlife', 'hidden', hidden.versionId)).toBe('under a marker');
  });

  it('shreds one version: its index row and its blob (both copies of its wrapped key) are gone, the others read', async () => {
    await h.service.createBucket('vshred');
    await h.service.setBucketVersioning('vshred', 'Enabled');
    const a = await h.service.putObject({ bucket: 'vshred', key: 'k', body: bytes('aaa') });
    const b = await h.service.putObject({ bucket: 'vshred', key: 'k', body: bytes('bbb') });
    const c = await h.service.putObject({ bucket: 'vshred', key: 'k', body: bytes('ccc') });
    const blobId = b.parts[0]!.blobId;
    expect(await h.index.get(versionsPk('vshred', 'k'), b.versionId!)).toBeDefined();
    await h.service.deleteObject('vshred', 'k', {}, b.versionId);
    expect(await h.index.get(versionsPk('vshred', 'k'), b.versionId!)).toBeUndefined();
    await expect(h.backend.blobs.head(blobId)).rejects.toBeInstanceOf(BlobNotFoundError);
    expect([await read('vshred', 'k', a.versionId), await read('vshred', 'k', c.versionId), await read('vshred', 'k')]).toEqual(['aaa', 'ccc', 'ccc']);
  });
});
