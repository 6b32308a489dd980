// Key-state metadata of every CMK the store uses, kept in the object index (DynamoDB or SQLite) with
// optimistic concurrency: every change is a conditional write on the record's version.
import { ConditionFailedError, InternalError } from '../errors';
import { walk } from '../index-walk';
import type { AttrValue, IndexItem, KeyState, RecordIndex } from '../ports';

/** Key-state records: one item per CMK, sort key = key ARN. */
export const KEYS_PK = 'KS';
/** The one pointer naming the active CMK; a single item so "exactly one active" is one conditional write. */
export const ACTIVE_PK = 'KS#ACTIVE';
export const ACTIVE_SK = 'active';

/**
 * What a CMK is to the store. standby: known but not in use (created or adopted, not yet rolled over to);
 * active: new objects wrap under it; retiring: rewrap away in progress; retired: nothing needs it, deletion
 * scheduled.
 */
export type KeyRole = 'standby' | 'active' | 'retiring' | 'retired';
const ROLES: readonly KeyRole[] = ['standby', 'active', 'retiring', 'retired'];

/** The KMS state last seen; 'Deleted' once KMS no longer knows the key (its pending window ran out). */
export type SeenKeyState = KeyState | 'Deleted';

/** Progress of the rewrap pass over one CMK's objects (the gsi1 partition K#<arn>). */
export interface RewrapProgress {
  /** Opaque gsi1 cursor: where the next run resumes. Absent when no pass is in progress. */
  readonly cursor?: string;
  /** Destination material when the pass started; a rotation mid-pass restarts it. */
  readonly passMaterial?: string;
  /** Objects rewrapped and errors in the current (or last) pass. */
  readonly rewrapped: number;
  readonly errors: number;
  /** Objects still needing rewrap at the last count (capped; see countCapped). */
  readonly remaining?: number;
  /** For the active CMK: a complete pass found nothing off this material, so no pass is needed until it changes. */
  readonly cleanThrough?: string;
}

export interface KeyStateRecord {
  /** Key ARN: the form KMS reports on every call, and the one object items record. */
  readonly keyId: string;
  readonly alias?: string;
  readonly role: KeyRole;
  readonly kmsState?: SeenKeyState;
  readonly createdAt: Date;
  readonly activatedAt?: Date;
  readonly rotatedAt?: Date;
  readonly retiringSince?: Date;
  readonly retiredAt?: Date;
  readonly deletionDate?: Date;
  readonly rotationPeriodDays?: number;
  readonly currentMaterialId?: string;
  /** Objects whose data key this CMK wraps, at the last count. */
  readonly objectCount?: number;
  /** True when the count stopped at the configured cap (the figure is a lower bound). */
  readonly countCapped?: boolean;
  readonly countedAt?: Date;
  readonly rewrap: RewrapProgress;
  /** Bumped on every write; the condition of the next one. */
  readonly version: number;
}

const date = (v: AttrValue | undefined): Date | undefined => (typeof v === 'number' ? new Date(v) : undefined);
const str = (v: AttrValue | undefined): string | undefined => (typeof v === 'string' ? v : undefined);
const num = (v: AttrValue | undefined): number | undefined => (typeof v === 'number' ? v : undefined);

/** Drops undefined values: index attributes are JSON-shaped and have no undefined. */
function compact(attrs: Record<string, AttrValue | undefined>): Record<string, AttrValue> {
  const out: Record<string, AttrValue> = {};
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined) out[k] = v;
  return out;
}

export function keyStateItem(r: KeyStateRecord): IndexItem {
  const t = (d: Date | undefined) => d?.getTime();
  return {
    pk: KEYS_PK,
    sk: r.keyId,
    attrs: compact({
      alias: r.alias,
      role: r.role,
      kmsState: r.kmsState,
      createdAt: r.createdAt.getTime(),
      activatedAt: t(r.activatedAt),
      rotatedAt: t(r.rotatedAt),
      retiringSince: t(r.retiringSince),
      retiredAt: t(r.retiredAt),
      deletionDate: t(r.deletionDate),
      rotationPeriodDays: r.rotationPeriodDays,
      currentMaterialId: r.currentMaterialId,
      objectCount: r.objectCount,
      countCapped: r.countCapped,
      countedAt: t(r.countedAt),
      rewrapCursor: r.rewrap.cursor,
      rewrapPassMaterial: r.rewrap.passMaterial,
      rewrapped: r.rewrap.rewrapped,
      rewrapErrors: r.rewrap.errors,
      rewrapRemaining: r.rewrap.remaining,
      cleanThrough: r.rewrap.cleanThrough,
      version: r.version,
    }),
  };
}

export function keyStateFromItem(item: IndexItem): KeyStateRecord {
  const a = item.attrs;
  const role = str(a['role']);
  const createdAt = date(a['createdAt']);
  const version = num(a['version']);
  if (!role || !ROLES.includes(role as KeyRole) || !createdAt || version === undefined) {
    throw new InternalError(`key-state record ${item.sk} is malformed`);
  }
  const optional = <K extends string, V>(k: K, v: V | undefined): { [P in K]?: V } => (v === undefined ? {} : ({ [k]: v } as { [P in K]?: V }));
  const rewrap: RewrapProgress = {
    rewrapped: num(a['rewrapped']) ?? 0,
    errors: num(a['rewrapErrors']) ?? 0,
    ...optional('cursor', str(a['rewrapCursor'])),
    ...optional('passMaterial', str(a['rewrapPassMaterial'])),
    ...optional('remaining', num(a['rewrapRemaining'])),
    ...optional('cleanThrough', str(a['cleanThrough'])),
  };
  return {
    keyId: item.sk,
    role: role as KeyRole,
    createdAt,
    rewrap,
    version,
    ...optional('alias', str(a['alias'])),
    ...optional('kmsState', str(a['kmsState']) as SeenKeyState | undefined),
    ...optional('activatedAt', date(a['activatedAt'])),
    ...optional('rotatedAt', date(a['rotatedAt'])),
    ...optional('retiringSince', date(a['retiringSince'])),
    ...optional('retiredAt', date(a['retiredAt'])),
    ...optional('deletionDate', date(a['deletionDate'])),
    ...optional('rotationPeriodDays', num(a['rotationPeriodDays'])),
    ...optional('currentMaterialId', str(a['currentMaterialId'])),
    ...optional('objectCount', num(a['objectCount'])),
    ...optional('countCapped', a['countCapped'] === true ? true : undefined),
    ...optional('countedAt', date(a['countedAt'])),
  };
}

/** A change to a record; returning undefined means "nothing to change". */
export type KeyStateChange = (current: KeyStateRecord) => KeyStateRecord | undefined;

const UPDATE_ATTEMPTS = 8;

/** Reads and conditionally writes key-state records and the active pointer. */
export class KeyStateStore {
  constructor(private readonly index: RecordIndex) {}

  async get(keyId: string): Promise<KeyStateRecord | undefined> {
    const item = await this.index.get(KEYS_PK, keyId);
    return item ? keyStateFromItem(item) : undefined;
  }

  async list(): Promise<KeyStateRecord[]> {
    return walk(this.index, KEYS_PK).all(keyStateFromItem);
  }

  async activeKeyId(): Promise<string | undefined> {
    const item = await this.index.get(ACTIVE_PK, ACTIVE_SK);
    return item ? str(item.attrs['keyId']) : undefined;
  }

  /** Creates a record; false if one already exists (another process got there first). */
  async insert(record: Omit<KeyStateRecord, 'version'>): Promise<boolean> {
    try {
      await this.index.put(keyStateItem({ ...record, version: 1 }), { kind: 'absent' });
      return true;
    } catch (e) {
      if (e instanceof ConditionFailedError) return false;
      throw e;
    }
  }

  /** Read-modify-write with the version as condition, retried when another writer got in between. */
  async update(keyId: string, change: KeyStateChange): Promise<KeyStateRecord> {
    for (let attempt = 0; attempt < UPDATE_ATTEMPTS; attempt++) {
      const current = await this.get(keyId);
      if (!current) throw new InternalError(`no key-state record for ${keyId}`);
      const next = change(current);
      if (!next) return current;
      const written = { ...next, version: current.version + 1 };
      try {
        await this.index.put(keyStateItem(written), { kind: 'equals', attr: 'version', value: current.version });
        return written;
      } catch (e) {
        if (!(e instanceof ConditionFailedError)) throw e;
      }
    }
    throw new InternalError(`key-state record ${keyId} kept changing under us; retry`);
  }

  /** Sets the pointer when there is none yet (first start). */
  async initActive(keyId: string): Promise<boolean> {
    try {
      await this.index.put({ pk: ACTIVE_PK, sk: ACTIVE_SK, attrs: { keyId } }, { kind: 'absent' });
      return true;
    } catch (e) {
      if (e instanceof ConditionFailedError) return false;
      throw e;
    }
  }

  /**
   * Rollover in one transaction: the pointer moves from `from` to `to` (failing if someone else moved it),
   * `from` becomes retiring and `to` active, both at the versions the caller read.
   */
  async switchActive(from: KeyStateRecord, to: KeyStateRecord, now: Date): Promise<void> {
    const retiring: KeyStateRecord = { ...from, role: 'retiring', retiringSince: now, rewrap: { rewrapped: 0, errors: 0 }, version: from.version + 1 };
    const active: KeyStateRecord = {
      ...to,
      role: 'active',
      activatedAt: now,
      // A key that comes back from retiring starts a fresh pass: its objects may sit on any material.
      rewrap: { rewrapped: 0, errors: 0 },
      version: to.version + 1,
    };
    const { retiringSince: _r, retiredAt: _t, deletionDate: _d, ...rest } = active;
    await this.index.transact([
      { op: 'put', item: { pk: ACTIVE_PK, sk: ACTIVE_SK, attrs: { keyId: to.keyId } }, condition: { kind: 'equals', attr: 'keyId', value: from.keyId } },
      { op: 'put', item: keyStateItem(retiring), condition: { kind: 'equals', attr: 'version', value: from.version } },
      { op: 'put', item: keyStateItem(rest), condition: { kind: 'equals', attr: 'version', value: to.version } },
    ]);
  }
}
