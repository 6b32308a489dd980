// The three ports the core talks to: a key vault with KMS semantics, a blob store and an ordered index of typed
// records (buckets, objects, uploads and parts, the blob ledger, key states, access keys; see core/records.ts).
// The core knows nothing of HTTP or AWS; adapters (embedded, AWS) implement these interfaces.
import type { Readable } from 'node:stream';

/** Key/value pairs bound to a wrapped data key; unwrapping with any other context fails. */
export type EncryptionContext = Readonly<Record<string, string>>;

/** Key states as KMS names them. */
export type KeyState = 'Enabled' | 'Disabled' | 'PendingDeletion' | 'PendingImport' | 'Unavailable' | 'Creating';

/**
 * A data key as the vault hands it out. `plaintext` must never be stored or logged;
 * it lives in memory for one request. `wrapped` is safe to store anywhere.
 */
export interface DataKey {
  readonly plaintext: Buffer;
  readonly wrapped: Buffer;
  /** Full key id (ARN in AWS) of the CMK that wraps it. */
  readonly keyId: string;
  /** Key material generation inside that CMK (KMS KeyMaterialId, or the embedded vault's generation). */
  readonly keyMaterialId: string;
}

export interface UnwrappedKey {
  readonly plaintext: Buffer;
  readonly keyId: string;
  readonly keyMaterialId: string;
}

export interface RewrappedKey {
  readonly wrapped: Buffer;
  readonly keyId: string;
  readonly keyMaterialId: string;
}

export interface KeyDescription {
  readonly keyId: string;
  readonly arn: string;
  readonly state: KeyState;
  readonly createdAt: Date;
  readonly deletionDate?: Date;
  /** Current key material generation, where the vault can tell. */
  readonly currentKeyMaterialId?: string;
  readonly aliases?: readonly string[];
  readonly description?: string;
}

export interface KeyRotationStatus {
  readonly enabled: boolean;
  readonly rotationPeriodDays?: number;
  readonly nextRotationDate?: Date;
}

/**
 * Key management, as KMS offers it. Held by the key lifecycle job and the admin API only;
 * the data path uses KeyVault.
 */
export interface KeyAdmin {
  createKey(options: { alias?: string; description?: string }): Promise<KeyDescription>;
  /** Accepts a key id, a key ARN, an alias name (alias/x) or an alias ARN; returns the key ARN. */
  resolveKeyId(aliasOrKeyId: string): Promise<string>;
  listKeys(): Promise<KeyDescription[]>;
  /**
   * The alias names of one CMK, for a vault whose describeKey names none (KMS's DescribeKey does not; the embedded
   * vault's does, and needs no such call). Absent: describeKey's aliases are all there is.
   */
  aliasesOf?(keyId: string): Promise<string[]>;
  createAlias(alias: string, keyId: string): Promise<void>;
  enableKey(keyId: string): Promise<void>;
  disableKey(keyId: string): Promise<void>;
  /** KMS bounds: 7..30 days. Returns the deletion date. */
  scheduleKeyDeletion(keyId: string, pendingWindowDays: number): Promise<Date>;
  cancelKeyDeletion(keyId: string): Promise<void>;
  enableKeyRotation(keyId: string, rotationPeriodDays: number): Promise<void>;
  getKeyRotationStatus(keyId: string): Promise<KeyRotationStatus>;
  /** New key material now; old material stays usable for decrypt. */
  rotateKeyOnDemand(keyId: string): Promise<void>;
}

export interface KeyVault {
  /** One fresh AES-256 data key, wrapped under `keyId` and bound to `context`. */
  generateDataKey(keyId: string, context: EncryptionContext): Promise<DataKey>;
  /** Unwraps a data key; the wrapped blob names its own CMK. Fails on a wrong context. */
  decrypt(wrapped: Buffer, context: EncryptionContext): Promise<UnwrappedKey>;
  /** Rewraps under `destinationKeyId` (current material) without the plaintext leaving the vault. */
  reEncrypt(wrapped: Buffer, context: EncryptionContext, destinationKeyId: string): Promise<RewrappedKey>;
  describeKey(keyId: string): Promise<KeyDescription>;
  /** Encrypts a small secret (≤ 4 KiB) directly under a CMK, for access-key secrets at rest. */
  encrypt(keyId: string, plaintext: Buffer, context: EncryptionContext): Promise<Buffer>;
  /**
   * Whether a key ARN is one this vault opens wrapped keys under (decrypt refuses the others). Absent: every
   * key the vault can reach is trusted (the embedded vault, an AWS backend with no trusted-key list).
   */
  trusts?(keyArn: string): boolean;
}

/** Metadata stored beside a blob (S3 object metadata, or a sidecar file). Values are ASCII. */
export type BlobMetadata = Readonly<Record<string, string>>;

/** Inclusive byte range, as HTTP ranges are. */
export interface ByteRange {
  readonly start: number;
  readonly end: number;
}

export interface BlobInfo {
  readonly size: number;
  readonly metadata: BlobMetadata;
  readonly lastModified: Date;
}

export interface BlobWriteOptions {
  /**
   * Awaited after the body is written and before the blob becomes visible; if it rejects, nothing is stored
   * and put rejects with its error. Lets a writer record the blob (the ledger's pending entry) while the body
   * streams, yet never have a visible blob it has not recorded.
   */
  beforePublish?(): Promise<unknown>;
}

/** One page of a blob listing (BlobStore.list). */
export interface BlobPage {
  readonly blobIds: string[];
  /** Present when more blobs may follow: pass it back to continue after the last id of this page. */
  readonly next?: string;
}

export interface BlobStore {
  /** Writes the whole blob atomically: either it exists complete (and durable) afterwards, or not at all. */
  put(blobId: string, body: Readable, metadata: BlobMetadata, options?: BlobWriteOptions): Promise<{ size: number }>;
  /** Reads the blob or one byte range of it. Throws BlobNotFoundError. */
  get(blobId: string, range?: ByteRange): Promise<Readable>;
  head(blobId: string): Promise<BlobInfo>;
  /** Replaces the metadata without touching the body (used by rewrap). */
  replaceMetadata(blobId: string, metadata: BlobMetadata): Promise<void>;
  /** Idempotent: deleting a missing blob is not an error. */
  delete(blobId: string): Promise<void>;
  /**
   * Every committed blob, a page at a time, in an order the adapter keeps stable while blobs are added (S3: key
   * order; files: the order of their hashed names). `after` is a previous page's `next` (opaque; absent = from the
   * start), so a scan resumes where it stopped. Used by recovery (docs/RECOVERY.md), never by the data path.
   */
  list(after: string | undefined, limit: number): Promise<BlobPage>;
}

/** Attribute values an index item may hold (JSON-shaped, maps to DynamoDB types). */
export type AttrValue = string | number | boolean | null | Buffer | AttrValue[] | { [name: string]: AttrValue };

/**
 * One item of the ordered index. `pk` partitions, `sk` orders within a partition (binary UTF-8 order).
 * `gsi1pk`/`gsi1sk`, when set, place the item in the one secondary index (e.g. objects by CMK).
 */
export interface IndexItem {
  readonly pk: string;
  readonly sk: string;
  readonly gsi1pk?: string;
  readonly gsi1sk?: string;
  readonly attrs: Readonly<Record<string, AttrValue>>;
}

export type Condition =
  | { readonly kind: 'absent' }
  | { readonly kind: 'present' }
  | { readonly kind: 'equals'; readonly attr: string; readonly value: string | number };

export type WriteOp =
  | { readonly op: 'put'; readonly item: IndexItem; readonly condition?: Condition }
  | { readonly op: 'delete'; readonly pk: string; readonly sk: string; readonly condition?: Condition };

export interface QueryOptions {
  /** Only sort keys starting with this prefix. */
  readonly prefix?: string;
  /** Only sort keys strictly greater than this one. */
  readonly startAfter?: string;
  readonly limit: number;
}

export interface QueryPage {
  readonly items: IndexItem[];
  /** Present when more items may follow: pass it as `startAfter` to continue. */
  readonly lastKey?: string;
}

/**
 * The index of every record the store keeps, as ordered items: one partition per record kind (or per bucket, per
 * upload), conditional writes and small transactions. records.ts maps typed records to items; index-walk.ts reads
 * more than a page; index-auth/ MACs every row.
 */
export interface RecordIndex {
  get(pk: string, sk: string): Promise<IndexItem | undefined>;
  /** Throws ConditionFailedError when the condition does not hold. */
  put(item: IndexItem, condition?: Condition): Promise<void>;
  delete(pk: string, sk: string, condition?: Condition): Promise<void>;
  /** Items of one partition in ascending sort-key order. */
  query(pk: string, options: QueryOptions): Promise<QueryPage>;
  /** Items of one secondary-index partition in ascending gsi1sk order; `startAfter` is an opaque `lastKey` from a previous page. */
  queryGsi1(gsi1pk: string, options: QueryOptions): Promise<QueryPage>;
  /** All-or-nothing; throws ConditionFailedError if any condition fails (max 100 ops). */
  transact(ops: readonly WriteOp[]): Promise<void>;
}

/** Where new objects get their data keys from; the key lifecycle decides which CMK is active. */
export interface ActiveKeySource {
  activeKeyId(): Promise<string>;
}

/** The three ports of one backend, as an adapter package opens them (embedded, AWS), plus key management. */
export interface StorePorts {
  readonly vault: KeyVault;
  /** Key management for the key lifecycle and the admin API; KMS and the embedded vault both offer it. */
  readonly admin: KeyAdmin;
  readonly blobs: BlobStore;
  readonly index: RecordIndex;
  /** The CMK new objects are sealed under until the key lifecycle names another. */
  readonly defaultKeyId: string;
  /** Releases what the ports hold open (files, databases); idempotent. */
  close(): Promise<void>;
}
