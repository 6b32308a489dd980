// The index key: the secret every index row's MAC is keyed from. Rule it never breaks: it is stored only wrapped
// under a CMK (KMS encryption context 'sealstore:index-key'), and unwrapped into memory once per process for row checks
// (the key lifecycle also opens the wrap to learn or move the CMK it is under).
import { randomBytes } from 'node:crypto';
import { ConditionFailedError, IntegrityError, isAlteredWrap, StoreError, unavailable } from '../errors';
import type { EncryptionContext, IndexItem, KeyVault, RecordIndex } from '../ports';
import { INDEX_KEY_CONTEXT_KEY } from '../encryption-context';

/** Where the wrapped index key lives: its own row, the one row of the index that carries no row MAC. */
export const INDEX_KEY_PK = 'IK';
export const INDEX_KEY_SK = 'v1';

/** KMS binds the wrapped index key to its purpose: no data key or access-key secret can stand in for it. */
export const indexKeyContext: EncryptionContext = { [INDEX_KEY_CONTEXT_KEY]: INDEX_KEY_SK };

/**
 * Partitions whose rows exist in any store that has ever been used (a bucket, the key-state records, access
 * keys, the ledger): if one holds a row and no index key exists, the rows were written before rows were
 * authenticated, or the key row was removed.
 */
const LIVED_IN = ['B', 'KS', 'KS#ACTIVE', 'AK', 'L'];

export class IndexKeyMissingError extends IntegrityError {}

interface Stored {
  readonly wrapped: Buffer;
  readonly keyId: string;
  readonly keyMaterialId: string;
  readonly createdAt: number;
}

function fromItem(item: IndexItem): Stored {
  const a = item.attrs;
  if (!Buffer.isBuffer(a['wrapped']) || typeof a['keyId'] !== 'string' || typeof a['keyMaterialId'] !== 'string') {
    throw new IntegrityError('the index key row is malformed');
  }
  return { wrapped: a['wrapped'], keyId: a['keyId'], keyMaterialId: a['keyMaterialId'], createdAt: typeof a['createdAt'] === 'number' ? a['createdAt'] : 0 };
}

function toItem(s: Stored): IndexItem {
  return { pk: INDEX_KEY_PK, sk: INDEX_KEY_SK, attrs: { wrapped: s.wrapped, keyId: s.keyId, keyMaterialId: s.keyMaterialId, createdAt: s.createdAt } };
}

export interface IndexKeyDeps {
  /** The raw index (rows are not authenticated at this level). */
  readonly index: RecordIndex;
  readonly vault: KeyVault;
  /** The CMK a new index key is wrapped under; the key lifecycle moves it to the active CMK afterwards. */
  readonly defaultKeyId: string;
  readonly now?: () => Date;
}

/**
 * Loads the index key once per process (one KMS Decrypt), or creates it for an index that has never held a
 * row. An index with rows and no key is refused: it is either from a sealstore that did not authenticate rows
 * (adopt its rows once with `adoptExistingRows`, npm start's --seal-index) or its key row was removed.
 * It is also one of the secrets the key lifecycle rewraps, so no CMK it depends on is ever retired.
 */
export class IndexKey {
  private loaded: Promise<Buffer> | undefined;
  private readonly now: () => Date;

  constructor(private readonly deps: IndexKeyDeps) {
    this.now = deps.now ?? (() => new Date());
  }

  /** The plaintext key; `create` allows making one when the index is empty. */
  get(options: { create: boolean }): Promise<Buffer> {
    if (this.loaded) return this.loaded;
    // A failure (KMS briefly unavailable, no key yet) is not remembered: the next call tries again.
    this.loaded = this.load(options.create).catch((e: unknown) => {
      this.loaded = undefined;
      throw e;
    });
    return this.loaded;
  }

  private async load(create: boolean): Promise<Buffer> {
    const item = await this.deps.index.get(INDEX_KEY_PK, INDEX_KEY_SK);
    if (item) return this.unwrap(fromItem(item));
    if (!create) throw this.missing();
    if (!(await this.isEmpty())) throw this.missing();
    return this.createKey();
  }

  /** Creates the key for an index whose rows were written without MACs; the caller then seals them. */
  async createForAdoption(): Promise<Buffer> {
    const item = await this.deps.index.get(INDEX_KEY_PK, INDEX_KEY_SK);
    const key = item ? await this.unwrap(fromItem(item)) : await this.createKey();
    this.loaded = Promise.resolve(key);
    return key;
  }

  private async createKey(): Promise<Buffer> {
    const plaintext = randomBytes(32);
    const wrapped = await this.deps.vault.encrypt(this.deps.defaultKeyId, plaintext, indexKeyContext);
    const where = await this.deps.vault.decrypt(wrapped, indexKeyContext);
    where.plaintext.fill(0);
    const stored: Stored = { wrapped, keyId: where.keyId, keyMaterialId: where.keyMaterialId, createdAt: this.now().getTime() };
    try {
      await this.deps.index.put(toItem(stored), { kind: 'absent' });
      return plaintext;
    } catch (e) {
      plaintext.fill(0);
      if (!(e instanceof ConditionFailedError)) throw e;
      // Another process created it first: use theirs.
      const theirs = await this.deps.index.get(INDEX_KEY_PK, INDEX_KEY_SK);
      if (!theirs) throw this.missing();
      return this.unwrap(fromItem(theirs));
    }
  }

  /**
   * The first row check of a process may come before its request is authenticated (the access key's row), so
   * what goes wrong here must tell the caller nothing about the CMK: a key row that does not open as an index key
   * (forged, swapped, under a foreign or unknown CMK) is a 500, anything else (a disabled CMK, throttling, an
   * outage) a 503; the KMS error itself goes to the log as the cause.
   */
  private async unwrap(s: Stored): Promise<Buffer> {
    try {
      return (await this.deps.vault.decrypt(s.wrapped, indexKeyContext)).plaintext;
    } catch (e) {
      if (!(e instanceof StoreError)) throw e;
      if (isAlteredWrap(e)) {
        throw Object.assign(new IntegrityError(`The index key row does not open as an index key (${e.code}): it was replaced or forged.`), { cause: e });
      }
      throw unavailable('The store cannot open its index key right now, so it cannot check its records; try again later (the server log says why).', e);
    }
  }

  private async isEmpty(): Promise<boolean> {
    for (const pk of LIVED_IN) if ((await this.deps.index.query(pk, { limit: 1 })).items.length > 0) return false;
    return true;
  }

  private missing(): IndexKeyMissingError {
    return new IndexKeyMissingError(
      'The index holds rows but no index key to authenticate them: it was written by a sealstore that did not authenticate index rows (run once with `npm start -- --seal-index` to adopt its rows as they are), or its key row was removed (restore the table or index.sqlite from a backup).',
    );
  }

  // ---- as one of the secrets the key lifecycle rewraps ----

  // The key row carries no MAC, so its keyId and keyMaterialId attributes are hints only: which CMK and material
  // really wrap it is asked of KMS (Decrypt names them), or an edited row could hide that a CMK is still needed
  // and get it retired and deleted.

  /** The CMK and material that wrap the stored key, as KMS reports them. */
  private async wrappedUnder(s: Stored): Promise<{ keyId: string; keyMaterialId: string }> {
    const opened = await this.deps.vault.decrypt(s.wrapped, indexKeyContext);
    opened.plaintext.fill(0);
    return { keyId: opened.keyId, keyMaterialId: opened.keyMaterialId };
  }

  async rewrapSecrets(destinationKeyId: string, destinationMaterialId: string | undefined): Promise<{ rewrapped: number; errors: number }> {
    const item = await this.deps.index.get(INDEX_KEY_PK, INDEX_KEY_SK);
    if (!item) return { rewrapped: 0, errors: 0 };
    const s = fromItem(item);
    try {
      const under = await this.wrappedUnder(s);
      if (under.keyId === destinationKeyId && destinationMaterialId !== undefined && under.keyMaterialId === destinationMaterialId) return { rewrapped: 0, errors: 0 };
      const moved = await this.deps.vault.reEncrypt(s.wrapped, indexKeyContext, destinationKeyId);
      const next: Stored = { ...s, wrapped: moved.wrapped, keyId: moved.keyId, keyMaterialId: moved.keyMaterialId };
      await this.deps.index.put(toItem(next), { kind: 'equals', attr: 'keyId', value: s.keyId });
      return { rewrapped: 1, errors: 0 };
    } catch (e) {
      if (e instanceof ConditionFailedError) return { rewrapped: 0, errors: 0 };
      if (!(e instanceof StoreError)) throw e;
      return { rewrapped: 0, errors: 1 };
    }
  }

  async countSealedUnder(keyId: string): Promise<number> {
    const item = await this.deps.index.get(INDEX_KEY_PK, INDEX_KEY_SK);
    if (!item) return 0;
    try {
      return (await this.wrappedUnder(fromItem(item))).keyId === keyId ? 1 : 0;
    } catch (e) {
      // Cannot tell (KMS unavailable, the CMK disabled): count it as still needed, so nothing is retired on a guess.
      if (e instanceof StoreError) return 1;
      throw e;
    }
  }
}
