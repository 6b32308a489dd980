// Concurrent writers to one versioned key (issue 15): every PUT and DELETE keeps its version, the key's version count
// matches its version partition, exactly one version is latest, and the latest is the one whose write began last
// (its sort key is the smallest), whoever committed first.
import { objectsPk } from '../../lambdas/core/records';
import { bytes } from '../support/bytes';
import { openHarness, readAll, type Harness } from '../lifecycle/harness';

describe('concurrent writers to one versioned key (embedded backend)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await openHarness();
  });
  afterAll(async () => {
    await h.close();
  });

  it('keeps every version and marker, counts them, and orders them by when their writes began', async () => {
    await h.service.createBucket('race');
    await h.service.setBucketVersioning('race', 'Enabled');
    await h.service.putObject({ bucket: 'race', key: 'k', body: bytes('seed') });
    const writes = Array.from({ length: 10 }, (_, i) => h.service.putObject({ bucket: 'race', key: 'k', body: bytes(`writer ${i}`) }));
    const deletes = Array.from({ length: 2 }, () => h.service.deleteObject('race', 'k'));
    const written = await Promise.all(writes);
    const markers = await Promise.all(deletes);
    const listed = await h.service.listObjectVersions({ bucket: 'race', maxKeys: 1000 });
    expect(listed.versions).toHaveLength(1 + written.length + markers.length);
    expect(listed.versions.filter((v) => v.isLatest)).toHaveLength(1);
    const ids = listed.versions.map((v) => v.version.versionId ?? '');
    // Newest first: the listing is in sort-key order, and the latest is the smallest key.
    expect(ids).toEqual([...ids].sort());
    expect(listed.versions[0]?.isLatest).toBe(true);
    const latest = await h.index.get(objectsPk('race'), 'k');
    expect(latest?.attrs['noncurrent']).toBe(written.length + markers.length);
    for (const w of written) {
      const i = written.indexOf(w);
      expect((await readAll(await h.service.openObject(await h.service.headObject('race', 'k', w.versionId)))).toString()).toBe(`writer ${i}`);
    }
    expect(new Set([...written.map((w) => w.versionId), ...markers.map((m) => m.versionId)]).size).toBe(written.length + markers.length);
  });
});
