// The multipart machinery on the embedded adapters, watched from the ports: key-vault calls, blob bytes read,
// manifest chunk items for many-part objects, the ledger, and recovery from interrupted completions and aborts.
import { silentLogger } from '../../lambdas/core/logger';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openEmbeddedBackend, type EmbeddedBackend } from '../../lambdas/adapters/embedded';
import { ObjectService } from '../../lambdas/core/object-service';
import { COMPLETED_UPLOAD_RETENTION_MS, multipartEtag } from '../../lambdas/core/uploads';
import { ledgerPartitions, MAX_INLINE_PARTS, manifestPk, objectsPk, uploadPartsPk, uploadsPk } from '../../lambdas/core/records';
import { HEADER_SIZE, TAG_SIZE } from '../../lambdas/core/format';
import { readAllFiles } from '../support/embedded-target';
import { FaultInjector, triggers } from '../support/faults';
import { PortCounter } from '../support/port-wrappers';
import type { BlobStore, KeyVault, RecordIndex, WriteOp } from '../../lambdas/core/ports';
import { bytes } from '../support/bytes';

const MiB = 1024 * 1024;
const FRAME = 64 * 1024;
const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');

async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of stream) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

describe('multipart upload inside the object service (embedded adapters)', () => {
  let dir: string;
  let backend: EmbeddedBackend;
  const counter = new PortCounter();
  const faults = new FaultInjector();
  let blobs: BlobStore;
  let vault: KeyVault;
  let index: RecordIndex;
  /** [GenerateDataKey, Decrypt] calls since the last reset. */
  const vaultCalls = () => [counter.count('vault', 'generateDataKey'), counter.count('vault', 'decrypt')];
  /** Fails the next index commit that `matches`, as a crash or an outage at that point would. */
  const failNextCommit = (matches: (ops: readonly WriteOp[]) => boolean) => faults.set({ indexCommit: { lost: 'before', when: triggers.times(1), ops: matches } });
  let clock: number;
  const warnings: string[] = [];
  const service = (minPartSize?: number) =>
    new ObjectService({
      vault,
      blobs,
      index,
      keys: { activeKeyId: async () => backend.defaultKeyId },
      now: () => new Date(clock),
      frameSize: FRAME,
      minPartSize,
      logger: { ...silentLogger, warn: (m) => warnings.push(m) },
    });
  const blobFiles = async () => (await readAllFiles(join(dir, 'blobs'))).length;
  const ledger = async () => (await Promise.all(ledgerPartitions().map((pk) => index.query(pk, { limit: 1000 })))).flatMap((p) => p.items);
  let n = 0;
  const newBucket = async (svc: ObjectService) => {
    const name = `int-${n++}`;
    await svc.createBucket(name);
    return name;
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sealstore-mp-'));
    backend = await openEmbeddedBackend(dir);
    blobs = counter.blobs(backend.blobs);
    vault = counter.vault(backend.vault);
    index = faults.wrapIndex(backend.index);
  });
  afterAll(async () => {
    await backend?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });
  beforeEach(() => {
    clock = Date.parse('2026-01-01T00:00:00Z');
    counter.reset();
    faults.clear();
  });

  it('asks the key vault for one data key per upload and one Decrypt per part request', async () => {
    const svc = service();
    const b = await newBucket(svc);
    counter.reset();
    const upload = await svc.createMultipartUpload({ bucket: b, key: 'k' });
    expect(vaultCalls()).toEqual([1, 0]);
    const bodies = [randomBytes(MiB), randomBytes(MiB), randomBytes(10)];
    const parts = [];
    for (const [i, body] of bodies.entries()) parts.push(await svc.uploadPart({ bucket: b, key: 'k', uploadId: upload.uploadId, partNumber: i + 1, body: bytes(body) }));
    expect(vaultCalls()).toEqual([1, 3]);
    await svc.completeMultipartUpload({ bucket: b, key: 'k', uploadId: upload.uploadId, parts: parts.map((p) => ({ partNumber: p.partNumber, etag: p.etag })) });
    expect(vaultCalls()).toEqual([1, 4]);
    // Every part blob carries the wrapped key and names its part, so a blob alone is recoverable with KMS.
    const record = await svc.headObject(b, 'k');
    const info = await backend.blobs.head(record.parts[1]!.blobId);
    expect(info.metadata['sealstore-wrapped-key']).toBe(record.wrappedKey.toString('base64'));
    expect(info.metadata['sealstore-part']).toBe('2');
  });

  it('reads only the frames a range touches, across a part boundary', async () => {
    const svc = service();
    const b = await newBucket(svc);
    const upload = await svc.createMultipartUpload({ bucket: b, key: 'r' });
    const bodies = [randomBytes(MiB), randomBytes(MiB), randomBytes(MiB)];
    const parts = [];
    for (const [i, body] of bodies.entries()) parts.push(await svc.uploadPart({ bucket: b, key: 'r', uploadId: upload.uploadId, partNumber: i + 1, body: bytes(body) }));
    await svc.completeMultipartUpload({ bucket: b, key: 'r', uploadId: upload.uploadId, parts: parts.map((p) => ({ partNumber: p.partNumber, etag: p.etag })) });
    const whole = Buffer.concat(bodies);
    const record = await svc.headObject(b, 'r');
    counter.reset();
    const got = await readAll(await svc.openObject(record, { start: MiB - 10, end: MiB + 9 }));
    expect(got.equals(whole.subarray(MiB - 10, MiB + 10))).toBe(true);
    // The last frame of part 1 and the first frame of part 2: nothing else, not even the headers.
    expect(counter.count('blobs', 'get')).toBe(2);
    expect(counter.blobBytesRead).toBe(2 * (FRAME + TAG_SIZE));
    counter.reset();
    await readAll(await svc.openObject(record));
    expect(counter.blobBytesRead).toBe(3 * (MiB + (MiB / FRAME) * TAG_SIZE));
    // Neither count includes a part header (76 bytes each, FORMAT.md §3): the headers come from the index.
    expect(HEADER_SIZE).toBe(76);
  });

  it('commits a 520-part object atomically with its manifest in chunk items, and replacing it shreds every blob', async () => {
    const svc = service(1);
    const b = await newBucket(svc);
    const filesBefore = await blobFiles();
    const upload = await svc.createMultipartUpload({ bucket: b, key: 'many', userMetadata: { big: 'yes' } });
    const bodies = Array.from({ length: 520 }, (_, i) => randomBytes(50 + (i % 7)));
    const parts = [];
    for (const [i, body] of bodies.entries()) parts.push(await svc.uploadPart({ bucket: b, key: 'many', uploadId: upload.uploadId, partNumber: i + 1, body: bytes(body) }));
    const record = await svc.completeMultipartUpload({ bucket: b, key: 'many', uploadId: upload.uploadId, parts: parts.map((p) => ({ partNumber: p.partNumber, etag: p.etag })) });
    expect(record.etag).toBe(multipartEtag(parts));
    expect(record.etag).toMatch(/^[0-9a-f]{32}-520$/);
    // S3's form, over the keyed part ETags: the part bodies' MD5s do not give it.
    expect(record.etag).not.toBe(multipartEtag(bodies.map((x) => ({ etag: md5(x) }))));
    const item = await index.get(objectsPk(b), 'many');
    expect(item?.attrs['parts']).toEqual([]);
    expect(item?.attrs['manifestChunks']).toBe(2);
    expect(JSON.stringify(item).length).toBeLessThan(4096);
    expect((await index.query(manifestPk(record.objectId), { limit: 10 })).items).toHaveLength(2);
    // No part items; the upload item stays, completed with the ETag, so a retried completion gets the same answer.
    expect((await index.query(uploadPartsPk(upload.uploadId), { limit: 10 })).items).toEqual([]);
    expect((await index.query(uploadsPk(b), { limit: 10 })).items.map((i) => [i.attrs['state'], i.attrs['completedEtag']])).toEqual([['completed', record.etag]]);
    expect((await svc.completeMultipartUpload({ bucket: b, key: 'many', uploadId: upload.uploadId, parts: parts.map((p) => ({ partNumber: p.partNumber, etag: p.etag })) })).etag).toBe(record.etag);
    // Past the retention the upload sweep removes it.
    clock += COMPLETED_UPLOAD_RETENTION_MS;
    await svc.sweepUploads(7 * 24 * 3600_000);
    expect((await index.query(uploadsPk(b), { limit: 10 })).items).toEqual([]);
    const head = await svc.headObject(b, 'many');
    expect(head.parts).toHaveLength(520);
    const whole = Buffer.concat(bodies);
    expect((await readAll(await svc.openObject(head))).equals(whole)).toBe(true);
    expect((await readAll(await svc.openObject(head, { start: 30_000, end: 30_100 }))).equals(whole.subarray(30_000, 30_101))).toBe(true);
    // The 520 parts and the completion manifest (FORMAT.md §14.6), which goes with the object.
    expect(await blobFiles()).toBe(filesBefore + 520 + 1);
    // One ledger entry retires all 520 blobs inside the replacing transaction.
    await svc.putObject({ bucket: b, key: 'many', body: bytes('small now') });
    await svc.settle(); // the replaced object's blobs are shredded in the background
    expect(await blobFiles()).toBe(filesBefore + 1);
    expect((await index.query(manifestPk(record.objectId), { limit: 10 })).items).toEqual([]);
    expect(await ledger()).toEqual([]);
    expect(MAX_INLINE_PARTS).toBeLessThan(520);
  }, 60_000);

  it('keeps a failed completion\'s upload open, so the client can retry it', async () => {
    const svc = service();
    const b = await newBucket(svc);
    const upload = await svc.createMultipartUpload({ bucket: b, key: 'retry' });
    const body = randomBytes(5000);
    const part = await svc.uploadPart({ bucket: b, key: 'retry', uploadId: upload.uploadId, partNumber: 1, body: bytes(body) });
    failNextCommit((ops) => ops.some((op) => op.op === 'put' && op.item.pk === objectsPk(b)));
    await expect(svc.completeMultipartUpload({ bucket: b, key: 'retry', uploadId: upload.uploadId, parts: [{ partNumber: 1, etag: part.etag }] })).rejects.toThrow('injected');
    await expect(svc.headObject(b, 'retry')).rejects.toMatchObject({ code: 'NoSuchKey' });
    const listed = await svc.listMultipartUploads({ bucket: b, maxUploads: 10 });
    expect(listed.uploads.map((u) => [u.uploadId, u.state])).toEqual([[upload.uploadId, 'open']]);
    await svc.completeMultipartUpload({ bucket: b, key: 'retry', uploadId: upload.uploadId, parts: [{ partNumber: 1, etag: part.etag }] });
    expect((await readAll(await svc.openObject(await svc.headObject(b, 'retry')))).equals(body)).toBe(true);
  });

  it('deleting a bucket ends the uploads it still held: open ones shredded, a completed one\'s kept row (a wrapped-key copy) dropped', async () => {
    const svc = service();
    const b = await newBucket(svc);
    const filesBefore = await blobFiles();
    const open = await svc.createMultipartUpload({ bucket: b, key: 'open' });
    await svc.uploadPart({ bucket: b, key: 'open', uploadId: open.uploadId, partNumber: 1, body: bytes(randomBytes(3000)) });
    await svc.uploadPart({ bucket: b, key: 'open', uploadId: open.uploadId, partNumber: 2, body: bytes(randomBytes(3000)) });
    const done = await svc.createMultipartUpload({ bucket: b, key: 'done' });
    const part = await svc.uploadPart({ bucket: b, key: 'done', uploadId: done.uploadId, partNumber: 1, body: bytes(randomBytes(3000)) });
    await svc.completeMultipartUpload({ bucket: b, key: 'done', uploadId: done.uploadId, parts: [{ partNumber: 1, etag: part.etag }] });
    await svc.deleteObject(b, 'done');
    // The completed upload's row stays for retries (with the object's wrapped key); the open one holds two part blobs.
    expect((await index.query(uploadsPk(b), { limit: 10 })).items).toHaveLength(2);
    expect(await blobFiles()).toBe(filesBefore + 2);

    await svc.deleteBucket(b);
    expect((await index.query(uploadsPk(b), { limit: 10 })).items).toEqual([]);
    expect((await index.query(uploadPartsPk(open.uploadId), { limit: 10 })).items).toEqual([]);
    expect(await blobFiles()).toBe(filesBefore);
    expect(await ledger()).toEqual([]);

    // A bucket of the same name made again starts with no uploads, and its own are not touched by the old deletion.
    await svc.createBucket(b);
    expect((await svc.listMultipartUploads({ bucket: b, maxUploads: 10 })).uploads).toEqual([]);
    await svc.deleteBucket(b);
  });

  it('sweeps: aborts idle uploads, and finishes completions and aborts that were interrupted', async () => {
    const svc = service();
    const b = await newBucket(svc);
    const filesBefore = await blobFiles();
    const put = async (key: string, count: number) => {
      const u = await svc.createMultipartUpload({ bucket: b, key });
      const bodies = Array.from({ length: count }, () => randomBytes(MiB));
      const etags: string[] = [];
      for (const [i, body] of bodies.entries()) etags.push((await svc.uploadPart({ bucket: b, key, uploadId: u.uploadId, partNumber: i + 1, body: bytes(body) })).etag);
      return { u, bodies, etags };
    };
    const idle = await put('idle', 2);
    const busy = await put('busy', 1);
    // Completion crashes while dropping part items (part 2 was not used): object live, leftovers remain.
    const completing = await put('completing', 2);
    failNextCommit((ops) => ops.some((op) => op.op === 'delete' && op.pk === uploadPartsPk(completing.u.uploadId)));
    await svc.completeMultipartUpload({ bucket: b, key: 'completing', uploadId: completing.u.uploadId, parts: [{ partNumber: 1, etag: completing.etags[0]! }] });
    expect(warnings.some((w) => w.includes('completed upload left for the sweep'))).toBe(true);
    // Abort crashes after marking the upload aborting.
    const aborting = await put('aborting', 2);
    failNextCommit((ops) => ops.some((op) => op.op === 'delete' && op.pk === uploadPartsPk(aborting.u.uploadId)));
    await expect(svc.abortMultipartUpload(b, 'aborting', aborting.u.uploadId)).rejects.toThrow('injected');
    // 7 parts and the completed object's manifest.
    expect(await blobFiles()).toBe(filesBefore + 7 + 1);
    expect((await svc.listMultipartUploads({ bucket: b, maxUploads: 10 })).uploads.map((u) => u.key)).toEqual(['busy', 'idle']);

    clock += 2 * 3600_000;
    await svc.uploadPart({ bucket: b, key: 'busy', uploadId: busy.u.uploadId, partNumber: 2, body: bytes(randomBytes(10)) });
    clock += 1000;
    const swept = await svc.sweepUploads(3600_000);
    // 'completing' and 'aborting' here; earlier tests' completed uploads, kept for retries, are past retention too.
    expect(swept.aborted).toBe(1);
    expect(swept.finished).toBeGreaterThanOrEqual(2);
    expect((await svc.listMultipartUploads({ bucket: b, maxUploads: 10 })).uploads.map((u) => u.key)).toEqual(['busy']);
    expect((await index.query(uploadsPk(b), { limit: 10 })).items).toHaveLength(1);
    for (const u of [idle.u, completing.u, aborting.u]) expect((await index.query(uploadPartsPk(u.uploadId), { limit: 10 })).items).toEqual([]);
    // Left: busy's two parts and the completed object's one part and manifest. Nothing in the ledger.
    expect(await blobFiles()).toBe(filesBefore + 3 + 1);
    expect(await ledger()).toEqual([]);
    expect((await readAll(await svc.openObject(await svc.headObject(b, 'completing')))).equals(completing.bodies[0]!)).toBe(true);
    await expect(svc.uploadPart({ bucket: b, key: 'idle', uploadId: idle.u.uploadId, partNumber: 3, body: bytes('x') })).rejects.toMatchObject({ code: 'NoSuchUpload' });
  });
});
