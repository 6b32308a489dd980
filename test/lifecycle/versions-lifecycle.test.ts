// The key lifecycle over versions (issue 15): every version keeps its own data key and gsi1 entry, so rotation,
// rollover, rewrap and retirement cover noncurrent versions too, and shredding one version removes both copies of its
// wrapped key (index row and blob).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openEmbeddedBackend } from '../../lambdas/adapters/embedded';
import { composeCore } from '../../lambdas/compose-store';
import { BlobNotFoundError, NoSuchKeyError } from '../../lambdas/core/errors';
import { Garbage } from '../../lambdas/core/garbage';
import { ObjectCommitter } from '../../lambdas/core/object-commit';
import { S3_LIMITS } from '../../lambdas/core/limits';
import { isDeleteMarker, latestFromItem, manifestPk, objectsPk, versionsPk } from '../../lambdas/core/records';
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

  it('rewraps noncurrent versions and delete-marked keys on rollover, and the job retires the old CMK after moving every version (5 rows: 3 versions, the marked object, its sealed marker) off it', async () => {
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
    expect(report).toMatchObject({ rewrapped: 5, remaining: 0, errors: 0 });
    expect(report.retired.map((r) => r.keyId)).toEqual([from]);
    for (const [i, v] of versions.entries()) {
      const rec = await h.service.headObject('vlife', 'k', v.versionId);
      expect(rec.keyId).not.toBe(from);
      expect(await read('vlife', 'k', v.versionId)).toBe(texts[i]);
      await expectBlobCopiesValid(h, rec);
    }
    expect(await read('vlife', 'hidden', hidden.versionId)).toBe('under a marker');
    // The marker's row and its record-only blob moved too (else the retired CMK would strand the marker's blob).
    const marker = latestFromItem((await h.index.get(objectsPk('vlife'), 'hidden'))!);
    if (!isDeleteMarker(marker) || marker.sealed === undefined) throw new Error('expected a sealed delete marker');
    expect(marker.sealed.keyId).not.toBe(from);
    expect((await h.backend.blobs.head(marker.sealed.blobId)).metadata['sealstore-key-id']).toBe(marker.sealed.keyId);
  });

  it('keeps markers written before markers were sealed (index-only rows) readable, deletable and out of the key walks', async () => {
    await h.service.createBucket('vlegacy');
    await h.service.setBucketVersioning('vlegacy', 'Enabled');
    const kept = await h.service.putObject({ bucket: 'vlegacy', key: 'k', body: bytes('kept') });
    // A committer without a marker writer writes markers as they were before: index rows only.
    const legacy = await new ObjectCommitter(h.index, new Garbage(h.backend.blobs, h.index), h.now).remove('vlegacy', 'k', {}, { versioning: 'Enabled' });
    const row = latestFromItem((await h.index.get(objectsPk('vlegacy'), 'k'))!);
    expect(isDeleteMarker(row) && row.sealed === undefined && row.versionId === legacy.versionId).toBe(true);
    await expect(h.service.headObject('vlegacy', 'k')).rejects.toBeInstanceOf(NoSuchKeyError);
    const listed = await h.service.listObjectVersions({ bucket: 'vlegacy', maxKeys: 10 });
    expect(listed.versions.map((e) => [e.version.versionId, isDeleteMarker(e.version) ? 'marker' : 'version', e.isLatest])).toEqual([
      [legacy.versionId, 'marker', true],
      [kept.versionId, 'version', false],
    ]);
    await h.lifecycle.create({ alias: 'vlegacy-next' });
    await h.lifecycle.rollover('vlegacy-next');
    expect(await h.lifecycle.runJob()).toMatchObject({ remaining: 0, errors: 0 });
    expect(await h.service.deleteObject('vlegacy', 'k', {}, legacy.versionId)).toEqual({ versionId: legacy.versionId, deleteMarker: true });
    expect(await read('vlegacy', 'k')).toBe('kept');
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

  it('keeps a many-part object (part list in manifest chunks) as a noncurrent version, and shreds it whole', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sealstore-vmanifest-'));
    const backend = await openEmbeddedBackend(dir);
    try {
      const { service } = composeCore(backend, { limits: { limits: { ...S3_LIMITS, minPartBytes: 1 } } });
      await service.createBucket('vmany');
      await service.setBucketVersioning('vmany', 'Enabled');
      const upload = await service.createMultipartUpload({ bucket: 'vmany', key: 'k' });
      const parts = [];
      for (let n = 1; n <= 70; n++) parts.push({ partNumber: n, etag: (await service.uploadPart({ bucket: 'vmany', key: 'k', uploadId: upload.uploadId, partNumber: n, body: bytes(`part ${n};`) })).etag });
      const many = await service.completeMultipartUpload({ bucket: 'vmany', key: 'k', uploadId: upload.uploadId, parts });
      const expected = parts.map((p) => `part ${p.partNumber};`).join('');
      await service.putObject({ bucket: 'vmany', key: 'k', body: bytes('small latest') });
      const old = await service.headObject('vmany', 'k', many.versionId);
      expect(old.parts).toHaveLength(70);
      expect((await readAll(await service.openObject(old))).toString()).toBe(expected);
      await service.deleteObject('vmany', 'k', {}, many.versionId);
      expect((await backend.index.query(manifestPk(many.objectId), { limit: 10 })).items).toEqual([]);
      for (const p of old.parts) await expect(backend.blobs.head(p.blobId)).rejects.toBeInstanceOf(BlobNotFoundError);
      expect((await readAll(await service.openObject(await service.headObject('vmany', 'k')))).toString()).toBe('small latest');
    } finally {
      await backend.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
