// The rebuild's guarantees that need a hand inside the process: a run that dies in the middle of a batch (a blob read
// fails after some of the batch's objects were published) and is run again ends with exactly the index a clean run
// builds; an overwrite whose replaced blob was never collected is resolved to the newest write, the older one
// reported superseded and its blob back in the garbage ledger; every CMK seen becomes known to the key lifecycle.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { openEmbeddedBackend, SqliteRecordIndex, type EmbeddedBackend } from '../../lambdas/adapters/embedded';
import { composeCore, type StoreCore } from '../../lambdas/compose-store';
import { silentLogger } from '../../lambdas/core/logger';
import type { BlobStore, StorePorts } from '../../lambdas/core/ports';
import { ledgerPk, objectsPk } from '../../lambdas/core/records';
import { bytes } from '../support/bytes';

async function bytesOf(s: Readable): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const p of s) out.push(p as Buffer);
  return Buffer.concat(out);
}

describe('recover inside the process (embedded adapters)', () => {
  let dir: string;
  let backend: EmbeddedBackend;
  const indexes: SqliteRecordIndex[] = [];
  let n = 0;

  /** A core over the backend's blobs and vault and a fresh, empty index file: what an emptied index looks like. */
  const onEmptyIndex = (blobs: BlobStore = backend.blobs): StoreCore => {
    const index = new SqliteRecordIndex(join(dir, `rebuilt-${n++}.sqlite`));
    indexes.push(index);
    const ports: StorePorts = { ...backend, blobs, index, close: () => Promise.resolve() };
    return composeCore(ports, { logger: silentLogger });
  };

  /** Every object row of every bucket, as the rebuilt index holds it (row MACs differ per index key, a sealed checksum by its random nonce: left out). */
  const rows = async (core: StoreCore) => {
    const out: Record<string, unknown> = {};
    for (const b of await core.service.listBuckets()) {
      for (const item of (await core.index.query(objectsPk(b.name), { limit: 1000 })).items) {
        const { sealedChecksum: _c, rowMac: _r, ...attrs } = item.attrs;
        out[`${b.name}/${item.sk}`] = attrs;
      }
    }
    return out;
  };

  const runToEnd = async (core: StoreCore, batch: number) => {
    for (;;) if ((await core.recovery.runBatch(batch)).done) return (await core.recovery.report()).entries;
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sealstore-recover-core-'));
    backend = await openEmbeddedBackend(dir);
  });
  afterAll(async () => {
    for (const index of indexes) await index.close();
    await backend?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('resumes a run killed mid-batch to the same index; keeps the newest of two writes of a key; registers the CMKs', async () => {
    const original = composeCore(backend, { logger: silentLogger });
    await original.service.createBucket('b');
    for (let i = 0; i < 12; i++) await original.service.putObject({ bucket: 'b', key: `k${i}`, body: bytes(`body ${i}`), userMetadata: { i: String(i) } });
    // An overwrite whose replaced blob outlives the index (its collection never ran): put back as it was.
    const old = await original.service.headObject('b', 'k0');
    const oldBlob = old.parts[0]!.blobId;
    const oldBytes = await bytesOf(await backend.blobs.get(oldBlob));
    const oldMeta = (await backend.blobs.head(oldBlob)).metadata;
    await new Promise((r) => setTimeout(r, 5)); // a later millisecond than the first write
    await original.service.putObject({ bucket: 'b', key: 'k0', body: bytes('the newer k0') });
    await original.service.settle();
    await backend.blobs.put(oldBlob, Readable.from([oldBytes]), oldMeta);

    // A clean run, for reference.
    const clean = onEmptyIndex();
    const cleanReport = await runToEnd(clean, 4);
    expect(cleanReport).toEqual([expect.objectContaining({ blobId: oldBlob, reason: 'superseded', bucket: 'b', key: 'k0' })]);
    expect(await clean.index.get(ledgerPk(oldBlob), oldBlob)).toMatchObject({ attrs: { kind: 'garbage' } });
    const want = await rows(clean);
    expect(Object.keys(want)).toHaveLength(12);
    expect((await clean.service.headObject('b', 'k0')).size).toBe('the newer k0'.length);
    expect((await clean.lifecycle.list()).map((k) => k.keyId)).toContain(backend.defaultKeyId);

    // A run whose 7th blob read fails (the process dies mid-batch): the batch is lost, the checkpoint is not.
    let heads = 0;
    let crash = true;
    const flaky: BlobStore = {
      ...backend.blobs,
      list: (a, l) => backend.blobs.list(a, l),
      get: (id, range) => backend.blobs.get(id, range),
      put: (...a) => backend.blobs.put(...a),
      replaceMetadata: (...a) => backend.blobs.replaceMetadata(...a),
      delete: (id) => backend.blobs.delete(id),
      head: async (id) => {
        if (crash && ++heads === 7) throw new Error('the process died here');
        return backend.blobs.head(id);
      },
    };
    const interrupted = onEmptyIndex(flaky);
    await expect(interrupted.recovery.runBatch(100)).rejects.toThrow('the process died here');
    expect(await interrupted.recovery.progress()).toMatchObject({ phase: 'scan', scanned: 0 });
    expect(Object.keys(await rows(interrupted)).length).toBeGreaterThan(0); // some of the batch was published
    crash = false;
    const resumedReport = await runToEnd(interrupted, 100);
    expect(await rows(interrupted)).toEqual(want);
    expect(resumedReport).toEqual(cleanReport);
    expect(await interrupted.recovery.progress()).toMatchObject({ done: true, objects: 12, scanned: 13, reported: { superseded: 1 } });
  });
});
