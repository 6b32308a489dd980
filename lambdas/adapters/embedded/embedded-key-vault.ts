// A key vault with KMS semantics for machines without KMS: CMKs, aliases, material generations, key states.
import { randomBytes, randomUUID } from 'node:crypto';
import { chmod, mkdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type {
  DataKey,
  EncryptionContext,
  KeyAdmin,
  KeyDescription,
  KeyRotationStatus,
  KeyVault,
  RewrappedKey,
  UnwrappedKey,
} from '../../core/ports';
import {
  InvalidArgumentError,
  KmsDisabledError,
  KmsInvalidCiphertextError,
  KmsInvalidStateError,
  KmsNotFoundError,
} from '../../core/errors';
import {
  emptyKeyDatabase,
  readKeyDatabase,
  sealMaterial,
  unsealMaterial,
  writeKeyDatabase,
  type KeyDatabase,
  type KeyRecord,
} from './key-database';
import { KeyedMutex } from './keyed-mutex';
import { loadOrCreateRootKey, type RootKeys } from './root-key';
import { parseWrapped, unwrap, wrap } from './wrapped-key-format';

export interface EmbeddedKeyVaultOptions {
  /** Region written into key ARNs. @default 'us-east-1' */
  readonly region?: string;
  /** Account written into key ARNs. @default '000000000000' */
  readonly accountId?: string;
  /** Clock for key dates, pending-deletion windows and rotation schedules; tests move it. @default () => new Date() */
  readonly now?: () => Date;
}

const DAY_MS = 24 * 60 * 60 * 1000;
const DATA_KEY_BYTES = 32;
/** KMS Encrypt limit. */
const MAX_ENCRYPT_BYTES = 4096;
const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const ALIAS_PATTERN = /^alias\/[a-zA-Z0-9/_-]{1,250}$/;
const ARN_PATTERN = /^arn:aws:kms:([a-z0-9-]+):(\d{12}):(key\/.+|alias\/.+)$/;

const arnOf = (region: string, account: string, uuid: string) => `arn:aws:kms:${region}:${account}:key/${uuid}`;

/**
 * The embedded KeyVault and KeyAdmin. Rule it never breaks: CMK material exists in plaintext only in this
 * process's memory; on disk it is sealed under root.key, and data keys leave only wrapped, or in plaintext
 * to the caller of generateDataKey/decrypt. Nothing here logs.
 *
 * State changes are rare (management calls): each re-reads the file under one in-process lock, applies itself and
 * persists the whole database atomically; the data path reads the in-memory copy. One process per key
 * directory: openEmbeddedBackend holds the data directory's lock (data-dir-lock.ts) for as long as it is open.
 */
export const KEY_DATABASE_FILE = 'keys.json';
const ROOT_KEY_FILE = 'root.key';

/** Whether the file is there; an error other than ENOENT (EACCES) is not taken for "missing". */
export const fileExists = (file: string): Promise<boolean> => stat(file).then(() => true, (e: NodeJS.ErrnoException) => (e.code === 'ENOENT' ? false : Promise.reject(e)));

export class EmbeddedKeyVault implements KeyVault, KeyAdmin {
  private readonly lock = new KeyedMutex();
  private readonly materialCache = new Map<string, Buffer>();

  private constructor(
    private readonly file: string,
    private readonly rootKeys: RootKeys,
    private db: KeyDatabase,
    private readonly region: string,
    private readonly accountId: string,
    private readonly now: () => Date,
  ) {}

  static async open(dir: string, options: EmbeddedKeyVaultOptions = {}): Promise<EmbeddedKeyVault> {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await chmod(dir, 0o700);
    const file = join(dir, KEY_DATABASE_FILE);
    const rootFile = join(dir, ROOT_KEY_FILE);
    // Keys sealed under a root that is gone: a new root would only make them unreadable for good. Nothing is written.
    if ((await fileExists(file)) && !(await fileExists(rootFile))) {
      throw new Error(`${rootFile} is missing, but ${file} holds CMKs sealed under it: restore ${rootFile} from a backup (a new root key cannot open them)`);
    }
    const rootKeys = await loadOrCreateRootKey(rootFile);
    const db = (await readKeyDatabase(file, rootKeys.databaseMacKey)) ?? emptyKeyDatabase();
    const vault = new EmbeddedKeyVault(
      file,
      rootKeys,
      db,
      options.region ?? 'us-east-1',
      options.accountId ?? '000000000000',
      options.now ?? (() => new Date()),
    );
    await vault.applyDueEvents();
    return vault;
  }

  // ---- KeyVault ----

  async generateDataKey(keyId: string, context: EncryptionContext): Promise<DataKey> {
    await this.applyDueEvents();
    const key = this.usable(this.resolve(this.db, keyId));
    const plaintext = randomBytes(DATA_KEY_BYTES);
    const sealed = this.sealUnderCurrent(key, context, plaintext);
    return { plaintext, ...sealed };
  }

  async decrypt(wrapped: Buffer, context: EncryptionContext): Promise<UnwrappedKey> {
    await this.applyDueEvents();
    return this.openWrapped(wrapped, context);
  }

  async reEncrypt(wrapped: Buffer, context: EncryptionContext, destinationKeyId: string): Promise<RewrappedKey> {
    await this.applyDueEvents();
    const source = this.openWrapped(wrapped, context);
    try {
      const destination = this.usable(this.resolve(this.db, destinationKeyId));
      return this.sealUnderCurrent(destination, context, source.plaintext);
    } finally {
      source.plaintext.fill(0);
    }
  }

  async describeKey(keyId: string): Promise<KeyDescription> {
    await this.applyDueEvents();
    return this.describe(this.db, this.resolve(this.db, keyId));
  }

  async encrypt(keyId: string, plaintext: Buffer, context: EncryptionContext): Promise<Buffer> {
    if (plaintext.length < 1 || plaintext.length > MAX_ENCRYPT_BYTES) {
      throw new InvalidArgumentError(`encrypt takes 1..${MAX_ENCRYPT_BYTES} bytes, got ${plaintext.length}`);
    }
    await this.applyDueEvents();
    const key = this.usable(this.resolve(this.db, keyId));
    return this.sealUnderCurrent(key, context, plaintext).wrapped;
  }

  // ---- KeyAdmin ----

  async createKey(options: { alias?: string; description?: string }): Promise<KeyDescription> {
    if (options.alias !== undefined) validateAlias(options.alias);
    return this.mutate((db) => {
      if (options.alias !== undefined && db.aliases[options.alias] !== undefined) {
        throw new InvalidArgumentError(`alias ${options.alias} already exists`);
      }
      const uuid = randomUUID();
      const record: KeyRecord = {
        uuid,
        createdAt: this.now().toISOString(),
        ...(options.description === undefined ? {} : { description: options.description }),
        state: 'Enabled',
        rotation: { enabled: false },
        generations: [],
      };
      this.addGeneration(record);
      db.keys[uuid] = record;
      if (options.alias !== undefined) db.aliases[options.alias] = uuid;
      return this.describe(db, record);
    });
  }

  async resolveKeyId(aliasOrKeyId: string): Promise<string> {
    await this.applyDueEvents();
    return this.arn(this.resolve(this.db, aliasOrKeyId));
  }

  async listKeys(): Promise<KeyDescription[]> {
    await this.applyDueEvents();
    return Object.values(this.db.keys).map((key) => this.describe(this.db, key));
  }

  async createAlias(alias: string, keyId: string): Promise<void> {
    validateAlias(alias);
    await this.mutate((db) => {
      if (db.aliases[alias] !== undefined) throw new InvalidArgumentError(`alias ${alias} already exists`);
      const key = this.resolve(db, keyId);
      if (key.state === 'PendingDeletion') throw pendingDeletion(key);
      db.aliases[alias] = key.uuid;
    });
  }

  async enableKey(keyId: string): Promise<void> {
    await this.mutate((db) => {
      const key = this.resolve(db, keyId);
      if (key.state === 'PendingDeletion') throw pendingDeletion(key);
      key.state = 'Enabled';
    });
  }

  async disableKey(keyId: string): Promise<void> {
    await this.mutate((db) => {
      const key = this.resolve(db, keyId);
      if (key.state === 'PendingDeletion') throw pendingDeletion(key);
      key.state = 'Disabled';
    });
  }

  async scheduleKeyDeletion(keyId: string, pendingWindowDays: number): Promise<Date> {
    if (!Number.isInteger(pendingWindowDays) || pendingWindowDays < 7 || pendingWindowDays > 30) {
      throw new InvalidArgumentError(`the pending window must be 7 to 30 days, got ${pendingWindowDays}`);
    }
    return this.mutate((db) => {
      const key = this.resolve(db, keyId);
      if (key.state === 'PendingDeletion') throw pendingDeletion(key);
      const deletionDate = new Date(this.now().getTime() + pendingWindowDays * DAY_MS);
      key.state = 'PendingDeletion';
      key.deletionDate = deletionDate.toISOString();
      return deletionDate;
    });
  }

  async cancelKeyDeletion(keyId: string): Promise<void> {
    await this.mutate((db) => {
      const key = this.resolve(db, keyId);
      if (key.state !== 'PendingDeletion') {
        throw new KmsInvalidStateError(`${this.arn(key)} is ${key.state}, not pending deletion`);
      }
      // As in KMS: a key rescued from deletion comes back Disabled; enabling it is a separate decision.
      key.state = 'Disabled';
      delete key.deletionDate;
    });
  }

  async enableKeyRotation(keyId: string, rotationPeriodDays: number): Promise<void> {
    if (!Number.isInteger(rotationPeriodDays) || rotationPeriodDays < 90 || rotationPeriodDays > 2560) {
      throw new InvalidArgumentError(`the rotation period must be 90 to 2560 days, got ${rotationPeriodDays}`);
    }
    await this.mutate((db) => {
      const key = this.usable(this.resolve(db, keyId));
      key.rotation = {
        enabled: true,
        periodDays: rotationPeriodDays,
        nextRotationDate: new Date(this.now().getTime() + rotationPeriodDays * DAY_MS).toISOString(),
      };
    });
  }

  /** Not part of the KeyAdmin port; KMS offers it and the admin CLI may. */
  async disableKeyRotation(keyId: string): Promise<void> {
    await this.mutate((db) => {
      const key = this.usable(this.resolve(db, keyId));
      key.rotation = { enabled: false };
    });
  }

  async getKeyRotationStatus(keyId: string): Promise<KeyRotationStatus> {
    await this.applyDueEvents();
    const { rotation } = this.resolve(this.db, keyId);
    if (!rotation.enabled) return { enabled: false };
    return {
      enabled: true,
      ...(rotation.periodDays === undefined ? {} : { rotationPeriodDays: rotation.periodDays }),
      ...(rotation.nextRotationDate === undefined ? {} : { nextRotationDate: new Date(rotation.nextRotationDate) }),
    };
  }

  async rotateKeyOnDemand(keyId: string): Promise<void> {
    await this.mutate((db) => {
      this.addGeneration(this.usable(this.resolve(db, keyId)));
    });
  }

  // ---- internals ----

  /**
   * KMS acts on schedules by itself; the embedded vault has no timer, so every call first applies what is
   * due: deletion of keys whose pending window has passed (material destroyed for good) and automatic
   * rotation of enabled keys whose rotation date has come. The common case is a cheap scan with no write.
   */
  private async applyDueEvents(): Promise<void> {
    const due = (db: KeyDatabase, at: number) =>
      Object.values(db.keys).filter(
        (k) =>
          (k.state === 'PendingDeletion' && k.deletionDate !== undefined && Date.parse(k.deletionDate) <= at) ||
          (k.state === 'Enabled' && k.rotation.enabled && k.rotation.nextRotationDate !== undefined && Date.parse(k.rotation.nextRotationDate) <= at),
      );
    if (due(this.db, this.now().getTime()).length === 0) return;
    const destroyed = await this.mutate((db) => {
      const now = this.now();
      const gone: KeyRecord[] = [];
      for (const key of due(db, now.getTime())) {
        if (key.state === 'PendingDeletion') {
          delete db.keys[key.uuid];
          for (const [alias, uuid] of Object.entries(db.aliases)) if (uuid === key.uuid) delete db.aliases[alias];
          gone.push(key);
        } else {
          this.addGeneration(key);
          // KMS rotates once, late or not, then schedules the next rotation a full period ahead.
          key.rotation.nextRotationDate = new Date(now.getTime() + (key.rotation.periodDays ?? 365) * DAY_MS).toISOString();
        }
      }
      return gone;
    });
    for (const key of destroyed) {
      for (const generation of key.generations) {
        const cacheKey = `${key.uuid}/${generation.id}`;
        this.materialCache.get(cacheKey)?.fill(0);
        this.materialCache.delete(cacheKey);
      }
    }
  }

  /**
   * Applies a management change: re-reads the database from disk under the lock (never a stale in-memory copy:
   * whatever the file holds now is what the change applies to), runs `change` on it, persists it, and only
   * then makes it current. A throwing change or a failed write leaves memory and disk untouched.
   */
  private mutate<T>(change: (db: KeyDatabase) => T): Promise<T> {
    return this.lock.run('db', async () => {
      const next = (await readKeyDatabase(this.file, this.rootKeys.databaseMacKey)) ?? structuredClone(this.db);
      const result = change(next);
      await writeKeyDatabase(this.file, this.rootKeys.databaseMacKey, next);
      this.db = next;
      return result;
    });
  }

  private addGeneration(key: KeyRecord): void {
    const id = (key.generations[key.generations.length - 1]?.id ?? 0) + 1;
    const material = randomBytes(32);
    key.generations.push({
      id,
      createdAt: this.now().toISOString(),
      sealed: sealMaterial(this.rootKeys.materialKey, key.uuid, id, material),
    });
    this.materialCache.set(`${key.uuid}/${id}`, material);
  }

  private material(key: KeyRecord, generation: number): Buffer {
    const cacheKey = `${key.uuid}/${generation}`;
    const cached = this.materialCache.get(cacheKey);
    if (cached !== undefined) return cached;
    const record = key.generations.find((g) => g.id === generation);
    if (record === undefined) throw new KmsInvalidCiphertextError('the ciphertext names key material this key does not have');
    const material = unsealMaterial(this.rootKeys.materialKey, key.uuid, generation, record.sealed);
    this.materialCache.set(cacheKey, material);
    return material;
  }

  private sealUnderCurrent(key: KeyRecord, context: EncryptionContext, plaintext: Buffer): RewrappedKey {
    const current = key.generations[key.generations.length - 1];
    if (current === undefined) throw new KmsInvalidStateError(`${this.arn(key)} has no key material`);
    const wrapped = wrap(this.material(key, current.id), { keyUuid: key.uuid, generation: current.id }, context, plaintext);
    return { wrapped, keyId: this.arn(key), keyMaterialId: String(current.id) };
  }

  private openWrapped(wrapped: Buffer, context: EncryptionContext): UnwrappedKey {
    const parsed = parseWrapped(wrapped);
    const key = this.db.keys[parsed.keyUuid];
    // A wrap naming a key that is gone (deleted after its window) is crypto-shredded: NotFound, as KMS says.
    if (key === undefined) throw new KmsNotFoundError(`key ${parsed.keyUuid} does not exist`);
    this.usable(key);
    const plaintext = unwrap(this.material(key, parsed.generation), parsed, context);
    return { plaintext, keyId: this.arn(key), keyMaterialId: String(parsed.generation) };
  }

  /** KMS refuses cryptographic use of a key that is not Enabled, with an error naming why. */
  private usable(key: KeyRecord): KeyRecord {
    if (key.state === 'Disabled') throw new KmsDisabledError(`${this.arn(key)} is disabled`);
    if (key.state === 'PendingDeletion') throw pendingDeletion(key, this.arn(key));
    return key;
  }

  private resolve(db: KeyDatabase, ref: string): KeyRecord {
    let id = ref;
    const arn = ARN_PATTERN.exec(ref);
    if (arn !== null) {
      if (arn[1] !== this.region || arn[2] !== this.accountId) throw new KmsNotFoundError(`${ref} is not in this vault`);
      id = arn[3] ?? '';
      if (id.startsWith('key/')) id = id.slice('key/'.length);
    }
    const uuid = id.startsWith('alias/') ? db.aliases[id] : UUID_PATTERN.test(id) ? id : undefined;
    const key = uuid === undefined ? undefined : db.keys[uuid];
    if (key === undefined) throw new KmsNotFoundError(`key ${ref} does not exist`);
    return key;
  }

  private arn(key: KeyRecord): string {
    return arnOf(this.region, this.accountId, key.uuid);
  }

  private describe(db: KeyDatabase, key: KeyRecord): KeyDescription {
    const aliases = Object.entries(db.aliases)
      .filter(([, uuid]) => uuid === key.uuid)
      .map(([alias]) => alias)
      .sort();
    const current = key.generations[key.generations.length - 1];
    return {
      keyId: key.uuid,
      arn: this.arn(key),
      state: key.state,
      createdAt: new Date(key.createdAt),
      ...(key.deletionDate === undefined ? {} : { deletionDate: new Date(key.deletionDate) }),
      ...(current === undefined ? {} : { currentKeyMaterialId: String(current.id) }),
      aliases,
      ...(key.description === undefined ? {} : { description: key.description }),
    };
  }
}

function validateAlias(alias: string): void {
  if (!ALIAS_PATTERN.test(alias) || alias.startsWith('alias/aws/')) {
    throw new InvalidArgumentError(`invalid alias name ${JSON.stringify(alias)}: use alias/<letters, digits, / _ ->`);
  }
}

function pendingDeletion(key: KeyRecord, name: string = key.uuid): KmsInvalidStateError {
  return new KmsInvalidStateError(`${name} is pending deletion (on ${key.deletionDate ?? 'an unknown date'})`);
}
