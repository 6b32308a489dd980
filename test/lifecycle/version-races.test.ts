// Races between a write and a change of the bucket's versioning, and clocks that disagree (issue 15 review): an
// acknowledged version is never lost or hidden because a write began before versioning was enabled, or because
// the writer's clock is behind the one that wrote the latest version.
import { PassThrough, Readable } from 'node:stream';
import { Garbage } from '../../lambdas/core/garbage';
import { rewrapObject } from '../../lambdas/core/key-lifecycle/rewrap';
import { ObjectCommitter } from '../../lambdas/core/object-commit';
import type { RecordIndex, WriteOp } from '../../lambdas/core/ports';
import { objectsPk, versionsPk } from '../../lambdas/core/records';
import { bytes } from '../support/bytes';
import { expectBlobCopiesValid, openHarness, readAll, type Harness } from './harness';

describe('versions under races and skewed clocks (embedded backend)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await openHarness();
  });
  afterAll(async () => {
    await h.close();
  });

  const read = async (bucket: string, key: string, versionId?: string) => (await readAll(await h.service.openObject(await h.service.headObject(bucket, key, versionId)))).toString();
  const versionIds = async (bucket: string) =>
    (await h.service.listObjectVersions({ bucket, maxKeys: 100 })).versions.map((x) => [x.version.versionId ?? 'null', x.isLatest] as const);

  /** A PUT whose body is opened (the write has begun: bucket and its versioning read) but not yet sent. */
  async function slowPut(bucket: string, key: string): Promise<{ finish(text: string): Promise<unknown> }> {
    const stream = new PassThrough();
    let begun!: () => void;
    const opened = new Promise<void>((resolve) => (begun = resolve));
    const pending = h.service.putObject({
      bucket,
      key,
      body: () => {
        begun();
        return stream;
      },
    });
    await opened;
    return {
      finish: async (text) => {
        stream.end(Buffer.from(text));
        return pending;
      },
    };
  }

  it('a version-id-marker naming a null version removed between pages still lists the key\'s older versions', async () => {
    await h.service.createBucket('page-null');
    await h.service.setBucketVersioning('page-null', 'Enabled');
    const a1 = await h.service.putObject({ bucket: 'page-null', key: 'k', body: bytes('a1') });
    await h.service.setBucketVersioning('page-null', 'Suspended');
    await h.service.putObject({ bucket: 'page-null', key: 'k', body: bytes('null') });
    await h.service.setBucketVersioning('page-null', 'Enabled');
    await h.service.putObject({ bucket: 'page-null', key: 'k', body: bytes('a2') });
    await h.service.putObject({ bucket: 'page-null', key: 'k', body: bytes('a3') });
    const first = await h.service.listObjectVersions({ bucket: 'page-null', maxKeys: 3 });
    expect([first.isTruncated, first.nextKeyMarker, first.nextVersionIdMarker]).toEqual([true, 'k', 'null']);
    await h.service.deleteObject('page-null', 'k', {}, 'null');
    const rest = await h.service.listObjectVersions({ bucket: 'page-null', maxKeys: 100, keyMarker: 'k', versionIdMarker: 'null' });
    expect(rest.versions.map((v) => v.version.versionId)).toContain(a1.versionId);
  });

  it('a PUT that began before versioning was enabled and commits after two versions keeps both, and becomes the null version', async () => {
    await h.service.createBucket('race-put');
    await h.service.putObject({ bucket: 'race-put', key: 'k', body: bytes('L0') });
    const late = await slowPut('race-put', 'k');
    await h.service.setBucketVersioning('race-put', 'Enabled');
    const v1 = await h.service.putObject({ bucket: 'race-put', key: 'k', body: bytes('v1') });
    const v2 = await h.service.putObject({ bucket: 'race-put', key: 'k', body: bytes('v2') });
    await late.finish('late');
    // S3 applies the bucket's state when the write takes effect: versioning is on, nothing is overwritten; the late
    // write is the null version (its sealed record says so) and replaces the null version L0.
    expect(await read('race-put', 'k')).toBe('late');
    expect(await read('race-put', 'k', v1.versionId)).toBe('v1');
    expect(await read('race-put', 'k', v2.versionId)).toBe('v2');
    expect(await read('race-put', 'k', 'null')).toBe('late');
    const listed = await versionIds('race-put');
    expect(listed).toEqual([
      ['null', true],
      [v2.versionId, false],
      [v1.versionId, false],
    ]);
    expect((await h.index.query(versionsPk('race-put', 'k'), { limit: 100 })).items).toHaveLength(2);
    // Every version stays reachable: deleting them by id empties the key's partition.
    for (const id of ['null', v2.versionId!, v1.versionId!]) await h.service.deleteObject('race-put', 'k', {}, id);
    expect((await h.index.query(versionsPk('race-put', 'k'), { limit: 100 })).items).toHaveLength(0);
  });

  it('a DELETE that began before versioning was enabled writes a delete marker and removes no version', async () => {
    await h.service.createBucket('race-del');
    await h.service.setBucketVersioning('race-del', 'Enabled');
    const v1 = await h.service.putObject({ bucket: 'race-del', key: 'k', body: bytes('v1') });
    // The committer is told "never versioned" (a stale read): the rows it finds prove otherwise.
    const r = await (h.service as unknown as { committer: { remove(b: string, k: string, p: object, o: object): Promise<unknown> } }).committer.remove('race-del', 'k', {}, {});
    expect(r).toMatchObject({ deleteMarker: true });
    expect(await read('race-del', 'k', v1.versionId)).toBe('v1');
    expect((await versionIds('race-del')).map(([, latest]) => latest)).toEqual([true, false]);
  });

  it('with the deleter 2 s behind the writer, an acknowledged DELETE leaves its marker latest', async () => {
    await h.service.createBucket('skew');
    await h.service.setBucketVersioning('skew', 'Enabled');
    await h.service.putObject({ bucket: 'skew', key: 'k', body: bytes('alive') });
    h.advance(-2000);
    try {
      const r = await h.service.deleteObject('skew', 'k');
      expect(r.deleteMarker).toBe(true);
      await expect(h.service.headObject('skew', 'k')).rejects.toThrow();
      const listed = await h.service.listObjectVersions({ bucket: 'skew', maxKeys: 100 });
      expect(listed.versions[0]).toMatchObject({ isLatest: true });
      expect(listed.versions[0]!.version.versionId).toBe(r.versionId);
    } finally {
      h.advance(2000);
    }
  });

  it('PUT then PUT with the clock going back 2 s leaves the second latest', async () => {
    await h.service.putObject({ bucket: 'skew', key: 'k2', body: bytes('first') });
    h.advance(-2000);
    try {
      const second = await h.service.putObject({ bucket: 'skew', key: 'k2', body: bytes('second') });
      expect(await read('skew', 'k2')).toBe('second');
      expect((await h.service.headObject('skew', 'k2')).versionId).toBe(second.versionId);
    } finally {
      h.advance(2000);
    }
  });

  it('PUT then DELETE in the same millisecond always leaves the marker latest', async () => {
    const frozen = Date.now();
    h.advance(0);
    for (let i = 0; i < 12; i++) {
      const key = `same-ms-${i}`;
      await h.service.putObject({ bucket: 'skew', key, body: () => Readable.from([Buffer.from('x')]) });
      // Pin the clock to the put's millisecond as best we can: move it back by however long the put took.
      h.advance(frozen - Date.now());
      const r = await h.service.deleteObject('skew', key);
      h.advance(Date.now() - frozen);
      expect(r.deleteMarker).toBe(true);
      await expect(h.service.headObject('skew', key)).rejects.toThrow();
    }
  });
});

describe('a rewrap that lands between a version move reading a row and its commit (embedded backend)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await openHarness();
  });
  afterAll(async () => {
    await h.close();
  });

  /** A committer whose next transaction first lets `race` run (after it read everything it decides on). */
  function racyCommitter(race: () => Promise<void>): ObjectCommitter {
    let pending: (() => Promise<void>) | undefined = race;
    const index: RecordIndex = Object.create(h.index, {
      transact: {
        value: async (ops: readonly WriteOp[]) => {
          const run = pending;
          pending = undefined;
          await run?.();
          return h.index.transact(ops);
        },
      },
    }) as RecordIndex;
    return new ObjectCommitter(index, new Garbage(h.backend.blobs, index), h.now);
  }

  const rewrapRow = async (pk: string, sk: string, to: string) => {
    const item = await h.index.get(pk, sk);
    expect(await rewrapObject({ vault: h.backend.vault, blobs: h.backend.blobs, index: h.index, now: h.now }, item!, to)).toBe('rewrapped');
  };

  it('promoting the newest noncurrent version keeps the wrap a rewrap gave it meanwhile', async () => {
    const to = (await h.lifecycle.create({ alias: 'race-to-a' })).keyId;
    await h.service.createBucket('rw-promote');
    await h.service.setBucketVersioning('rw-promote', 'Enabled');
    const v1 = await h.service.putObject({ bucket: 'rw-promote', key: 'k', body: bytes('v1') });
    const v2 = await h.service.putObject({ bucket: 'rw-promote', key: 'k', body: bytes('v2') });
    const committer = racyCommitter(() => rewrapRow(versionsPk('rw-promote', 'k'), v1.vk!, to));
    await committer.remove('rw-promote', 'k', {}, { versioning: 'Enabled', versionId: v2.versionId! });
    const promoted = await h.service.headObject('rw-promote', 'k');
    expect([promoted.versionId, promoted.keyId]).toEqual([v1.versionId, to]);
    await expectBlobCopiesValid(h, promoted);
  });

  it('the first versioned write over an object from before versioning keeps the wrap a rewrap gave it meanwhile', async () => {
    const to = (await h.lifecycle.create({ alias: 'race-to-b' })).keyId;
    await h.service.createBucket('rw-legacy');
    await h.service.putObject({ bucket: 'rw-legacy', key: 'k', body: bytes('legacy') });
    await h.service.setBucketVersioning('rw-legacy', 'Enabled');
    const committer = racyCommitter(() => rewrapRow(objectsPk('rw-legacy'), 'k', to));
    await committer.remove('rw-legacy', 'k', {}, { versioning: 'Enabled' });
    const kept = await h.service.headObject('rw-legacy', 'k', 'null');
    expect(kept.keyId).toBe(to);
    await expectBlobCopiesValid(h, kept);
  });
});
