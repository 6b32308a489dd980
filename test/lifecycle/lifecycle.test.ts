// The CMK lifecycle on the embedded backend: rotation, rewrap, rollover, retirement, crashes and races.
import { KmsDisabledError } from '../../lambdas/core/errors';
import { lineLogger } from '../../lambdas/core/logger';
import { Lease } from '../../lambdas/core/key-lifecycle';
import { rewrapObject } from '../../lambdas/core/key-lifecycle/rewrap';
import { objectsByKeyPartitions, objectsPk } from '../../lambdas/core/records';
import { expectAllReadable, expectBlobCopiesValid, openHarness, putMany, record, type Harness } from './harness';
import { bytes } from '../support/bytes';
import { INDEX_KEY_PK, INDEX_KEY_SK } from '../../lambdas/core/index-auth/index-key';

const DAY_MS = 24 * 60 * 60 * 1000;

describe('key lifecycle (embedded backend)', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await openHarness();
  });
  afterEach(async () => {
    await h.close();
  });

  it('rewraps every object onto new key material after a rotation, leaving bodies readable', async () => {
    const keys = await putMany(h, 'rot', 12);
    const before = await record(h, 'rot', keys[0] ?? '');
    const rotated = await h.lifecycle.rotate();
    expect(rotated.currentMaterialId).not.toBe(before.keyMaterialId);

    const report = await h.lifecycle.runJob();
    expect(report).toMatchObject({ rewrapped: 12, remaining: 0, errors: 0 });

    const after = await expectAllReadable(h, 'rot', keys);
    for (const rec of after) {
      expect(rec.keyId).toBe(before.keyId);
      expect(rec.keyMaterialId).toBe(rotated.currentMaterialId);
      await expectBlobCopiesValid(h, rec);
    }
    // Bodies were not rewritten: same blobs, same sealed headers.
    expect(after[0]?.parts[0]?.blobId).toBe(before.parts[0]?.blobId);
    // Nothing left on the old material, found with a prefix query on each gsi1 shard of the CMK (no scan).
    const old = await Promise.all(objectsByKeyPartitions(before.keyId).map((p) => h.index.queryGsi1(p, { prefix: `${before.keyMaterialId}#`, limit: 10 })));
    expect(old.flatMap((page) => page.items)).toHaveLength(0);
    // A second run has nothing to do.
    expect(await h.lifecycle.runJob()).toMatchObject({ rewrapped: 0, remaining: 0 });
  });

  it('works in bounded batches that resume where the previous run stopped', async () => {
    const keys = await putMany(h, 'batch', 11);
    await h.lifecycle.rotate();
    const lc = h.makeLifecycle({ config: { batchSize: 4, pageSize: 3 } });
    const runs = [];
    for (let i = 0; i < 5; i++) runs.push(await lc.runJob());
    expect(runs.map((r) => r.rewrapped)).toEqual([4, 4, 3, 0, 0]);
    expect(runs.map((r) => r.remaining)).toEqual([7, 3, 0, 0, 0]);
    await expectAllReadable(h, 'batch', keys);
  });

  it('rolls over to a second CMK, rewraps away from the first, retires it and schedules deletion with the configured window', async () => {
    const keys = await putMany(h, 'roll', 6);
    const a = (await record(h, 'roll', keys[0] ?? '')).keyId;
    const b = await h.lifecycle.create({ alias: 'second' });
    expect(b.role).toBe('standby');
    await h.lifecycle.rollover('second');
    // New writes go under the new key at once.
    const fresh = await h.service.putObject({ bucket: 'roll', key: 'fresh', body: bytes('new') });
    expect(fresh.keyId).toBe(b.keyId);

    const report = await h.lifecycle.runJob();
    expect(report).toMatchObject({ rewrapped: 6, remaining: 0, errors: 0 });
    expect(report.retired.map((r) => r.keyId)).toEqual([a]);
    for (const rec of await expectAllReadable(h, 'roll', keys)) {
      expect(rec.keyId).toBe(b.keyId);
      await expectBlobCopiesValid(h, rec);
    }
    const described = await h.backend.vault.describeKey(a);
    expect(described.state).toBe('PendingDeletion');
    const windowMs = (described.deletionDate?.getTime() ?? 0) - Date.now();
    expect(windowMs).toBeGreaterThan(7 * DAY_MS - 60_000);
    expect(windowMs).toBeLessThanOrEqual(7 * DAY_MS);
    const list = await h.lifecycle.list();
    expect(list.map((k) => [k.keyId, k.role])).toEqual([
      [b.keyId, 'active'],
      [a, 'retired'],
    ]);
  });

  it('keeps a retiring CMK until the grace period for in-flight writes has passed', async () => {
    const keys = await putMany(h, 'grace', 2);
    const lc = h.makeLifecycle({ config: { retireGraceMs: 60 * 60 * 1000 } });
    await lc.create({ alias: 'next' });
    const { from } = await lc.rollover('next');
    const first = await lc.runJob();
    expect(first).toMatchObject({ rewrapped: 2, retired: [] });
    expect(first.notes.join('\n')).toMatch(/retires after/);
    expect((await h.backend.vault.describeKey(from.keyId)).state).toBe('Enabled');
    h.advance(61 * 60 * 1000);
    const second = await lc.runJob();
    expect(second.retired.map((r) => r.keyId)).toEqual([from.keyId]);
    await expectAllReadable(h, 'grace', keys);
  });

  it('logs what needs no action at info: a run with nothing to do, and a CMK waiting out its grace, write no warn line', async () => {
    const lines: Array<{ level: string; message: string; note?: string }> = [];
    const logger = lineLogger({ write: (line: string) => lines.push(JSON.parse(line) as { level: string; message: string }) });
    const lc = h.makeLifecycle({ config: { retireGraceMs: 60 * 60 * 1000 }, logger });
    await putMany(h, 'levels', 2);
    await lc.runJob();
    await lc.create({ alias: 'levels-next' });
    const { from } = await lc.rollover('levels-next');
    await lc.runJob();
    await lc.runJob();
    expect(lines.filter((l) => l.level !== 'info')).toEqual([]);
    expect(lines).toContainEqual(expect.objectContaining({ level: 'info', message: 'key lifecycle', note: expect.stringMatching(new RegExp(`^${from.keyId} wraps nothing; retires after `)) }));
  });

  it('logs a paused rotation at error: the active CMK is disabled and every PUT fails until an operator enables it', async () => {
    const lines: Array<{ level: string; message: string; note?: string }> = [];
    const logger = lineLogger({ write: (line: string) => lines.push(JSON.parse(line) as { level: string; message: string }) });
    const lc = h.makeLifecycle({ logger });
    const active = await lc.runJob();
    await h.backend.vault.disableKey(active.activeKeyId!);
    await lc.runJob();
    expect(lines).toContainEqual(expect.objectContaining({ level: 'error', note: `active key ${active.activeKeyId} is Disabled: rotation and rewrap paused until it is enabled` }));
  });

  it('loses nothing when a run crashes between the blob copies and the index, and the next run completes', async () => {
    const keys = await putMany(h, 'crash', 8);
    await h.lifecycle.create({ alias: 'target' });
    await h.lifecycle.rollover('target');
    let seen = 0;
    const crashing = h.makeLifecycle({
      hooks: {
        afterBlobMetadata: async () => {
          if (++seen === 4) throw new Error('simulated crash');
        },
      },
    });
    await expect(crashing.runJob()).rejects.toThrow('simulated crash');
    // Mid-crash state: everything still opens (blob copies on the new CMK, index on either).
    for (const rec of await expectAllReadable(h, 'crash', keys)) await expectBlobCopiesValid(h, rec);

    const report = await h.lifecycle.runJob();
    expect(report.errors).toBe(0);
    expect(report.remaining).toBe(0);
    for (const rec of await expectAllReadable(h, 'crash', keys)) {
      expect(rec.keyId).toBe((await h.lifecycle.list())[0]?.keyId);
      await expectBlobCopiesValid(h, rec);
    }
  });

  it('does no harm when two runs start at once: one holds the lease, the work is done once', async () => {
    const keys = await putMany(h, 'race', 10);
    await h.lifecycle.rotate();
    const other = h.makeLifecycle();
    const [r1, r2] = await Promise.all([h.lifecycle.runJob(), other.runJob()]);
    const skipped = [r1, r2].filter((r) => r.skipped !== undefined);
    expect(skipped.length).toBeLessThanOrEqual(1);
    expect(r1.rewrapped + r2.rewrapped).toBe(10);
    expect(r1.errors + r2.errors).toBe(0);
    await expectAllReadable(h, 'race', keys);
  });

  it('keeps objects readable when two rewraps of the same objects race without the lease', async () => {
    const keys = await putMany(h, 'norace', 6);
    const rotated = await h.lifecycle.rotate();
    const items = await Promise.all(keys.map((k) => h.index.get(objectsPk('norace'), k)));
    const deps = { vault: h.backend.vault, blobs: h.backend.blobs, index: h.index, now: h.now };
    await Promise.all(items.flatMap((item) => (item ? [rewrapObject(deps, item, rotated.keyId), rewrapObject(deps, item, rotated.keyId)] : [])));
    for (const rec of await expectAllReadable(h, 'norace', keys)) {
      expect(rec.keyMaterialId).toBe(rotated.currentMaterialId);
      await expectBlobCopiesValid(h, rec);
    }
  });

  it('does not rewrap an object replaced while its rewrap was in flight', async () => {
    await putMany(h, 'swap', 1);
    const rotated = await h.lifecycle.rotate();
    const item = await h.index.get(objectsPk('swap'), 'dir/obj-000');
    await h.service.putObject({ bucket: 'swap', key: 'dir/obj-000', body: bytes('replacement') });
    const outcome = await rewrapObject({ vault: h.backend.vault, blobs: h.backend.blobs, index: h.index, now: h.now }, item!, rotated.keyId);
    expect(outcome).toBe('gone');
    const rec = await h.service.headObject('swap', 'dir/obj-000');
    expect(rec.size).toBe('replacement'.length);
  });

  it('rotates the active CMK on demand once the rotation period has passed, and keeps automatic rotation on', async () => {
    const keys = await putMany(h, 'due', 3);
    const first = await h.lifecycle.runJob();
    expect(first.rotated).toEqual([]);
    const active = first.activeKeyId ?? '';
    expect(await h.backend.vault.getKeyRotationStatus(active)).toMatchObject({ enabled: true, rotationPeriodDays: 365 });
    h.advance(366 * DAY_MS);
    const due = await h.lifecycle.runJob();
    expect(due.rotated).toEqual([active]);
    expect(due).toMatchObject({ rewrapped: 3, remaining: 0 });
    await expectAllReadable(h, 'due', keys);
    expect((await h.lifecycle.runJob()).rotated).toEqual([]);
  });

  it('pauses rewrap with a clear note while the active CMK is disabled, and resumes after enable', async () => {
    const keys = await putMany(h, 'paused', 3);
    const rotated = await h.lifecycle.rotate();
    await h.lifecycle.disable(rotated.keyId);
    await expect(h.service.openObject(await h.service.headObject('paused', keys[0] ?? ''))).rejects.toBeInstanceOf(KmsDisabledError);
    const paused = await h.lifecycle.runJob();
    expect(paused.rewrapped).toBe(0);
    expect(paused.notes.join('\n')).toContain(`active key ${rotated.keyId} is Disabled`);
    await h.lifecycle.enable(rotated.keyId);
    expect(await h.lifecycle.runJob()).toMatchObject({ rewrapped: 3, remaining: 0 });
    await expectAllReadable(h, 'paused', keys);
  });

  it('moves access-key secrets with a rollover and will not retire a CMK a secret still needs', async () => {
    const created = await h.accessKeys.create({ grants: [{ bucket: '*', role: 'read' }] });
    const oldKey = created.keyId;
    await h.lifecycle.create({ alias: 'for-secrets' });
    const { to } = await h.lifecycle.rollover('for-secrets');
    const report = await h.lifecycle.runJob();
    // The access key's secret, and the index key (every store has one: it authenticates the index's rows).
    expect(report.sealedSecretsRewrapped).toBe(2);
    expect((await h.backend.index.get(INDEX_KEY_PK, INDEX_KEY_SK))?.attrs['keyId']).toBe(to.keyId);
    expect(report.retired.map((r) => r.keyId)).toEqual([oldKey]);
    const [listed] = await h.accessKeys.list();
    expect(listed?.keyId).toBe(to.keyId);
    const fresh = new (h.accessKeys.constructor as typeof import('../../lambdas/core/access-keys').AccessKeyStore)({
      index: h.index,
      vault: h.backend.vault,
      activeKeys: h.lifecycle.activeKeys,
    });
    expect((await fresh.lookup(created.accessKeyId))?.secret).toBe(created.secretAccessKey);
  });

  it('cancels the deletion of a retired CMK that turns out to wrap data, and moves that data off it', async () => {
    const keys = await putMany(h, 'late', 2);
    const a = (await record(h, 'late', keys[0] ?? '')).keyId;
    await h.lifecycle.create({ alias: 'b' });
    await h.lifecycle.rollover('b');
    expect((await h.lifecycle.runJob()).retired.map((r) => r.keyId)).toEqual([a]);
    // A writer whose cached active key is long stale: it cannot use a key pending deletion, so plant the
    // index entry the way a very late commit would, by cancelling first to get a wrap under A.
    await h.backend.vault.cancelKeyDeletion(a);
    await h.backend.vault.enableKey(a);
    const { ObjectService } = await import('../../lambdas/core/object-service');
    const stale = new ObjectService({ vault: h.backend.vault, blobs: h.backend.blobs, index: h.index, keys: { activeKeyId: async () => a } });
    await stale.putObject({ bucket: 'late', key: 'late-write', body: bytes('late') });
    await h.backend.vault.scheduleKeyDeletion(a, 7);
    const report = await h.lifecycle.runJob();
    expect(report.notes.join('\n')).toContain('deletion cancelled');
    expect((await h.backend.vault.describeKey(a)).state).toBe('Enabled');
    const after = await h.lifecycle.runJob();
    expect(after.rewrapped).toBe(1);
    expect(after.retired.map((r) => r.keyId)).toEqual([a]);
    const rec = await h.service.headObject('late', 'late-write');
    expect(rec.keyId).not.toBe(a);
  });
});

describe('Lease', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await openHarness();
  });
  afterEach(async () => {
    await h.close();
  });

  it('lets one holder in at a time and hands an expired lease to the next run', async () => {
    const one = new Lease(h.index, 'job', 1000, h.now);
    const two = new Lease(h.index, 'job', 1000, h.now);
    const results = await Promise.all([one.acquire(), two.acquire()]);
    expect(results.filter(Boolean)).toHaveLength(1);
    const [holder, other] = results[0] ? [one, two] : [two, one];
    expect(await other.acquire()).toBe(false);
    h.advance(1500); // the holder "crashed" without releasing
    expect(await other.acquire()).toBe(true);
    expect(await holder.renew()).toBe(false);
    await other.release();
    expect(await holder.acquire()).toBe(true);
  });
});
