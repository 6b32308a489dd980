// Access keys beyond the root one: per-bucket roles, secrets sealed at rest under the active CMK.
// Rule it never breaks: a secret is stored only as KMS ciphertext bound to its key id, and shown once, at creation.
import { randomBytes } from 'node:crypto';
import { ROLES, type CredentialStore, type Grant, type Principal, type Role } from './access';
import { ConditionalRequestConflictError, ConditionFailedError, InvalidArgumentError, InvalidRequestError, StoreError, unavailable } from './errors';
import { ACCESS_KEY_CONTEXT_KEY } from './encryption-context';
import { walk } from './index-walk';
import type { Logger } from './logger';
import type { ActiveKeySource, AttrValue, EncryptionContext, IndexItem, KeyVault, RecordIndex, UnwrappedKey } from './ports';

/** Another admin flipping the same key's status makes the conditional write fail; a few re-reads settle it. */
const STATUS_ATTEMPTS = 5;

export const ACCESS_KEYS_PK = 'AK';

export type AccessKeyStatus = 'Active' | 'Inactive';

/** An access key as listed: never its secret. */
export interface AccessKeyInfo {
  readonly accessKeyId: string;
  readonly grants: readonly Grant[];
  readonly status: AccessKeyStatus;
  readonly createdAt: string;
  readonly description?: string;
  /** The CMK its secret is sealed under. */
  readonly keyId: string;
}

export interface CreatedAccessKey extends AccessKeyInfo {
  readonly secretAccessKey: string;
}

export interface AccessKeyStoreDeps {
  readonly index: RecordIndex;
  readonly vault: KeyVault;
  readonly activeKeys: ActiveKeySource;
  readonly now?: () => Date;
  /** How long a looked-up secret stays in memory, sparing one KMS Decrypt per request. @default 30 s */
  readonly cacheTtlMs?: number;
  /** Where a request signed with a disabled key is told to the operator (the caller is told only InvalidAccessKeyId). */
  readonly logger?: Logger;
}

/** KMS binds a sealed secret to the key it belongs to: a ciphertext moved to another key id will not open. */
export const secretContext = (accessKeyId: string): EncryptionContext => ({ [ACCESS_KEY_CONTEXT_KEY]: accessKeyId });

const BUCKET_PATTERN = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const ID_PATTERN = /^SK[0-9A-F]{18}$/;

export function validateGrants(grants: unknown): Grant[] {
  if (!Array.isArray(grants) || grants.length === 0) throw new InvalidArgumentError('an access key needs at least one grant {bucket, role}');
  return grants.map((g: unknown) => {
    const { bucket, role } = (typeof g === 'object' && g !== null ? g : {}) as Record<string, unknown>;
    if (typeof bucket !== 'string' || (bucket !== '*' && !BUCKET_PATTERN.test(bucket))) {
      throw new InvalidArgumentError(`grant bucket must be a bucket name or '*', got ${JSON.stringify(bucket)}`);
    }
    if (typeof role !== 'string' || !ROLES.includes(role as Role)) {
      throw new InvalidArgumentError(`grant role must be one of ${ROLES.join(', ')}, got ${JSON.stringify(role)}`);
    }
    return { bucket, role: role as Role };
  });
}

interface Stored extends AccessKeyInfo {
  readonly sealedSecret: Buffer;
  readonly keyMaterialId?: string;
}

function toItem(k: Stored): IndexItem {
  return {
    pk: ACCESS_KEYS_PK,
    sk: k.accessKeyId,
    attrs: {
      grants: k.grants.map((g) => ({ bucket: g.bucket, role: g.role })),
      status: k.status,
      createdAt: k.createdAt,
      keyId: k.keyId,
      sealedSecret: k.sealedSecret,
      ...(k.keyMaterialId === undefined ? {} : { keyMaterialId: k.keyMaterialId }),
      ...(k.description === undefined ? {} : { description: k.description }),
    },
  };
}

function fromItem(item: IndexItem): Stored {
  const a = item.attrs;
  const grantsAttr: AttrValue | undefined = a['grants'];
  const sealed = a['sealedSecret'];
  if (!Buffer.isBuffer(sealed) || typeof a['keyId'] !== 'string') throw new InvalidRequestError(`access key ${item.sk} is malformed`);
  return {
    accessKeyId: item.sk,
    grants: validateGrants(grantsAttr),
    status: a['status'] === 'Inactive' ? 'Inactive' : 'Active',
    createdAt: typeof a['createdAt'] === 'string' ? a['createdAt'] : '',
    keyId: a['keyId'],
    sealedSecret: sealed,
    ...(typeof a['keyMaterialId'] === 'string' ? { keyMaterialId: a['keyMaterialId'] } : {}),
    ...(typeof a['description'] === 'string' ? { description: a['description'] } : {}),
  };
}

function info(k: Stored): AccessKeyInfo {
  return {
    accessKeyId: k.accessKeyId,
    grants: k.grants,
    status: k.status,
    createdAt: k.createdAt,
    keyId: k.keyId,
    ...(k.description === undefined ? {} : { description: k.description }),
  };
}

/**
 * Stored access keys as a CredentialStore (chained after the root key) and their administration.
 * Lookups cache the opened secret for `cacheTtlMs`: a disable or delete takes effect at once in this
 * process and within that time in every other (Lambda containers).
 */
export class AccessKeyStore implements CredentialStore {
  private readonly cache = new Map<string, { value: { secret: string; principal: Principal }; until: number }>();
  private readonly now: () => Date;
  private readonly ttlMs: number;

  constructor(private readonly deps: AccessKeyStoreDeps) {
    this.now = deps.now ?? (() => new Date());
    this.ttlMs = deps.cacheTtlMs ?? 30_000;
  }

  async lookup(accessKeyId: string): Promise<{ secret: string; principal: Principal } | undefined> {
    if (!ID_PATTERN.test(accessKeyId)) return undefined;
    const at = this.now().getTime();
    const hit = this.cache.get(accessKeyId);
    if (hit && hit.until > at) return hit.value;
    this.cache.delete(accessKeyId);
    const item = await this.deps.index.get(ACCESS_KEYS_PK, accessKeyId);
    if (!item) return undefined;
    const stored = fromItem(item);
    // S3 answers a deactivated key like an unknown one: InvalidAccessKeyId. The caller may hold only the key id, not
    // the secret, so telling it "disabled" would confirm the key exists; the operator's log says so instead.
    if (stored.status !== 'Active') {
      // info, not warn: this runs before the signature is checked, so anyone who knows the key id can cause it.
      this.deps.logger?.info('refused a request signed with a disabled access key (the caller is answered InvalidAccessKeyId, as S3 answers for an inactive key)', {
        accessKeyId,
        enableWith: `sealstore access-keys enable ${accessKeyId}`,
      });
      return undefined;
    }
    const opened = await this.openSecret(stored);
    const value = { secret: opened.plaintext.toString('utf8'), principal: { accessKeyId, grants: stored.grants } };
    opened.plaintext.fill(0);
    this.cache.set(accessKeyId, { value, until: at + this.ttlMs });
    return value;
  }

  /**
   * The secret is needed to check the request's signature, so this KMS call comes before the caller is
   * authenticated: whatever KMS says (a disabled or deleted CMK, a foreign key, throttling) must tell the caller
   * nothing. It answers one generic 503 (SlowDown when throttled, so SDKs back off); the cause goes to the log.
   */
  private async openSecret(stored: Stored): Promise<UnwrappedKey> {
    try {
      return await this.deps.vault.decrypt(stored.sealedSecret, secretContext(stored.accessKeyId));
    } catch (e) {
      throw unavailable('The credentials of this access key cannot be checked right now; try again later (the server log says why).', e);
    }
  }

  /** Creates a key; the returned secret is the only copy in plaintext anywhere. */
  async create(options: { grants: unknown; description?: string }): Promise<CreatedAccessKey> {
    const grants = validateGrants(options.grants);
    const accessKeyId = `SK${randomBytes(9).toString('hex').toUpperCase()}`;
    const secretAccessKey = randomBytes(30).toString('base64url');
    const keyId = await this.deps.activeKeys.activeKeyId();
    const secretBytes = Buffer.from(secretAccessKey, 'utf8');
    const sealedSecret = await this.deps.vault.encrypt(keyId, secretBytes, secretContext(accessKeyId));
    secretBytes.fill(0);
    // The wrap names its CMK and material; opening it once tells us which, for the rewrap job.
    const where = await this.deps.vault.decrypt(sealedSecret, secretContext(accessKeyId));
    where.plaintext.fill(0);
    const stored: Stored = {
      accessKeyId,
      grants,
      status: 'Active',
      createdAt: this.now().toISOString(),
      keyId: where.keyId,
      keyMaterialId: where.keyMaterialId,
      sealedSecret,
      ...(options.description === undefined ? {} : { description: options.description }),
    };
    await this.deps.index.put(toItem(stored), { kind: 'absent' });
    return { ...info(stored), secretAccessKey };
  }

  async list(): Promise<AccessKeyInfo[]> {
    return (await this.all()).map(info);
  }

  async setStatus(accessKeyId: string, status: AccessKeyStatus): Promise<AccessKeyInfo> {
    for (let attempt = 0; attempt < STATUS_ATTEMPTS; attempt++) {
      const stored = await this.get(accessKeyId);
      const next: Stored = { ...stored, status };
      try {
        await this.deps.index.put(toItem(next), { kind: 'equals', attr: 'status', value: stored.status });
      } catch (e) {
        if (e instanceof ConditionFailedError) continue;
        throw e;
      }
      this.cache.delete(accessKeyId);
      return info(next);
    }
    throw new ConditionalRequestConflictError(`Access key ${accessKeyId} changed status while it was being set; retry the request.`);
  }

  async delete(accessKeyId: string): Promise<void> {
    await this.get(accessKeyId);
    await this.deps.index.delete(ACCESS_KEYS_PK, accessKeyId);
    this.cache.delete(accessKeyId);
  }

  /** Moves sealed secrets to the destination CMK's current material with ReEncrypt (secrets never leave KMS). */
  async rewrapSecrets(destinationKeyId: string, destinationMaterialId: string | undefined): Promise<{ rewrapped: number; errors: number }> {
    let rewrapped = 0;
    let errors = 0;
    for (const k of await this.all()) {
      if (k.keyId === destinationKeyId && destinationMaterialId !== undefined && k.keyMaterialId === destinationMaterialId) continue;
      try {
        const moved = await this.deps.vault.reEncrypt(k.sealedSecret, secretContext(k.accessKeyId), destinationKeyId);
        const next: Stored = { ...k, keyId: moved.keyId, keyMaterialId: moved.keyMaterialId, sealedSecret: moved.wrapped };
        // Conditional on the same key and status: a concurrent disable or delete wins.
        await this.deps.index.put(toItem(next), { kind: 'equals', attr: 'status', value: k.status });
        rewrapped++;
      } catch (e) {
        if (e instanceof ConditionFailedError) continue;
        if (!(e instanceof StoreError)) throw e;
        errors++;
      }
    }
    return { rewrapped, errors };
  }

  async countSealedUnder(keyId: string): Promise<number> {
    return (await this.all()).filter((k) => k.keyId === keyId).length;
  }

  private async get(accessKeyId: string): Promise<Stored> {
    const item = ID_PATTERN.test(accessKeyId) ? await this.deps.index.get(ACCESS_KEYS_PK, accessKeyId) : undefined;
    if (!item) throw new InvalidArgumentError(`No access key ${accessKeyId}.`, { ArgumentName: 'accessKeyId', ArgumentValue: accessKeyId });
    return fromItem(item);
  }

  /** Access keys are few (people and services, not objects): one partition, read whole. */
  private async all(): Promise<Stored[]> {
    return walk(this.deps.index, ACCESS_KEYS_PK).all(fromItem);
  }
}
