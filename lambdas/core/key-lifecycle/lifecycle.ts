// The key lifecycle's front: what the admin API and the rotation job call. Operator actions (create, adopt,
// rotate, rollover, disable/enable, deletion) and one scheduled run, all recorded in the key-state records.
import { ENV } from '../deployment-names';
import {
  AccessDeniedError,
  InvalidArgumentError,
  InvalidRequestError,
  KmsChosenKeyDisabledError,
  KmsChosenKeyInvalidStateError,
  KmsNotFoundError,
} from '../errors';
import { Buckets } from '../buckets';
import type { ChosenKeys, ChosenKeyUse } from '../write-keys';
import type { Logger } from '../logger';
import type { BlobStore, KeyAdmin, KeyDescription, KeyState, KeyVault, RecordIndex } from '../ports';
import { countObjectsUnderKey } from '../objects-by-key';
import { ensureBootstrapped, IndexedActiveKeySource } from './active-key';
import { DEFAULT_LIFECYCLE_CONFIG, ON_DEMAND_COUNT_CAP, validateLifecycleConfig, type LifecycleConfig } from './config';
import { deletionImpactPage, deletionImpactTotals, type DeletionImpactPage, type DeletionImpactTotals } from './deletion-impact';
import { KeyStateStore, type KeyStateRecord } from './key-state';
import type { JobReport } from './report';
import type { RewrapHooks } from './rewrap';
import { RotationJob, type SealedSecrets } from './rotation-job';

export interface KeyLifecycleDeps {
  readonly vault: KeyVault;
  readonly admin: KeyAdmin;
  readonly blobs: BlobStore;
  readonly index: RecordIndex;
  /** The CMK that becomes active on first start. */
  readonly defaultKeyId: string;
  readonly config?: Partial<LifecycleConfig>;
  readonly now?: () => Date;
  readonly logger?: Logger;
  readonly hooks?: RewrapHooks;
  /** Secrets sealed under CMKs (access-key secrets, the index key): the job moves them off old keys and material too. */
  readonly sealedSecrets?: SealedSecrets;
}

/** A CMK as `keys ls` shows it: the stored record with the KMS state read just now. */
export interface KeyView {
  readonly keyId: string;
  readonly alias?: string;
  readonly role: KeyStateRecord['role'];
  readonly kmsState?: string;
  readonly createdAt: string;
  readonly activatedAt?: string;
  readonly rotatedAt?: string;
  readonly retiringSince?: string;
  readonly retiredAt?: string;
  readonly deletionDate?: string;
  readonly rotationPeriodDays?: number;
  readonly currentMaterialId?: string;
  readonly objectCount?: number;
  readonly countCapped?: boolean;
  readonly countedAt?: string;
  /** True when the lifecycle job has not counted this CMK yet and `keys ls` counted it just now (capped lower). */
  readonly countedOnDemand?: boolean;
  readonly rewrap: { readonly rewrapped: number; readonly remaining?: number; readonly errors: number; readonly inProgress: boolean };
}

const iso = (d: Date | undefined) => d?.toISOString();

function view(r: KeyStateRecord & { countedOnDemand?: true }, live?: KeyDescription | 'Deleted'): KeyView {
  const state = live === 'Deleted' ? 'Deleted' : live?.state ?? r.kmsState;
  const deletion = live === 'Deleted' ? r.deletionDate : live ? live.deletionDate : r.deletionDate;
  const fields: Record<string, unknown> = {
    keyId: r.keyId,
    alias: r.alias,
    role: r.role,
    kmsState: state,
    createdAt: r.createdAt.toISOString(),
    activatedAt: iso(r.activatedAt),
    rotatedAt: iso(r.rotatedAt),
    retiringSince: iso(r.retiringSince),
    retiredAt: iso(r.retiredAt),
    deletionDate: iso(deletion),
    rotationPeriodDays: r.rotationPeriodDays,
    currentMaterialId: live && live !== 'Deleted' ? live.currentKeyMaterialId ?? r.currentMaterialId : r.currentMaterialId,
    objectCount: r.objectCount,
    countCapped: r.countCapped,
    countedAt: iso(r.countedAt),
    countedOnDemand: r.countedOnDemand,
    rewrap: { rewrapped: r.rewrap.rewrapped, remaining: r.rewrap.remaining, errors: r.rewrap.errors, inProgress: r.rewrap.cursor !== undefined },
  };
  for (const k of Object.keys(fields)) if (fields[k] === undefined) delete fields[k];
  return fields as unknown as KeyView;
}

export class KeyLifecycle {
  readonly config: LifecycleConfig;
  readonly states: KeyStateStore;
  readonly activeKeys: IndexedActiveKeySource;
  /** CMKs a request or a bucket's default encryption names for new objects (ObjectService's chosenKeys). */
  readonly chosenKeys: ChosenKeys;
  private readonly now: () => Date;
  /** Key references a write named, resolved: a PUT naming a CMK costs no KMS or index call while cached. */
  private readonly chosenCache = new Map<string, ChosenKeyFacts>();

  constructor(private readonly deps: KeyLifecycleDeps) {
    this.config = validateLifecycleConfig({ ...DEFAULT_LIFECYCLE_CONFIG, ...deps.config });
    this.now = deps.now ?? (() => new Date());
    this.states = new KeyStateStore(deps.index);
    this.activeKeys = new IndexedActiveKeySource(this.states, deps.vault, deps.defaultKeyId, this.config.activeKeyCacheMs, this.now);
    this.chosenKeys = { resolve: (ref, use) => this.resolveChosen(ref, use) };
  }

  /**
   * A CMK a client named for its objects (the request's key-id header or its bucket's default encryption): resolved
   * from any form S3 accepts (key id, key ARN, alias name, alias ARN) to its ARN, refused unless the store trusts
   * it and it can take new objects, and recorded as a known key, so the job counts, rewraps and keeps it like any other.
   */
  private async resolveChosen(ref: string, use: ChosenKeyUse): Promise<string> {
    const at = this.now().getTime();
    const cached = this.chosenCache.get(ref);
    // PutBucketEncryption always reads afresh: a bucket admin must never pin a key the lifecycle just retired.
    const facts = cached && cached.until > at && use !== 'set-bucket-default' ? cached : await this.chosenFacts(ref, at);
    refuseUnusable(facts, ref, use);
    return facts.keyId;
  }

  /** What resolveChosen decides on: the key's ARN, its role to the store and its KMS state, read now (and cached). */
  private async chosenFacts(ref: string, at: number): Promise<ChosenKeyFacts> {
    let keyId: string;
    try {
      keyId = await this.deps.admin.resolveKeyId(ref);
    } catch (e) {
      if (!(e instanceof KmsNotFoundError)) throw e;
      throw new KmsNotFoundError(
        `Invalid keyId ${ref}: no such CMK (x-amz-server-side-encryption-aws-kms-key-id or the bucket's default encryption). ` +
          `Name an existing key by key id, key ARN, alias/<name> or alias ARN (sealstore keys ls lists them).`,
      );
    }
    if (this.deps.vault.trusts && !this.deps.vault.trusts(keyId)) {
      throw new AccessDeniedError(untrustedMessage(keyId, 'seal objects under'), { KeyId: keyId });
    }
    await this.bootstrap();
    const d = await this.deps.vault.describeKey(keyId);
    const rec = (await this.states.get(keyId)) ?? (await this.record(d, 'standby'));
    const facts: ChosenKeyFacts = {
      keyId,
      role: rec.role,
      kmsState: d.state,
      until: at + this.config.activeKeyCacheMs,
      ...(d.deletionDate === undefined ? {} : { deletionDate: d.deletionDate }),
    };
    this.chosenCache.set(ref, facts);
    return facts;
  }

  /** One scheduled run: rotation, a rewrap batch, retirement. Safe to call concurrently. */
  async runJob(): Promise<JobReport> {
    const report = await new RotationJob({
      ...this.deps,
      states: this.states,
      config: this.config,
      now: this.now,
      ...(this.deps.sealedSecrets ? { secrets: this.deps.sealedSecrets } : {}),
    }).run();
    this.activeKeys.invalidate();
    return report;
  }

  async list(): Promise<KeyView[]> {
    await this.bootstrap();
    const out: KeyView[] = [];
    for (const r of await this.states.list()) {
      let live: KeyDescription | 'Deleted' | undefined;
      try {
        live = r.kmsState === 'Deleted' ? 'Deleted' : await this.deps.vault.describeKey(r.keyId);
      } catch (e) {
        live = e instanceof KmsNotFoundError ? 'Deleted' : undefined;
      }
      out.push(view(await this.withCount(r.alias === undefined ? await this.withAlias(r, live) : r), live));
    }
    const order = { active: 0, retiring: 1, standby: 2, retired: 3 };
    return out.sort((a, b) => order[a.role] - order[b.role] || a.createdAt.localeCompare(b.createdAt));
  }

  /** A new CMK (embedded: in the local vault; AWS: a KMS key), known to the store as standby. */
  async create(options: { alias?: string; description?: string }): Promise<KeyView> {
    await this.bootstrap();
    const alias = options.alias === undefined ? undefined : normalizeAlias(options.alias);
    const d = await this.deps.admin.createKey({
      ...(alias === undefined ? {} : { alias }),
      description: options.description ?? 'sealstore CMK',
    });
    return view(await this.record(d, 'standby'), d);
  }

  /** Makes an existing CMK known to the store (standby); returns the existing record if it already is. */
  async adopt(ref: string): Promise<KeyView> {
    await this.bootstrap();
    const keyId = await this.resolve(ref);
    this.refuseUntrusted(keyId, 'adopt');
    const d = await this.deps.vault.describeKey(keyId);
    return view(await this.record(d, 'standby'), d);
  }

  /** New key material now (default: the active CMK); the job then rewraps off the old material. */
  async rotate(ref?: string): Promise<KeyView> {
    const keyId = ref === undefined ? await this.bootstrap() : await this.known(ref);
    await this.deps.admin.rotateKeyOnDemand(keyId);
    const d = await this.deps.vault.describeKey(keyId);
    const now = this.now();
    const rec = await this.states.update(keyId, (cur) => ({
      ...cur,
      rotatedAt: now,
      kmsState: d.state,
      ...(d.currentKeyMaterialId === undefined ? {} : { currentMaterialId: d.currentKeyMaterialId }),
    }));
    return view(rec, d);
  }

  /** Makes `ref` the active CMK; the previous one becomes retiring and the job rewraps away from it. */
  async rollover(ref: string): Promise<{ from: KeyView; to: KeyView }> {
    const fromId = await this.bootstrap();
    const toId = await this.resolve(ref);
    this.refuseUntrusted(toId, 'roll over to');
    const d = await this.deps.vault.describeKey(toId);
    if (d.state !== 'Enabled') {
      throw new InvalidRequestError(`Cannot roll over to ${toId}: it is ${d.state}. Enable it first (sealstore keys enable ${ref}).`);
    }
    if (toId === fromId) throw new InvalidRequestError(`${toId} is already the active key.`);
    await this.record(d, 'standby');
    const from = await this.states.get(fromId);
    const to = await this.states.get(toId);
    if (!from || !to) throw new InvalidRequestError('key-state records are missing; retry');
    await this.states.switchActive(from, { ...to, kmsState: d.state, ...(d.currentKeyMaterialId ? { currentMaterialId: d.currentKeyMaterialId } : {}) }, this.now());
    this.activeKeys.invalidate();
    return { from: view((await this.states.get(fromId)) ?? from), to: view((await this.states.get(toId)) ?? to, d) };
  }

  async disable(ref: string): Promise<KeyView> {
    const keyId = await this.known(ref);
    await this.deps.admin.disableKey(keyId);
    return this.refreshed(keyId);
  }

  async enable(ref: string): Promise<KeyView> {
    const keyId = await this.known(ref);
    await this.deps.admin.enableKey(keyId);
    return this.refreshed(keyId);
  }

  /**
   * Schedules deletion by hand. Refused for the active CMK, and for a CMK that still wraps objects unless
   * `force` (deleting it crypto-shreds them); either way the answer says how many objects and bytes that is.
   */
  async scheduleDeletion(ref: string, options: { days?: number; force?: boolean } = {}): Promise<ScheduledDeletion> {
    const keyId = await this.known(ref);
    const days = options.days ?? this.config.pendingWindowDays;
    if (!Number.isInteger(days) || days < 7 || days > 30) throw new InvalidArgumentError(`--days must be 7 to 30, got ${days}`);
    const rec = await this.states.get(keyId);
    if (rec?.role === 'active') throw new InvalidRequestError(`${keyId} is the active key; roll over to another key first.`);
    const impact = await deletionImpactTotals(this.deps.index, keyId, this.config.countCap);
    if (impact.objects > 0 && !options.force) {
      const figure = `${impact.capped ? 'at least ' : ''}${impact.objects} object(s), ${impact.bytes} bytes`;
      throw new InvalidRequestError(
        `${keyId} still wraps ${figure}; deleting it would destroy them. ` +
          `List them with sealstore keys schedule-deletion ${ref} --dry-run. Roll over and rewrap first, or pass --force.`,
      );
    }
    const buckets = (await new Buckets(this.deps.index, this.now).defaultKeys()).get(keyId);
    if (buckets && !options.force) {
      throw new InvalidRequestError(
        `${keyId} is the default encryption key of bucket(s) ${buckets.join(', ')}; new objects there would fail. ` +
          `Change or delete their default encryption first (PutBucketEncryption / DeleteBucketEncryption), or pass --force.`,
      );
    }
    const deletionDate = await this.deps.admin.scheduleKeyDeletion(keyId, days);
    await this.states.update(keyId, (cur) => ({ ...cur, kmsState: 'PendingDeletion', deletionDate }));
    return { key: await this.refreshed(keyId), impact };
  }

  /**
   * The dry run of scheduleDeletion: one page of the objects that deleting the CMK would make unreadable (every
   * object whose data key it wraps), and on the first page the uploads, secrets and bucket defaults that need it.
   * Nothing is scheduled or changed.
   */
  async deletionImpact(ref: string, options: { cursor?: string; limit?: number } = {}): Promise<DeletionImpactPage> {
    const keyId = await this.known(ref);
    const secrets = this.deps.sealedSecrets;
    return deletionImpactPage({ index: this.deps.index, now: this.now, ...(secrets ? { countSealedSecrets: (k: string) => secrets.countSealedUnder(k) } : {}) }, keyId, options);
  }

  /** Cancels a pending deletion. As in KMS the key comes back Disabled; a retired key goes back to standby. */
  async cancelDeletion(ref: string): Promise<KeyView> {
    const keyId = await this.known(ref);
    await this.deps.admin.cancelKeyDeletion(keyId);
    await this.states.update(keyId, (cur) => {
      const { deletionDate: _d, ...rest } = cur;
      return { ...rest, role: cur.role === 'retired' ? 'standby' : cur.role };
    });
    return this.refreshed(keyId);
  }

  /** Accepts an alias (with or without alias/), a key id or an ARN. */
  async resolve(ref: string): Promise<string> {
    if (ref.trim() === '') throw new InvalidArgumentError('name a key: an alias, key id or ARN');
    const looksLikeAlias = !ref.startsWith('arn:') && !ref.startsWith('alias/') && !/^[0-9a-f-]{36}$/.test(ref);
    return this.deps.admin.resolveKeyId(looksLikeAlias ? `alias/${ref}` : ref);
  }

  private async bootstrap(): Promise<string> {
    return ensureBootstrapped(this.states, this.deps.vault, this.deps.defaultKeyId, this.now());
  }

  /** Resolves and makes sure the store has a record of the key (adopting it as standby if needed). */
  private async known(ref: string): Promise<string> {
    await this.bootstrap();
    const keyId = await this.resolve(ref);
    if (!(await this.states.get(keyId))) await this.record(await this.deps.vault.describeKey(keyId), 'standby');
    return keyId;
  }

  /**
   * A CMK the vault would refuse to decrypt under must never wrap anything: every object written under it would
   * be unreadable the moment it was acknowledged.
   */
  private refuseUntrusted(keyId: string, action: string): void {
    if (this.deps.vault.trusts && !this.deps.vault.trusts(keyId)) throw new InvalidRequestError(untrustedMessage(keyId, action));
  }

  /**
   * A record made without an alias (the first start records the configured CMK from DescribeKey, which names
   * none on KMS, and the rotation function may not list aliases) shows the CMK's alias as KMS has it now.
   */
  private async withAlias(r: KeyStateRecord, live: KeyDescription | 'Deleted' | undefined): Promise<KeyStateRecord> {
    if (live === 'Deleted') return r;
    const alias = live?.aliases?.[0] ?? (await this.aliasesOf(r.keyId))[0];
    return alias === undefined ? r : { ...r, alias };
  }

  /** The record with an object count: the job's last one, else one made now (not stored: the job owns the record). */
  private async withCount(r: KeyStateRecord): Promise<KeyStateRecord & { countedOnDemand?: true }> {
    if (r.objectCount !== undefined) return r;
    const { count, capped } = await countObjectsUnderKey(this.deps.index, r.keyId, Math.min(ON_DEMAND_COUNT_CAP, this.config.countCap));
    return { ...r, objectCount: count, countedAt: this.now(), countedOnDemand: true, ...(capped ? { countCapped: true } : {}) };
  }

  /** Aliases KMS names for a CMK; none when the vault cannot say (an alias is for display only). */
  private async aliasesOf(keyId: string): Promise<string[]> {
    if (!this.deps.admin.aliasesOf) return [];
    try {
      return await this.deps.admin.aliasesOf(keyId);
    } catch (e) {
      this.deps.logger?.warn('could not list the aliases of a CMK', { keyId, error: e instanceof Error ? e.message : String(e) });
      return [];
    }
  }

  private async record(d: KeyDescription, role: KeyStateRecord['role']): Promise<KeyStateRecord> {
    const alias = d.aliases?.[0] ?? (d.aliases === undefined ? (await this.aliasesOf(d.arn))[0] : undefined);
    await this.states.insert({
      keyId: d.arn,
      ...(alias === undefined ? {} : { alias }),
      role,
      kmsState: d.state,
      createdAt: d.createdAt,
      rotationPeriodDays: this.config.rotationPeriodDays,
      ...(d.currentKeyMaterialId === undefined ? {} : { currentMaterialId: d.currentKeyMaterialId }),
      rewrap: { rewrapped: 0, errors: 0 },
    });
    const rec = await this.states.get(d.arn);
    if (!rec) throw new KmsNotFoundError(`no key-state record for ${d.arn}`);
    return rec;
  }

  private async refreshed(keyId: string): Promise<KeyView> {
    let d: KeyDescription | 'Deleted';
    try {
      d = await this.deps.vault.describeKey(keyId);
    } catch (e) {
      if (!(e instanceof KmsNotFoundError)) throw e;
      d = 'Deleted';
    }
    const state = d === 'Deleted' ? 'Deleted' : d.state;
    const rec = await this.states.update(keyId, (cur) => (cur.kmsState === state ? undefined : { ...cur, kmsState: state }));
    return view(rec, d);
  }
}

/** A scheduled deletion: the key as it is now, and what its deletion destroys (objects, bytes) when the window ends. */
export interface ScheduledDeletion {
  readonly key: KeyView;
  readonly impact: DeletionImpactTotals;
}

/** A chosen CMK as resolveChosen last read it; cached per reference for `activeKeyCacheMs`. */
interface ChosenKeyFacts {
  readonly keyId: string;
  readonly role: KeyStateRecord['role'];
  readonly kmsState: KeyState;
  readonly deletionDate?: Date;
  readonly until: number;
}

/**
 * New objects only go under a CMK the store means to keep. A retiring or retired CMK is on its way out (the job moves
 * objects off it, then schedules its deletion): a request or a new bucket default naming it would either fail later
 * or, worse, hold it back from deletion on a bucket admin's say. The one exception: writes under a bucket default
 * set while the key was usable keep working while it is retiring (its chosen objects keep it, the job says so).
 */
function refuseUnusable(facts: ChosenKeyFacts, ref: string, use: ChosenKeyUse): void {
  const { keyId, role } = facts;
  const named = use === 'request' ? 'x-amz-server-side-encryption-aws-kms-key-id' : use === 'set-bucket-default' ? 'KMSMasterKeyID' : "the bucket's default encryption";
  const instead =
    use === 'bucket-default'
      ? 'Set another default (PutBucketEncryption naming the active CMK or a standby one: sealstore keys ls lists them) or remove it (DeleteBucketEncryption).'
      : 'Name the active CMK or a standby one instead (sealstore keys ls lists them), or none.';
  if (role === 'retired' || (role === 'retiring' && use !== 'bucket-default')) {
    const deletion = facts.deletionDate === undefined ? '' : ` (deletion scheduled for ${facts.deletionDate.toISOString()})`;
    throw new KmsChosenKeyInvalidStateError(
      `${keyId} (${named}: ${ref}) is ${role} in this store${deletion}: the store is moving objects off it to delete it, so nothing new may be sealed under it. ` +
        `${instead} An operator who means to keep the key makes it active again: ${role === 'retired' ? `sealstore keys cancel-deletion ${keyId}, sealstore keys enable ${keyId}, then ` : ''}sealstore keys rollover --to ${keyId}.`,
      { KeyId: keyId },
    );
  }
  if (facts.kmsState === 'Enabled') return;
  if (facts.kmsState === 'Disabled') {
    throw new KmsChosenKeyDisabledError(`${keyId} (${named}: ${ref}) is disabled, so nothing can be sealed under it. ${instead} An operator can enable it: sealstore keys enable ${keyId}.`, {
      KeyId: keyId,
    });
  }
  throw new KmsChosenKeyInvalidStateError(`${keyId} (${named}: ${ref}) is ${facts.kmsState} in KMS, so nothing can be sealed under it. ${instead}`, { KeyId: keyId });
}

function untrustedMessage(keyId: string, action: string): string {
  return (
    `Cannot ${action} ${keyId}: it is not one of the CMKs this store trusts, so nothing written under it could be read back. ` +
    `Trust it first: deploy the stack with -c sealstore:additionalTrustedKeyArns=${keyId} (comma-separated, with any keys already listed), ` +
    `which adds it to the functions' ${ENV.trustedKeyIds} and IAM policies (add the KeyPolicyStatementsFor* output's statements to its key policy); ` +
    `for npm start --backend aws, add it to ${ENV.trustedKeyIds}. Then retry.`
  );
}

function normalizeAlias(alias: string): string {
  return alias.startsWith('alias/') ? alias : `alias/${alias}`;
}
