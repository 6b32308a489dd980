// One run of the scheduled key lifecycle: keep rotation on, rotate when due, rewrap a bounded batch,
// retire CMKs nothing needs and schedule their deletion. Idempotent; a lease keeps runs from overlapping,
// and every write is conditional so even overlapping runs lose nothing.
import { Buckets } from '../buckets';
import { KmsNotFoundError, StoreError } from '../errors';
import { anyChosenObjectUnderKey, anyObjectUnderKey, objectsUnderKey } from '../objects-by-key';
import type { Logger } from '../logger';
import type { BlobStore, IndexItem, KeyAdmin, KeyVault, RecordIndex } from '../ports';
import { ensureBootstrapped } from './active-key';
import type { LifecycleConfig } from './config';
import type { KeyStateRecord, KeyStateStore } from './key-state';
import { Lease } from './lease';
import type { JobReport, RetiredKey } from './report';
import { freshObjectItem, isCurrent, rewrapObject, type RewrapHooks } from './rewrap';

const DAY_MS = 24 * 60 * 60 * 1000;
const MAX_NOTES = 20;
/** How often the active CMK's object count is refreshed when nothing else asks for a walk. */
const RECOUNT_MS = 60 * 60 * 1000;

/** Secrets sealed under CMKs (access-key secrets, the index key): the job moves them and will not retire a CMK one needs. */
export interface SealedSecrets {
  rewrapSecrets(destinationKeyId: string, destinationMaterialId: string | undefined): Promise<{ rewrapped: number; errors: number }>;
  countSealedUnder(keyId: string): Promise<number>;
}

export interface RotationJobDeps {
  readonly vault: KeyVault;
  readonly admin: KeyAdmin;
  readonly blobs: BlobStore;
  readonly index: RecordIndex;
  readonly states: KeyStateStore;
  readonly defaultKeyId: string;
  readonly config: LifecycleConfig;
  readonly now: () => Date;
  readonly secrets?: SealedSecrets;
  readonly hooks?: RewrapHooks;
  readonly logger?: Logger;
}

/** Counts of one CMK's gsi1 partition. */
interface Count {
  readonly total: number;
  readonly needing: number;
  /** Objects there by choice (keyChosen); 0 when the CMK was not walked (the active or a clean standby one). */
  readonly chosen: number;
  readonly capped: boolean;
}

export class RotationJob {
  private rewrapped = 0;
  private errors = 0;
  private secretsRewrapped = 0;
  private readonly rotated: string[] = [];
  private readonly retired: RetiredKey[] = [];
  private readonly notes: string[] = [];
  /** CMKs named by buckets' default encryption, with the buckets: kept rotated, never retired. Read once per run. */
  private bucketDefaults = new Map<string, string[]>();

  constructor(private readonly deps: RotationJobDeps) {}

  async run(): Promise<JobReport> {
    const startedAt = this.deps.now().toISOString();
    const lease = new Lease(this.deps.index, 'key-lifecycle', this.deps.config.leaseTtlMs, this.deps.now);
    if (!(await lease.acquire())) {
      return this.report(startedAt, { remaining: 0, capped: false }, undefined, 'another run holds the lease');
    }
    try {
      const activeId = await ensureBootstrapped(this.deps.states, this.deps.vault, this.deps.defaultKeyId, this.deps.now());
      await this.refreshAll();
      this.bucketDefaults = await new Buckets(this.deps.index, this.deps.now).defaultKeys();
      for (const keyId of await this.keysToRotate(activeId)) await this.rotateIfDue(keyId, keyId === activeId);
      const active = await this.deps.states.get(activeId);
      if (!active) throw new KmsNotFoundError(`the active key ${activeId} has no key-state record`);
      const before = await this.countSources(active);
      await this.rewrapAll(active, before, lease);
      await this.rewrapSecrets(active);
      const after = await this.countSources((await this.deps.states.get(activeId)) ?? active, this.rewrapped > 0);
      await this.retire(after);
      let remaining = 0;
      let capped = false;
      for (const c of after.values()) {
        remaining += c.needing;
        capped ||= c.capped;
      }
      return this.report(startedAt, { remaining, capped }, activeId);
    } finally {
      await lease.release();
    }
  }

  private report(startedAt: string, left: { remaining: number; capped: boolean }, activeKeyId?: string, skipped?: string): JobReport {
    return {
      startedAt,
      finishedAt: this.deps.now().toISOString(),
      ...(skipped === undefined ? {} : { skipped }),
      ...(activeKeyId === undefined ? {} : { activeKeyId }),
      rotated: [...this.rotated],
      rewrapped: this.rewrapped,
      remaining: left.remaining,
      remainingCapped: left.capped,
      errors: this.errors,
      sealedSecretsRewrapped: this.secretsRewrapped,
      retired: [...this.retired],
      notes: [...this.notes],
    };
  }

  /**
   * A note for the run's report, logged at the level it deserves (core/logger.ts): `info` for what is routine (a
   * key waiting out its grace), `warn` for what the job worked around or will retry, `error` for what stays stuck
   * until an operator acts.
   */
  private note(level: keyof Logger, text: string): void {
    if (this.notes.length < MAX_NOTES) this.notes.push(text);
    this.deps.logger?.[level]('key lifecycle', { note: text });
  }

  private fail(what: string, e: unknown): void {
    if (!(e instanceof StoreError)) throw e; // unexpected: abort the run, the next one resumes
    this.errors++;
    // The next run retries; a failure that persists shows in every report's error count.
    this.note('warn', `${what}: ${e.code}: ${e.message}`);
  }

  /** Records the KMS state and current material of every CMK the store knows. */
  private async refreshAll(): Promise<void> {
    for (const rec of await this.deps.states.list()) {
      if (rec.kmsState === 'Deleted') continue;
      let kmsState: KeyStateRecord['kmsState'];
      let material: string | undefined;
      let deletionDate: Date | undefined;
      try {
        const d = await this.deps.vault.describeKey(rec.keyId);
        kmsState = d.state;
        material = d.currentKeyMaterialId;
        deletionDate = d.deletionDate;
      } catch (e) {
        if (!(e instanceof KmsNotFoundError)) {
          this.fail(`describe ${rec.keyId}`, e);
          continue;
        }
        kmsState = 'Deleted';
      }
      const now = this.deps.now();
      await this.deps.states.update(rec.keyId, (cur) => {
        const materialChanged = material !== undefined && material !== cur.currentMaterialId;
        if (cur.kmsState === kmsState && !materialChanged && cur.deletionDate?.getTime() === deletionDate?.getTime()) return undefined;
        const { deletionDate: _old, ...rest } = cur;
        return {
          ...rest,
          kmsState,
          ...(deletionDate === undefined ? {} : { deletionDate }),
          ...(material === undefined ? {} : { currentMaterialId: material }),
          // New material we did not make ourselves: KMS rotated automatically, or an operator did.
          ...(materialChanged && cur.currentMaterialId !== undefined ? { rotatedAt: now } : {}),
        };
      });
    }
  }

  /**
   * The CMKs objects stay under: the active one, the ones buckets name as their default, standby CMKs holding objects
   * (only chosen objects land on a standby CMK) and retiring CMKs holding chosen objects (rollover never moves those,
   * so they would otherwise sit on one material for good). Each is rotated like the active one.
   */
  private async keysToRotate(activeId: string): Promise<string[]> {
    const out = new Set([activeId]);
    for (const rec of await this.deps.states.list()) {
      if (out.has(rec.keyId) || rec.kmsState === 'Deleted') continue;
      // A retired CMK a bucket still names is on its way to deletion (retire() reports the bucket), not rotated.
      if (rec.role !== 'retired' && this.bucketDefaults.has(rec.keyId)) out.add(rec.keyId);
      if (rec.role === 'standby' && (rec.objectCount ?? 0) > 0) out.add(rec.keyId);
      if (rec.role === 'retiring' && (await anyChosenObjectUnderKey(this.deps.index, rec.keyId, this.deps.config.countCap))) out.add(rec.keyId);
    }
    return [...out];
  }

  /** Step 1: automatic rotation stays on with our period; when the period passed anyway, rotate now. */
  private async rotateIfDue(activeId: string, isActive = true): Promise<void> {
    const rec = await this.deps.states.get(activeId);
    if (!rec || rec.kmsState !== 'Enabled') {
      if (rec) this.note('error', `${isActive ? 'active' : 'chosen'} key ${activeId} is ${rec.kmsState ?? 'unknown'}: rotation and rewrap paused until it is enabled`);
      return;
    }
    const period = this.deps.config.rotationPeriodDays;
    try {
      const status = await this.deps.admin.getKeyRotationStatus(activeId);
      if (!status.enabled || status.rotationPeriodDays !== period) await this.deps.admin.enableKeyRotation(activeId, period);
    } catch (e) {
      this.fail(`enable rotation on ${activeId}`, e);
    }
    const last = rec.rotatedAt ?? rec.createdAt;
    if (this.deps.now().getTime() - last.getTime() < period * DAY_MS) return;
    try {
      await this.deps.admin.rotateKeyOnDemand(activeId);
      const d = await this.deps.vault.describeKey(activeId);
      const now = this.deps.now();
      await this.deps.states.update(activeId, (cur) => ({
        ...cur,
        rotatedAt: now,
        ...(d.currentKeyMaterialId === undefined ? {} : { currentMaterialId: d.currentKeyMaterialId }),
      }));
      this.rotated.push(activeId);
    } catch (e) {
      this.fail(`rotate ${activeId}`, e);
    }
  }

  /**
   * Which objects under `source` must be rewrapped. An object whose CMK was chosen (by its request or its bucket's
   * default encryption) stays under that CMK: only when off its current material. Any other object: under the active
   * CMK, when off its current material; under any other CMK, always (it moves to the active one).
   */
  private needs(source: KeyStateRecord, active: KeyStateRecord): (item: IndexItem) => boolean {
    return (item) => {
      if (isChosenUnder(item, source)) return source.currentMaterialId !== undefined && !isCurrent(item, source.keyId, source.currentMaterialId);
      return source.keyId !== active.keyId || !isCurrent(item, active.keyId, active.currentMaterialId);
    };
  }

  /** Counts every CMK's objects that could need work (retired and deleted CMKs are checked cheaply in retire()). */
  private async countSources(active: KeyStateRecord, recountActive = false): Promise<Map<string, Count>> {
    const out = new Map<string, Count>();
    const now = this.deps.now();
    for (const rec of await this.deps.states.list()) {
      if (rec.role === 'retired' || rec.kmsState === 'Deleted') continue;
      // The active CMK after a clean pass on its current material holds only current objects: no walk needed,
      // except to refresh its object count (after objects moved in, or hourly for new PUTs).
      const countFresh = !recountActive && rec.countedAt !== undefined && now.getTime() - rec.countedAt.getTime() < RECOUNT_MS;
      // Likewise a standby CMK (only chosen objects land there) clean through its current material.
      const walkable = rec.keyId === active.keyId || rec.role === 'standby';
      if (walkable && rec.currentMaterialId !== undefined && rec.rewrap.cleanThrough === rec.currentMaterialId && countFresh) {
        out.set(rec.keyId, { total: rec.objectCount ?? 0, needing: 0, chosen: 0, capped: false });
        continue;
      }
      const c = await this.count(rec.keyId, this.needs(rec, active));
      out.set(rec.keyId, c);
      await this.deps.states.update(rec.keyId, (cur) => ({
        ...cur,
        objectCount: c.total,
        countedAt: now,
        ...(c.capped ? { countCapped: true } : {}),
        rewrap: { ...cur.rewrap, remaining: c.needing },
      }));
    }
    return out;
  }

  private async count(keyId: string, needs: (item: IndexItem) => boolean): Promise<Count> {
    let total = 0;
    let needing = 0;
    let chosen = 0;
    for await (const page of objectsUnderKey(this.deps.index, keyId, { pageSize: 1000 }).pages()) {
      for (const item of page.items) {
        total++;
        if (needs(item)) needing++;
        if (item.attrs['keyChosen'] === true && item.attrs['keyId'] === keyId) chosen++;
      }
      if (page.lastKey !== undefined && total >= this.deps.config.countCap) return { total, needing, chosen, capped: true };
    }
    return { total, needing, chosen, capped: false };
  }

  /** Step 2: retiring CMKs first (they block retirement), then old material of the active one. */
  private async rewrapAll(active: KeyStateRecord, counts: Map<string, Count>, lease: Lease): Promise<void> {
    if (active.kmsState !== 'Enabled') return;
    const sources = (await this.deps.states.list())
      .filter((r) => (counts.get(r.keyId)?.needing ?? 0) > 0)
      .sort((a, b) => Number(a.keyId === active.keyId) - Number(b.keyId === active.keyId));
    let budget = this.deps.config.batchSize;
    let reads = this.deps.config.batchSize * 20;
    for (const source of sources) {
      if (budget <= 0 || reads <= 0) break;
      const outcome = await this.pass(source, active, lease, { budget, reads });
      budget = outcome.budget;
      reads = outcome.reads;
      if (outcome.leaseLost) return;
    }
    // The active CMK (or a standby one) with nothing off its current material is clean: later runs skip its walk.
    for (const candidate of await this.deps.states.list()) {
      if (candidate.keyId !== active.keyId && candidate.role !== 'standby') continue;
      const rec = await this.deps.states.get(candidate.keyId);
      if (!rec || rec.currentMaterialId === undefined || rec.rewrap.cursor !== undefined) continue;
      const known = counts.get(rec.keyId);
      if (!known) continue;
      const current = (await this.deps.states.get(active.keyId)) ?? active;
      const c = known.needing === 0 && !known.capped ? known : await this.count(rec.keyId, this.needs(rec, current));
      if (c.needing > 0 || c.capped) continue;
      const material = rec.currentMaterialId;
      await this.deps.states.update(rec.keyId, (cur) =>
        cur.rewrap.cleanThrough === material ? undefined : { ...cur, rewrap: { ...cur.rewrap, cleanThrough: material } },
      );
    }
  }

  /** Walks one CMK's objects from where the last run stopped, rewrapping those that need it. */
  private async pass(
    source: KeyStateRecord,
    active: KeyStateRecord,
    lease: Lease,
    limits: { budget: number; reads: number },
  ): Promise<{ budget: number; reads: number; leaseLost: boolean }> {
    let { budget, reads } = limits;
    // Chosen objects go to the source's own current material: a rotation of either CMK restarts the pass.
    const ownMaterial = source.keyId === active.keyId ? '' : `|${source.currentMaterialId ?? ''}`;
    const destination = `${active.keyId}#${active.currentMaterialId ?? ''}${ownMaterial}`;
    // A rotation or rollover since the pass began changes what "current" means: start over.
    const resuming = source.rewrap.passMaterial === destination && source.rewrap.cursor !== undefined;
    let cursor = resuming ? source.rewrap.cursor : undefined;
    if (!resuming) {
      await this.deps.states.update(source.keyId, (cur) => {
        const { cursor: _c, cleanThrough: _k, ...rest } = cur.rewrap;
        return { ...cur, rewrap: { ...rest, passMaterial: destination, rewrapped: 0, errors: 0 } };
      });
    }
    const needs = this.needs(source, active);
    const objects = objectsUnderKey(this.deps.index, source.keyId, {
      startAfter: cursor,
      pageSize: () => Math.min(this.deps.config.pageSize, budget, reads),
    });
    for await (const page of objects.pages()) {
      let moved = 0;
      let failed = 0;
      for (const stale of page.items) {
        reads--;
        if (!needs(stale)) continue;
        const item = await freshObjectItem(this.deps.index, stale);
        if (!item || item.attrs['keyId'] !== stale.attrs['keyId'] || !needs(item)) continue;
        budget--;
        // A chosen CMK is the tenant's choice: rewrap within it, never onto the active CMK.
        const destinationKeyId = isChosenUnder(item, source) ? source.keyId : active.keyId;
        try {
          if ((await rewrapObject({ ...this.deps, now: this.deps.now }, item, destinationKeyId)) === 'rewrapped') moved++;
        } catch (e) {
          failed++;
          const bucket = item.attrs['bucket'];
          this.fail(`rewrap ${typeof bucket === 'string' ? bucket : '?'}/${item.sk}`, e);
        }
      }
      this.rewrapped += moved;
      cursor = page.lastKey;
      await this.deps.states.update(source.keyId, (cur) => {
        const { cursor: _c, ...rest } = cur.rewrap;
        return {
          ...cur,
          rewrap: {
            ...rest,
            ...(cursor === undefined ? {} : { cursor }),
            passMaterial: destination,
            rewrapped: cur.rewrap.rewrapped + moved,
            errors: cur.rewrap.errors + failed,
          },
        };
      });
      if (!(await lease.renew())) {
        this.note('warn', 'the lease was lost (the run took longer than its lease); stopping, the next run resumes');
        return { budget, reads, leaseLost: true };
      }
      if (budget <= 0 || reads <= 0) break; // the rest waits for the next run, from `cursor`
    }
    return { budget, reads, leaseLost: false };
  }

  private async rewrapSecrets(active: KeyStateRecord): Promise<void> {
    if (!this.deps.secrets || active.kmsState !== 'Enabled') return;
    const r = await this.deps.secrets.rewrapSecrets(active.keyId, active.currentMaterialId);
    this.secretsRewrapped += r.rewrapped;
    if (r.errors > 0) {
      this.errors += r.errors;
      this.note('warn', `${r.errors} access-key secret(s) could not be rewrapped`);
    }
  }

  /**
   * Step 3: a retiring CMK that wraps nothing becomes retired and its deletion is scheduled, never sooner. Data under a
   * retired CMK (a very late write) revives it; a bucket's default encryption alone never does: any bucket admin can
   * write one, and none may undo a deletion the lifecycle scheduled.
   */
  private async retire(counts: Map<string, Count>): Promise<void> {
    const now = this.deps.now();
    const heldByChoice: string[] = [];
    let chosenTotal = 0;
    for (const rec of await this.deps.states.list()) {
      if (rec.role !== 'retiring' && rec.role !== 'retired') continue;
      if (rec.kmsState === 'Deleted') continue;
      const objects = (await anyObjectUnderKey(this.deps.index, rec.keyId)) ? 1 : 0;
      const secrets = (await this.deps.secrets?.countSealedUnder(rec.keyId)) ?? 0;
      const namedBy = this.bucketDefaults.get(rec.keyId);
      const holdsData = objects > 0 || secrets > 0 || (counts.get(rec.keyId)?.total ?? 0) > 0;
      if (rec.role === 'retiring') {
        const chosen = counts.get(rec.keyId)?.chosen ?? 0;
        if (chosen > 0) {
          chosenTotal += chosen;
          heldByChoice.push(`${rec.keyId} (${chosen}${counts.get(rec.keyId)?.capped ? '+' : ''})`);
        }
        if (namedBy) this.note('warn', `${rec.keyId} is not retired: it is the default encryption key of bucket(s) ${namedBy.join(', ')}`);
        if (holdsData || namedBy) continue;
        const since = rec.retiringSince ?? rec.createdAt;
        const until = since.getTime() + this.deps.config.retireGraceMs;
        if (now.getTime() < until) {
          this.note('info', `${rec.keyId} wraps nothing; retires after ${new Date(until).toISOString()} (grace for in-flight writes)`);
          continue;
        }
        // Claim first (conditional on the version we read); scheduling below is idempotent and resumable.
        await this.deps.states.update(rec.keyId, (cur) => (cur.role === 'retiring' ? { ...cur, role: 'retired', retiredAt: now } : undefined));
        await this.scheduleDeletion(rec.keyId);
        continue;
      }
      // Retired.
      if (holdsData) {
        await this.revive(rec);
        continue;
      }
      if (namedBy) {
        // Written after the key retired: by a bucket admin (PutBucketEncryption refuses a retired key, so only a
        // tampered or legacy row gets here) or a default set long ago. The deletion stands; the buckets' writes fail.
        this.note(
          'error',
          `${rec.keyId} is retired (deletion ${rec.deletionDate ? `scheduled for ${rec.deletionDate.toISOString()}` : 'being scheduled'}) but is the default encryption key of bucket(s) ${namedBy.join(', ')}: ` +
            `their writes that name no key now fail. Point them at another key (aws s3api put-bucket-encryption, or delete-bucket-encryption for the active CMK). ` +
            `To keep the key instead: sealstore keys cancel-deletion ${rec.keyId}, sealstore keys enable ${rec.keyId}.`,
        );
      }
      if (rec.kmsState !== 'PendingDeletion') await this.scheduleDeletion(rec.keyId);
    }
    if (chosenTotal > 0) {
      this.note(
        'warn',
        `${chosenTotal} chosen object(s) keep CMK(s) retiring: ${heldByChoice.join(', ')}. Their request or bucket named that CMK, so rollover leaves them ` +
          `under it (rewrapped within it on rotation); the CMK retires once they are deleted or copied under another key.`,
      );
    }
  }

  private async scheduleDeletion(keyId: string): Promise<void> {
    let deletionDate: Date;
    try {
      const d = await this.deps.vault.describeKey(keyId);
      deletionDate = d.state === 'PendingDeletion' && d.deletionDate ? d.deletionDate : await this.deps.admin.scheduleKeyDeletion(keyId, this.deps.config.pendingWindowDays);
    } catch (e) {
      this.fail(`schedule deletion of ${keyId}`, e);
      return;
    }
    await this.deps.states.update(keyId, (cur) => ({ ...cur, kmsState: 'PendingDeletion', deletionDate }));
    this.retired.push({ keyId, deletionDate: deletionDate.toISOString() });
    this.deps.logger?.info('CMK retired; deletion scheduled', { keyId, deletionDate: deletionDate.toISOString() });
  }

  /** Safety net: something appeared under a retired CMK (a very late write). Keep the key and move it off again. */
  private async revive(rec: KeyStateRecord): Promise<void> {
    try {
      if (rec.kmsState === 'PendingDeletion') {
        await this.deps.admin.cancelKeyDeletion(rec.keyId);
        await this.deps.admin.enableKey(rec.keyId);
      }
    } catch (e) {
      this.fail(`cancel deletion of ${rec.keyId}`, e);
      return;
    }
    const now = this.deps.now();
    await this.deps.states.update(rec.keyId, (cur) => {
      const { deletionDate: _d, retiredAt: _r, ...rest } = cur;
      return { ...rest, role: 'retiring', kmsState: 'Enabled', retiringSince: now };
    });
    this.note('warn', `${rec.keyId} was retired but still wraps data: deletion cancelled, back to retiring`);
  }
}

/** Whether an object's CMK was chosen for it (request or bucket default) and it sits under `source`, that CMK. */
function isChosenUnder(item: IndexItem, source: KeyStateRecord): boolean {
  return item.attrs['keyChosen'] === true && item.attrs['keyId'] === source.keyId;
}
