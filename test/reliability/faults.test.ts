// Faults at every port boundary: the client sees a retryable S3 error, acknowledged data survives byte-identical,
// nothing half-written becomes visible, and whatever a failed write left behind is swept.
import { randomBytes } from 'node:crypto';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { triggers } from '../support/faults';
import { blobFiles, checkInvariants, createBucket, del, Model, outcome, put, readDigest, retrying, sha, startHarness, type Harness } from './harness';

describe('sealstore under port faults', () => {
  let h: Harness;
  let model: Model;
  let n = 0;
  let bucket: string;

  // A fresh store per test: the blob count after the sweep is part of every verdict.
  beforeEach(async () => {
    h = await startHarness({ frameSize: 4096 });
    bucket = `faults-${n++}`;
    model = new Model();
    await createBucket(h.s3, bucket);
  });
  afterEach(async () => h?.close());

  /** Writes `v1` under `key` with faults off, so each test has an acknowledged version to protect. */
  async function seed(key: string): Promise<Buffer> {
    const v1 = randomBytes(20_000);
    await put(h.s3, bucket, key, v1);
    model.acknowledgedPut(key, v1);
    return v1;
  }

  describe('key vault', () => {
    it('answers 503 SlowDown when GenerateDataKey is throttled, and keeps the previous object', async () => {
      const v1 = await seed('doc');
      h.faults.set({ vault: { kind: 'throttled', when: triggers.always(), ops: ['generateDataKey'] } });
      expect(await outcome(put(h.s3, bucket, 'doc', randomBytes(5000)))).toEqual({ status: 503, code: 'SlowDown' });
      h.faults.clear();
      expect(await readDigest(h.s3, bucket, 'doc')).toBe(sha(v1));
      await checkInvariants(h, bucket, model);
    });

    it('answers 503 SlowDown when Decrypt is throttled on GET, and serves the object once it recovers', async () => {
      const v1 = await seed('doc');
      h.faults.set({ vault: { kind: 'throttled', when: triggers.always(), ops: ['decrypt'] } });
      expect(await outcome(h.s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'doc' })))).toEqual({ status: 503, code: 'SlowDown' });
      h.faults.clear();
      expect(await readDigest(h.s3, bucket, 'doc')).toBe(sha(v1));
    });

    it('answers 503 ServiceUnavailable when the vault is down and 500 InternalError when it is unreachable', async () => {
      await seed('doc');
      h.faults.set({ vault: { kind: 'down', when: triggers.always() } });
      expect(await outcome(put(h.s3, bucket, 'doc', randomBytes(100)))).toEqual({ status: 503, code: 'ServiceUnavailable' });
      expect(await outcome(h.s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'doc' })))).toEqual({ status: 503, code: 'ServiceUnavailable' });
      h.faults.set({ vault: { kind: 'unreachable', when: triggers.always() } });
      expect(await outcome(put(h.s3, bucket, 'new', randomBytes(100)))).toEqual({ status: 500, code: 'InternalError' });
      h.faults.clear();
      model.uncertain('new', null);
      await checkInvariants(h, bucket, model);
    });

    it('completes correctly, only later, when the vault is slow', async () => {
      h.faults.set({ vault: { kind: 'slow', delayMs: 150, when: triggers.always() } });
      const body = randomBytes(30_000);
      const started = Date.now();
      await put(h.s3, bucket, 'slow', body);
      model.acknowledgedPut('slow', body);
      expect(await readDigest(h.s3, bucket, 'slow')).toBe(sha(body));
      expect(Date.now() - started).toBeGreaterThanOrEqual(300);
      h.faults.clear();
      await checkInvariants(h, bucket, model);
    });
  });

  describe('blob store', () => {
    it('answers 500 when the blob body stream breaks midway, keeps the previous object and leaves no partial blob', async () => {
      const v1 = await seed('doc');
      const before = await blobFiles(h.dataDir);
      h.faults.set({ blobWrite: { afterBytes: 10_000, when: triggers.always() } });
      expect(await outcome(put(h.s3, bucket, 'doc', randomBytes(50_000)))).toEqual({ status: 500, code: 'InternalError' });
      expect(await outcome(put(h.s3, bucket, 'fresh', randomBytes(50_000)))).toEqual({ status: 500, code: 'InternalError' });
      h.faults.clear();
      model.uncertain('fresh', null);
      // Even before any sweep, the torn writes left no file behind.
      const after = await blobFiles(h.dataDir);
      expect(after).toEqual(before);
      expect(await readDigest(h.s3, bucket, 'doc')).toBe(sha(v1));
      await checkInvariants(h, bucket, model);
    });
  });

  describe('object index', () => {
    it('answers 500 when the commit is refused: the previous object stays, the new blob is swept', async () => {
      const v1 = await seed('doc');
      h.faults.set({ indexCommit: { lost: 'before', when: triggers.always() } });
      expect(await outcome(put(h.s3, bucket, 'doc', randomBytes(9000)))).toEqual({ status: 500, code: 'InternalError' });
      expect(await outcome(del(h.s3, bucket, 'doc'))).toEqual({ status: 500, code: 'InternalError' });
      h.faults.clear();
      expect(await readDigest(h.s3, bucket, 'doc')).toBe(sha(v1));
      await checkInvariants(h, bucket, model);
    });

    // A commit that lands but whose reply is lost (a DynamoDB timeout after the write) must not make the
    // service discard the blob the index now points at: discarding is conditional on the blob still pending.
    it('never shows a half-written object when a commit succeeds but its acknowledgement is lost', async () => {
      await seed('doc');
      const v2 = randomBytes(9000);
      h.faults.set({ indexCommit: { lost: 'after', when: triggers.times(1) } });
      expect(await outcome(put(h.s3, bucket, 'doc', v2))).toEqual({ status: 500, code: 'InternalError' });
      h.faults.clear();
      // The client cannot know whether v2 landed: either version is fine, a broken object is not.
      model.uncertain('doc', v2);
      await checkInvariants(h, bucket, model);
    });

    it('keeps a delete whose acknowledgement was lost either done or undone, never half-done', async () => {
      await seed('doc');
      h.faults.set({ indexCommit: { lost: 'after', when: triggers.times(1) } });
      expect(await outcome(del(h.s3, bucket, 'doc'))).toEqual({ status: 500, code: 'InternalError' });
      h.faults.clear();
      model.uncertain('doc', null);
      await checkInvariants(h, bucket, model);
    });
  });

  it('lets a retrying client finish a mixed workload while every port misbehaves at random', async () => {
    const client = h.client(1);
    const kinds = ['vault-throttled', 'vault-down', 'blob-torn', 'commit-refused'] as const;
    let retries = 0;
    for (let i = 0; i < 48; i++) {
      const kind = kinds[i % kinds.length]!;
      const when = triggers.chance(0.35, 1000 + i);
      if (kind === 'vault-throttled') h.faults.set({ vault: { kind: 'throttled', when } });
      else if (kind === 'vault-down') h.faults.set({ vault: { kind: 'down', when } });
      else if (kind === 'blob-torn') h.faults.set({ blobWrite: { afterBytes: 3000, when } });
      else h.faults.set({ indexCommit: { lost: 'before', when } });
      const key = `k${i % 7}`;
      if (i % 5 === 4) {
        retries += (await retrying(() => del(client, bucket, key))).retries;
        model.acknowledgedDelete(key);
      } else {
        const body = randomBytes(1000 + ((i * 7919) % 40_000));
        retries += (await retrying(() => put(client, bucket, key, body))).retries;
        model.acknowledgedPut(key, body);
      }
      const digest = await retrying(() => readDigest(client, bucket, key));
      expect(model.allows(key, digest.value)).toBe(true);
    }
    h.faults.clear();
    const total = h.faults.counts.vault + h.faults.counts.blobWrite + h.faults.counts.indexCommit;
    expect(total).toBeGreaterThan(10);
    expect(retries).toBeGreaterThan(5);
    await checkInvariants(h, bucket, model);
  });
});
