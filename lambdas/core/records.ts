// Item shapes of the object index: how buckets, objects and the blob ledger sit in the pk/sk/gsi1 table.
// docs/TABLE-DESIGN.md documents the same shapes; change both together.
import { createHash } from 'node:crypto';
import type { AttrValue, IndexItem } from './ports';
import { ROOT_OWNER } from './access';
import { IntegrityError, InternalError } from './errors';
import type { ChecksumType } from './object-checksum';
import type { ManifestPart } from './format';
import { legacyVersionKey, NULL_VERSION_ID } from './version-ids';

// Hot writes are spread so that no partition key takes a share of every request (DynamoDB serves at most 1,000
// write and 3,000 read units per second per partition; docs/TABLE-DESIGN.md has the arithmetic):
//   buckets       one partition per bucket (listed through gsi1 'B'), read by every request to that bucket
//   blob ledger   LEDGER_SHARDS partitions by a hash of the entry's sort key
//   objects/CMK   OBJECTS_BY_KEY_SHARDS gsi1 partitions per CMK by a hash of the object id
// Partitions written before the spreading ('B', 'L', 'K#<arn>') are still read, so an existing store keeps
// working and drains them: the sweep empties the legacy ledger, a bucket moves on first access, rewrap moves
// objects to the sharded CMK partitions.

/** 0..n-1 from the first bytes of SHA-256: uniform for random ids, and for chosen names too. */
function shardOf(text: string, n: number): number {
  return createHash('sha256').update(text, 'utf8').digest().readUInt16BE(0) % n;
}

/** Buckets before per-bucket partitions: one partition, sort key = name. Read for migration only. */
export const LEGACY_BUCKETS_PK = 'B';
export const bucketPk = (name: string): string => `B#${name}`;
export const BUCKET_SK = 'B';
/** The gsi1 partition that lists every bucket, sorted by name. */
export const BUCKETS_GSI1PK = 'B';

export const LEDGER_SHARDS = 256;
/** The ledger before sharding; swept like any shard until empty. */
export const LEGACY_LEDGER_PK = 'L';
export const ledgerPk = (sk: string): string => `L#${String(shardOf(sk, LEDGER_SHARDS)).padStart(3, '0')}`;
/** Every partition the ledger may have entries in (the legacy one first). */
export const ledgerPartitions = (): string[] => [LEGACY_LEDGER_PK, ...Array.from({ length: LEDGER_SHARDS }, (_, i) => `L#${String(i).padStart(3, '0')}`)];
export const objectsPk = (bucket: string): string => `O#${bucket}`;
/**
 * The noncurrent versions of one key, newest first (sort key = version sort key). One partition per key: a key may
 * take all 1,024 bytes DynamoDB allows a sort key, so key + version cannot be a sort key, but it fits a partition key.
 * Bucket names hold no '#', so the key is everything after the second one.
 */
export const versionsPk = (bucket: string, key: string): string => `V#${bucket}#${key}`;
/** Multipart uploads of a bucket, sorted by key, then by upload id (which starts with the initiation time). */
export const uploadsPk = (bucket: string): string => `U#${bucket}`;
/** Keys may hold any character; U+0001 only separates, and the upload id after the last one never contains it. */
export const uploadSk = (key: string, uploadId: string): string => `${key}\u0001${uploadId}`;
/** Uploaded parts of one upload (upload ids are random and unique across buckets). */
export const uploadPartsPk = (uploadId: string): string => `P#${uploadId}`;
export const uploadPartSk = (partNumber: number): string => String(partNumber).padStart(5, '0');
/** Manifest chunks of an object with more parts than fit in its own index item. */
export const manifestPk = (objectId: string): string => `M#${objectId}`;
export const manifestChunkSk = (chunk: number): string => String(chunk).padStart(5, '0');
/** Ledger sort key of a whole chunked manifest turned garbage (blob ids are hex, so they never collide). */
export const manifestLedgerSk = (objectId: string): string => `M#${objectId}`;

/**
 * Objects with at most this many parts keep their part list inline: one index read serves a GET, and
 * replacing the object moves every part to the garbage ledger inside one ≤100-op transaction.
 */
export const MAX_INLINE_PARTS = 64;
/** Parts per manifest chunk item: ~220 bytes a part keeps a chunk near 110 KB, far below DynamoDB's 400 KB. */
export const MANIFEST_CHUNK_PARTS = 500;
/**
 * Objects by the CMK that wraps their data key, in OBJECTS_BY_KEY_SHARDS gsi1 partitions per CMK; within one,
 * sorted by key material, so "still on old material" is a range. Read them all with objects-by-key.ts.
 */
export const OBJECTS_BY_KEY_SHARDS = 64;
export const objectsByKeyPk = (keyId: string, objectId: string): string => `K#${keyId}#${String(shardOf(objectId, OBJECTS_BY_KEY_SHARDS)).padStart(2, '0')}`;
/** Every gsi1 partition a CMK's objects may sit in: the one before sharding first, then the shards. */
export const objectsByKeyPartitions = (keyId: string): string[] => [
  `K#${keyId}`,
  ...Array.from({ length: OBJECTS_BY_KEY_SHARDS }, (_, i) => `K#${keyId}#${String(i).padStart(2, '0')}`),
];
// The object id, not the key name: DynamoDB caps index key attributes at 1,024 bytes, and S3 keys alone may
// take all of that. The object id is unique per write, which is all a rewrap scan needs.
export const objectsByKeySk = (keyMaterialId: string, objectId: string): string => `${keyMaterialId}#${objectId}`;

/**
 * The standard HTTP headers S3 keeps with an object and returns on GET and HEAD, by lower-case name. Content-Type
 * has its own field (every object has one); these are kept only when the writer sent them, verbatim (S3 returns an
 * Expires it could not parse as it was sent).
 */
export const STORED_HEADER_NAMES = ['cache-control', 'content-disposition', 'content-encoding', 'content-language', 'expires'] as const;
export type StoredHeaderName = (typeof STORED_HEADER_NAMES)[number];
export type StoredHeaders = Readonly<Partial<Record<StoredHeaderName, string>>>;

export interface BucketRecord {
  readonly name: string;
  readonly createdAt: Date;
  /**
   * The bucket's default encryption (PutBucketEncryption): the ARN of the CMK its new objects are sealed under
   * when a request names none. Absent: the store's active CMK.
   */
  readonly defaultKeyId?: string;
  /**
   * Who created it (access.ts ownerIdOf): decides BucketAlreadyOwnedByYou against BucketAlreadyExists and what
   * ListBuckets shows. Buckets made before owners were recorded read as the root's (ROOT_OWNER).
   */
  readonly owner: string;
  /** PutBucketVersioning's state; absent while versioning was never enabled (it never goes back to absent). */
  readonly versioning?: VersioningState;
}

export type VersioningState = 'Enabled' | 'Suspended';

/**
 * What only the latest entry of a key (its `O#` row) holds about the key's versions. Absent in rows of buckets that
 * never had versioning.
 */
export interface LatestState {
  /** +1 on every change to the key: every versioned change is conditional on it, which orders changes to one key. */
  readonly rev: number;
  /** How many rows the key's version partition holds (ListObjectVersions skips the partition when 0). */
  readonly noncurrent: number;
  /** Where the noncurrent null version sits in the version partition, when one does. */
  readonly nullVk?: string;
}

/**
 * One sealed part of an object: where its blob is and what a reader needs to open it (its header bytes, kept so a
 * range read fetches only frames; its flexible checksum sealed, bound to this blob). The completion manifest
 * (format/manifest-body.ts) seals exactly these fields, so they are declared once, there.
 */
export type PartRecord = ManifestPart;

/**
 * The index entry of an object. It names the object; the blobs only carry random ids.
 * `wrappedKey` is the KMS-wrapped data key: never a plaintext key.
 */
export interface ObjectRecord {
  readonly bucket: string;
  readonly key: string;
  readonly objectId: string;
  readonly size: number;
  readonly etag: string;
  readonly contentType: string;
  /** Empty for objects written before these headers were kept. */
  readonly headers: StoredHeaders;
  readonly userMetadata: Readonly<Record<string, string>>;
  readonly lastModified: Date;
  readonly keyId: string;
  readonly keyMaterialId: string;
  readonly wrappedKey: Buffer;
  readonly wrappedAt: Date;
  readonly parts: readonly PartRecord[];
  /** Whole-object MAC over part count and sizes, keyed from the data key. */
  readonly mac: Buffer;
  /** Binds the contents to this bucket and key name (lambdas/core/name-binding.ts). */
  readonly nameTag: Buffer;
  /**
   * The CMK was chosen for this object, by its request (x-amz-server-side-encryption-aws-kms-key-id) or by its
   * bucket's default encryption: the key lifecycle keeps it under that CMK (rewrapping it onto the CMK's current
   * material) instead of moving it to the active one.
   */
  readonly keyChosen?: boolean;
  /**
   * Set when the part list lives in manifest chunk items (more than MAX_INLINE_PARTS parts). `parts` is then
   * empty in a record read straight from its item, and filled once the service has loaded the chunks.
   */
  readonly manifest?: { readonly chunks: number; readonly partCount: number };
  /**
   * The object's flexible checksum (x-amz-checksum-*: algorithm, type, value), sealed under a key derived from
   * the data key (./object-checksum), never in the clear. Absent for objects stored without one.
   */
  readonly sealedChecksum?: Buffer;
  /**
   * A multipart object's completion manifest (docs/FORMAT.md §14.6): a record-only blob under the same data key that
   * names the object and its part list, so an index rebuilt from the blobs knows the object. It lives and dies with
   * the object (garbage, rewrap and shredding treat it as one more blob). Absent for single-part objects (their one
   * blob's record names them) and for multipart objects completed before manifests were written.
   */
  readonly manifestBlobId?: string;
  /**
   * Written in a bucket with versioning enabled (the version's sort key) or suspended ('null'). Absent: a null
   * version written while the bucket had no versioning (versionIdOf reads it as 'null'). Bound by the name tag v2.
   */
  readonly versionId?: string;
  /** The version's sort key (./version-ids); absent when versionId is (then derived: versionKeyOf). */
  readonly vk?: string;
  /** Set on the latest entry of a key in a bucket that has had versioning. */
  readonly latest?: LatestState;
}

/**
 * A delete marker's record-only blob (docs/FORMAT.md §14.9): sealed under a data key of its own, as part 1 of its own
 * object id, so an index rebuilt from the blobs knows the marker. Its row carries the wrap (and a gsi1 entry under its
 * CMK) like an object's, so key counts, rewrap and retirement see it; the blob lives and dies with the marker.
 */
export interface MarkerSeal {
  readonly objectId: string;
  readonly keyId: string;
  readonly keyMaterialId: string;
  readonly wrappedKey: Buffer;
  readonly wrappedAt: Date;
  readonly blobId: string;
  /** Binds the marker's data key to this bucket, key and version (lambdas/core/name-binding.ts). */
  readonly nameTag: Buffer;
  readonly keyChosen?: boolean;
}

/**
 * A delete marker: a version with no data, made by a DELETE without versionId in a bucket with versioning. The row
 * MAC binds it to its place. `sealed` is its record-only blob; absent in markers written before markers had one
 * (index-only: an index rebuild does not know them).
 */
export interface DeleteMarkerRecord {
  readonly deleteMarker: true;
  readonly bucket: string;
  readonly key: string;
  readonly versionId: string;
  readonly vk: string;
  readonly lastModified: Date;
  readonly latest?: LatestState;
  readonly sealed?: MarkerSeal;
}

/** What one version of a key is: an object or a delete marker. */
export type VersionRecord = ObjectRecord | DeleteMarkerRecord;

export function isDeleteMarker(v: VersionRecord): v is DeleteMarkerRecord {
  return 'deleteMarker' in v;
}
/** The object id a version's blobs are sealed under: an object's, a sealed marker's; undefined for an index-only marker. */
export function versionObjectId(v: VersionRecord): string | undefined {
  return isDeleteMarker(v) ? v.sealed?.objectId : v.objectId;
}
/** The S3 version id of a version: 'null' for rows written without one. */
export function versionIdOf(v: VersionRecord): string {
  return v.versionId ?? NULL_VERSION_ID;
}
/** The version's sort key among its key's versions: stored, or derived for rows from before versioning. */
export function versionKeyOf(v: VersionRecord): string {
  if (v.vk !== undefined) return v.vk;
  return legacyVersionKey(v.lastModified, isDeleteMarker(v) ? '' : v.objectId);
}

export type UploadState = 'open' | 'completing' | 'aborting' | 'completed';

/**
 * A multipart upload in progress. The data key is generated once, at create, and kept wrapped here (and with
 * every part blob); `objectId` is fixed at create because every part is sealed under it.
 */
export interface UploadRecord {
  readonly bucket: string;
  readonly key: string;
  readonly uploadId: string;
  readonly objectId: string;
  readonly keyId: string;
  readonly keyMaterialId: string;
  readonly wrappedKey: Buffer;
  /** As ObjectRecord.keyChosen: the completed object keeps it. */
  readonly keyChosen?: boolean;
  readonly contentType: string;
  /** What the completed object will carry (CreateMultipartUpload's headers). */
  readonly headers: StoredHeaders;
  readonly userMetadata: Readonly<Record<string, string>>;
  readonly initiated: Date;
  /** Last part upload or state change; the upload sweep aborts uploads idle past its age. */
  readonly lastActivity: Date;
  readonly state: UploadState;
  /** Set while one CompleteMultipartUpload holds the upload: only that request may commit it. */
  readonly completionId?: string;
  /** Once completed: the part numbers the object uses, as ranges ("1-37,40"); the other parts are garbage. */
  readonly usedParts?: string;
  /** An upload the service opened itself (to copy a multipart object); not listed by ListMultipartUploads. */
  readonly hidden?: boolean;
  /** x-amz-checksum-algorithm of CreateMultipartUpload: every part must carry that checksum. */
  readonly checksumAlgorithm?: string;
  /** How the object's checksum is made from the parts' (x-amz-checksum-type). */
  readonly checksumType?: ChecksumType;
  /** Once completed: the object's ETag, so a retried CompleteMultipartUpload gets the same answer. */
  readonly completedEtag?: string;
  /** Once completed in a bucket with versioning: the object's version id, for the same answer to a retry. */
  readonly completedVersionId?: string;
}

/** One uploaded part of an upload: a sealed blob, not yet part of any object. */
export interface UploadedPartRecord extends PartRecord {
  readonly lastModified: Date;
  /**
   * Flexible checksum the client sent with the part (e.g. CRC32), checked at complete. Only its keyed tag
   * (sealedChecksum) is kept: a CRC or SHA of the plaintext in the index would confirm guesses of the contents.
   */
  readonly checksum?: { readonly algorithm: string; readonly tag: string };
}

export type LedgerKind = 'pending' | 'garbage' | 'manifest';

/**
 * A blob that may be unreferenced: written but not yet committed, or replaced and not yet deleted.
 * Kind 'manifest' stands for every blob of a chunked manifest at once (`blobId` is then manifestLedgerSk):
 * one entry lets a 10,000-part object turn garbage inside one transaction.
 */
/**
 * Where a pending blob was going: the object (and, for a part, the upload and part number) it was written for.
 * The sweep deletes a pending blob only if that place does not hold it, so an old pending entry put back into
 * the ledger can never get a live blob deleted.
 */
export interface PendingOwner {
  readonly bucket: string;
  readonly key: string;
  readonly objectId: string;
  readonly uploadId?: string;
  readonly partNumber?: number;
}

export interface LedgerRecord {
  readonly blobId: string;
  readonly kind: LedgerKind;
  readonly createdAt: Date;
  /** For kind 'manifest': the object whose manifest chunks list the blobs. */
  readonly objectId?: string;
  /** For kind 'pending': what the blob was written for (absent in entries from before it was recorded). */
  readonly owner?: PendingOwner;
}

function str(attrs: Readonly<Record<string, AttrValue>>, name: string): string {
  const v = attrs[name];
  if (typeof v !== 'string') throw new InternalError(`index item is missing string attribute ${name}`);
  return v;
}
function num(attrs: Readonly<Record<string, AttrValue>>, name: string): number {
  const v = attrs[name];
  if (typeof v !== 'number') throw new InternalError(`index item is missing number attribute ${name}`);
  return v;
}
function buf(attrs: Readonly<Record<string, AttrValue>>, name: string): Buffer {
  const v = attrs[name];
  if (!Buffer.isBuffer(v)) throw new InternalError(`index item is missing binary attribute ${name}`);
  return v;
}
/**
 * User metadata is stored as [name, value] pairs, not a map: the names are the client's, and a name such as
 * `__proto__` must survive every codec on the way (JS objects, util-dynamodb, emulators) as plain data.
 */
function metadataPairs(m: Readonly<Record<string, string>>): AttrValue[] {
  return Object.entries(m).map(([k, v]) => [k, v]);
}
function metadataFrom(v: AttrValue | undefined): Record<string, string> {
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  if (Array.isArray(v)) {
    for (const pair of v) if (Array.isArray(pair) && typeof pair[0] === 'string' && typeof pair[1] === 'string') out[pair[0]] = pair[1];
  }
  return out;
}
/**
 * Stored headers as [name, value] pairs, and only when there are any: a row of an object without them is the row it
 * was before they were kept. Every attribute is under the row's MAC (index-auth), so they cannot be edited at rest.
 */
function headerAttrs(h: StoredHeaders): { headers?: AttrValue[] } {
  const pairs: AttrValue[] = STORED_HEADER_NAMES.flatMap((name) => {
    const value = h[name];
    return value === undefined ? [] : [[name, value]];
  });
  return pairs.length > 0 ? { headers: pairs } : {};
}
function headersFrom(v: AttrValue | undefined): StoredHeaders {
  const out: Partial<Record<StoredHeaderName, string>> = {};
  if (!Array.isArray(v)) return out;
  for (const pair of v) {
    if (!Array.isArray(pair) || typeof pair[1] !== 'string') continue;
    const name = STORED_HEADER_NAMES.find((n) => n === pair[0]);
    if (name !== undefined) out[name] = pair[1];
  }
  return out;
}
function isMap(v: AttrValue | undefined): v is { [name: string]: AttrValue } {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !Buffer.isBuffer(v);
}

// The owner sits among the attributes, so the row MAC (index-auth) covers it: an edited owner is a tampered row.
export function bucketItem(b: BucketRecord): IndexItem {
  return {
    pk: bucketPk(b.name),
    sk: BUCKET_SK,
    gsi1pk: BUCKETS_GSI1PK,
    gsi1sk: b.name,
    attrs: {
      createdAt: b.createdAt.getTime(),
      owner: b.owner,
      ...(b.defaultKeyId !== undefined ? { defaultKeyId: b.defaultKeyId } : {}),
      ...(b.versioning !== undefined ? { versioning: b.versioning } : {}),
    },
  };
}
/** A bucket item of either layout: its own partition, or the one shared partition before it. */
export function bucketFromItem(item: IndexItem): BucketRecord {
  const name = item.pk === LEGACY_BUCKETS_PK ? item.sk : item.pk.slice('B#'.length);
  const owner = item.attrs['owner'];
  const defaultKeyId = item.attrs['defaultKeyId'];
  const versioning = item.attrs['versioning'];
  // A bucket made before owners were recorded belongs to the deployment: its root.
  return {
    name,
    createdAt: new Date(num(item.attrs, 'createdAt')),
    owner: typeof owner === 'string' ? owner : ROOT_OWNER,
    ...(typeof defaultKeyId === 'string' ? { defaultKeyId } : {}),
    ...(versioning === 'Enabled' || versioning === 'Suspended' ? { versioning } : {}),
  };
}

/** The latest entry of a key (`O#<bucket>` / key): an object or a delete marker, with the key's LatestState. */
export function latestItem(v: VersionRecord): IndexItem {
  const body = versionItem(v);
  return { ...body, pk: objectsPk(v.bucket), sk: v.key, attrs: { ...body.attrs, ...latestAttrs(v.latest) } };
}
/** Kept for the callers that only ever write objects (rewrap keeps a row where it stands: rowAt). */
export function objectItem(o: ObjectRecord): IndexItem {
  return latestItem(o);
}
/** The item for `v` at the place `like` stands (its latest entry or its row in the version partition). */
export function rowAt(like: IndexItem, v: VersionRecord): IndexItem {
  return like.pk.startsWith('V#') ? versionItem(v) : latestItem(v);
}

function latestAttrs(l: LatestState | undefined): { [name: string]: AttrValue } {
  if (l === undefined) return {};
  return { rev: l.rev, noncurrent: l.noncurrent, ...(l.nullVk !== undefined ? { nullVk: l.nullVk } : {}) };
}
function latestFrom(a: Readonly<Record<string, AttrValue>>): LatestState | undefined {
  const rev = a['rev'];
  if (typeof rev !== 'number') return undefined;
  const nullVk = a['nullVk'];
  return { rev, noncurrent: num(a, 'noncurrent'), ...(typeof nullVk === 'string' ? { nullVk } : {}) };
}
function versionAttrs(v: VersionRecord): { [name: string]: AttrValue } {
  return { ...(v.versionId !== undefined ? { versionId: v.versionId } : {}), ...(v.vk !== undefined ? { vk: v.vk } : {}) };
}

/** A noncurrent version's row (`V#<bucket>#<key>` / its sort key): what it held as latest entry, minus LatestState. */
export function versionItem(v: VersionRecord): IndexItem {
  const pk = versionsPk(v.bucket, v.key);
  const sk = versionKeyOf(v);
  if (isDeleteMarker(v)) return markerItem(pk, sk, v);
  const o = v;
  return {
    pk,
    sk,
    gsi1pk: objectsByKeyPk(o.keyId, o.objectId),
    gsi1sk: objectsByKeySk(o.keyMaterialId, o.objectId),
    attrs: {
      bucket: o.bucket,
      objectId: o.objectId,
      size: o.size,
      etag: o.etag,
      contentType: o.contentType,
      ...headerAttrs(o.headers),
      userMetadata: metadataPairs(o.userMetadata),
      lastModified: o.lastModified.getTime(),
      keyId: o.keyId,
      keyMaterialId: o.keyMaterialId,
      wrappedKey: o.wrappedKey,
      wrappedAt: o.wrappedAt.getTime(),
      parts: o.manifest ? [] : o.parts.map(partAttrs),
      ...(o.manifest ? { manifestChunks: o.manifest.chunks, partCount: o.manifest.partCount } : {}),
      mac: o.mac,
      nameTag: o.nameTag,
      ...(o.keyChosen ? { keyChosen: true } : {}),
      ...(o.sealedChecksum ? { sealedChecksum: o.sealedChecksum } : {}),
      ...(o.manifestBlobId !== undefined ? { manifestBlobId: o.manifestBlobId } : {}),
      ...versionAttrs(o),
    },
  };
}

function markerItem(pk: string, sk: string, v: DeleteMarkerRecord): IndexItem {
  const attrs = { bucket: v.bucket, deleteMarker: true, lastModified: v.lastModified.getTime(), ...versionAttrs(v) };
  const m = v.sealed;
  if (m === undefined) return { pk, sk, attrs };
  return {
    pk,
    sk,
    gsi1pk: objectsByKeyPk(m.keyId, m.objectId),
    gsi1sk: objectsByKeySk(m.keyMaterialId, m.objectId),
    attrs: {
      ...attrs,
      objectId: m.objectId,
      keyId: m.keyId,
      keyMaterialId: m.keyMaterialId,
      wrappedKey: m.wrappedKey,
      wrappedAt: m.wrappedAt.getTime(),
      markerBlobId: m.blobId,
      nameTag: m.nameTag,
      ...(m.keyChosen ? { keyChosen: true } : {}),
    },
  };
}

function markerSealFrom(a: Readonly<Record<string, AttrValue>>): MarkerSeal | undefined {
  if (typeof a['markerBlobId'] !== 'string') return undefined;
  return {
    objectId: str(a, 'objectId'),
    keyId: str(a, 'keyId'),
    keyMaterialId: str(a, 'keyMaterialId'),
    wrappedKey: buf(a, 'wrappedKey'),
    wrappedAt: new Date(num(a, 'wrappedAt')),
    blobId: str(a, 'markerBlobId'),
    nameTag: buf(a, 'nameTag'),
    ...(a['keyChosen'] === true ? { keyChosen: true } : {}),
  };
}

function partAttrs(p: PartRecord): { [name: string]: AttrValue } {
  return {
    partNumber: p.partNumber,
    blobId: p.blobId,
    plaintextSize: p.plaintextSize,
    sealedSize: p.sealedSize,
    header: p.header,
    etag: p.etag,
    ...(p.sealedChecksum ? { sealedChecksum: p.sealedChecksum } : {}),
  };
}

function partFromAttrs(p: AttrValue): PartRecord {
  if (!isMap(p)) throw new InternalError('index item has a malformed part');
  return {
    partNumber: num(p, 'partNumber'),
    blobId: str(p, 'blobId'),
    plaintextSize: num(p, 'plaintextSize'),
    sealedSize: num(p, 'sealedSize'),
    header: buf(p, 'header'),
    etag: str(p, 'etag'),
    ...(Buffer.isBuffer(p['sealedChecksum']) ? { sealedChecksum: p['sealedChecksum'] } : {}),
  };
}

/**
 * The bucket and key a row stands for are where it stands (its pk and sk), never what its attributes say: a row
 * whose attributes name another place was moved, and is refused rather than served as either.
 */
function placedAt(item: IndexItem, pk: string, sk: string): void {
  if (item.pk !== pk || item.sk !== sk) {
    throw new IntegrityError(`index row ${JSON.stringify(item.pk)} / ${JSON.stringify(item.sk)} describes ${JSON.stringify(pk)} / ${JSON.stringify(sk)}: it was moved; refusing it`);
  }
}

/** The latest entry of a key, object or delete marker, from its `O#` row. */
export function latestFromItem(item: IndexItem): VersionRecord {
  const a = item.attrs;
  const bucket = str(a, 'bucket');
  placedAt(item, objectsPk(bucket), item.sk);
  const body = versionBody(item, bucket, item.sk);
  const latest = latestFrom(a);
  return latest ? { ...body, latest } : body;
}

/** A noncurrent version from its `V#` row; where it stands (partition and sort key) must be what it says it is. */
export function noncurrentFromItem(item: IndexItem): VersionRecord {
  const bucket = str(item.attrs, 'bucket');
  const prefix = `V#${bucket}#`;
  if (!item.pk.startsWith(prefix)) placedAt(item, prefix, item.sk);
  const body = versionBody(item, bucket, item.pk.slice(prefix.length));
  placedAt(item, item.pk, versionKeyOf(body));
  return body;
}

/** Any row that holds a version, wherever it stands (the gsi1 walks of the key lifecycle meet both kinds). */
export function anyVersionFromItem(item: IndexItem): VersionRecord {
  return item.pk.startsWith('V#') ? noncurrentFromItem(item) : latestFromItem(item);
}

/** An object row (latest entry or noncurrent version); a delete marker there is refused. */
export function objectFromItem(item: IndexItem): ObjectRecord {
  const v = anyVersionFromItem(item);
  if (isDeleteMarker(v)) throw new InternalError(`index row ${JSON.stringify(item.pk)} / ${JSON.stringify(item.sk)} is a delete marker, not an object`);
  return v;
}

function versionBody(item: IndexItem, bucket: string, key: string): VersionRecord {
  const a = item.attrs;
  const versionId = a['versionId'];
  const vk = a['vk'];
  const version = { ...(typeof versionId === 'string' ? { versionId } : {}), ...(typeof vk === 'string' ? { vk } : {}) };
  // A stored id is either 'null' or the version's own sort key: a row whose id names another version was moved.
  if (version.versionId !== undefined && version.versionId !== NULL_VERSION_ID && version.versionId !== version.vk) {
    throw new IntegrityError(`index row ${JSON.stringify(item.pk)} / ${JSON.stringify(item.sk)} names version ${version.versionId} but sorts as ${String(version.vk)}; refusing it`);
  }
  if (a['deleteMarker'] === true) {
    if (version.versionId === undefined || version.vk === undefined) throw new InternalError('a delete marker row is missing its version');
    const sealed = markerSealFrom(a);
    return { deleteMarker: true, bucket, key, versionId: version.versionId, vk: version.vk, lastModified: new Date(num(a, 'lastModified')), ...(sealed ? { sealed } : {}) };
  }
  return { ...objectBody(item, bucket, key), ...version };
}

function objectBody(item: IndexItem, bucket: string, key: string): ObjectRecord {
  const a = item.attrs;
  const userMetadata = metadataFrom(a['userMetadata']);
  const rawParts = a['parts'];
  if (!Array.isArray(rawParts)) throw new InternalError('index item is missing its part list');
  const parts = rawParts.map(partFromAttrs);
  const chunks = a['manifestChunks'];
  const manifest = typeof chunks === 'number' ? { chunks, partCount: num(a, 'partCount') } : undefined;
  return {
    bucket,
    key,
    objectId: str(a, 'objectId'),
    size: num(a, 'size'),
    etag: str(a, 'etag'),
    contentType: str(a, 'contentType'),
    headers: headersFrom(a['headers']),
    userMetadata,
    lastModified: new Date(num(a, 'lastModified')),
    keyId: str(a, 'keyId'),
    keyMaterialId: str(a, 'keyMaterialId'),
    wrappedKey: buf(a, 'wrappedKey'),
    wrappedAt: new Date(num(a, 'wrappedAt')),
    parts,
    mac: buf(a, 'mac'),
    nameTag: buf(a, 'nameTag'),
    ...(a['keyChosen'] === true ? { keyChosen: true } : {}),
    ...(manifest ? { manifest } : {}),
    ...(Buffer.isBuffer(a['sealedChecksum']) ? { sealedChecksum: a['sealedChecksum'] } : {}),
    ...(typeof a['manifestBlobId'] === 'string' ? { manifestBlobId: a['manifestBlobId'] } : {}),
  };
}

/** A sealed delete marker's one blob; none for an index-only marker. */
export function markerBlobIds(m: DeleteMarkerRecord): string[] {
  return m.sealed === undefined ? [] : [m.sealed.blobId];
}

/** Every blob an object holds besides its parts (today: its completion manifest), for garbage, rewrap and shredding. */
export function extraBlobIds(o: ObjectRecord): string[] {
  return o.manifestBlobId === undefined ? [] : [o.manifestBlobId];
}

/** One chunk of a manifest: parts [chunk × MANIFEST_CHUNK_PARTS, …) of the object, in part-number order. */
export function manifestChunkItem(objectId: string, chunk: number, parts: readonly PartRecord[]): IndexItem {
  return { pk: manifestPk(objectId), sk: manifestChunkSk(chunk), attrs: { parts: parts.map(partAttrs) } };
}
export function partsFromManifestChunk(item: IndexItem): PartRecord[] {
  const raw = item.attrs['parts'];
  if (!Array.isArray(raw)) throw new InternalError('manifest chunk is missing its part list');
  return raw.map(partFromAttrs);
}

export function uploadItem(u: UploadRecord): IndexItem {
  return {
    pk: uploadsPk(u.bucket),
    sk: uploadSk(u.key, u.uploadId),
    attrs: {
      bucket: u.bucket,
      key: u.key,
      uploadId: u.uploadId,
      objectId: u.objectId,
      keyId: u.keyId,
      keyMaterialId: u.keyMaterialId,
      wrappedKey: u.wrappedKey,
      ...(u.keyChosen ? { keyChosen: true } : {}),
      contentType: u.contentType,
      ...headerAttrs(u.headers),
      userMetadata: metadataPairs(u.userMetadata),
      initiated: u.initiated.getTime(),
      lastActivity: u.lastActivity.getTime(),
      state: u.state,
      ...(u.completionId !== undefined ? { completionId: u.completionId } : {}),
      ...(u.usedParts !== undefined ? { usedParts: u.usedParts } : {}),
      ...(u.hidden ? { hidden: true } : {}),
      ...(u.checksumAlgorithm !== undefined ? { checksumAlgorithm: u.checksumAlgorithm } : {}),
      ...(u.checksumType !== undefined ? { checksumType: u.checksumType } : {}),
      ...(u.completedEtag !== undefined ? { completedEtag: u.completedEtag } : {}),
      ...(u.completedVersionId !== undefined ? { completedVersionId: u.completedVersionId } : {}),
    },
  };
}
export function uploadFromItem(item: IndexItem): UploadRecord {
  const a = item.attrs;
  placedAt(item, uploadsPk(str(a, 'bucket')), uploadSk(str(a, 'key'), str(a, 'uploadId')));
  const state = str(a, 'state');
  if (state !== 'open' && state !== 'completing' && state !== 'aborting' && state !== 'completed') {
    throw new InternalError(`upload item has unknown state ${state}`);
  }
  return {
    bucket: str(a, 'bucket'),
    key: str(a, 'key'),
    uploadId: str(a, 'uploadId'),
    objectId: str(a, 'objectId'),
    keyId: str(a, 'keyId'),
    keyMaterialId: str(a, 'keyMaterialId'),
    wrappedKey: buf(a, 'wrappedKey'),
    ...(a['keyChosen'] === true ? { keyChosen: true } : {}),
    contentType: str(a, 'contentType'),
    headers: headersFrom(a['headers']),
    userMetadata: metadataFrom(a['userMetadata']),
    initiated: new Date(num(a, 'initiated')),
    lastActivity: new Date(num(a, 'lastActivity')),
    state,
    ...(typeof a['completionId'] === 'string' ? { completionId: a['completionId'] } : {}),
    ...(typeof a['usedParts'] === 'string' ? { usedParts: a['usedParts'] } : {}),
    ...(a['hidden'] === true ? { hidden: true } : {}),
    ...(typeof a['checksumAlgorithm'] === 'string' ? { checksumAlgorithm: a['checksumAlgorithm'] } : {}),
    ...(a['checksumType'] === 'COMPOSITE' || a['checksumType'] === 'FULL_OBJECT' ? { checksumType: a['checksumType'] } : {}),
    ...(typeof a['completedEtag'] === 'string' ? { completedEtag: a['completedEtag'] } : {}),
    ...(typeof a['completedVersionId'] === 'string' ? { completedVersionId: a['completedVersionId'] } : {}),
  };
}

export function uploadedPartItem(uploadId: string, p: UploadedPartRecord): IndexItem {
  return {
    pk: uploadPartsPk(uploadId),
    sk: uploadPartSk(p.partNumber),
    attrs: {
      ...partAttrs(p),
      lastModified: p.lastModified.getTime(),
      ...(p.checksum ? { checksumAlgorithm: p.checksum.algorithm, checksumTag: p.checksum.tag } : {}),
    },
  };
}
export function uploadedPartFromItem(item: IndexItem): UploadedPartRecord {
  const a = item.attrs;
  const algorithm = a['checksumAlgorithm'];
  const tag = a['checksumTag'];
  return {
    ...partFromAttrs(a),
    lastModified: new Date(num(a, 'lastModified')),
    ...(typeof algorithm === 'string' && typeof tag === 'string' ? { checksum: { algorithm, tag } } : {}),
  };
}

export function ledgerItem(l: LedgerRecord): IndexItem {
  return {
    pk: ledgerPk(l.blobId),
    sk: l.blobId,
    attrs: {
      kind: l.kind,
      createdAt: l.createdAt.getTime(),
      ...(l.objectId !== undefined ? { objectId: l.objectId } : {}),
      ...(l.owner !== undefined
        ? {
            owner: {
              bucket: l.owner.bucket,
              key: l.owner.key,
              objectId: l.owner.objectId,
              ...(l.owner.uploadId !== undefined ? { uploadId: l.owner.uploadId } : {}),
              ...(l.owner.partNumber !== undefined ? { partNumber: l.owner.partNumber } : {}),
            },
          }
        : {}),
    },
  };
}
/** The ledger entry that marks every blob of an object's chunked manifest as garbage. */
export function manifestGarbageItem(objectId: string, createdAt: Date): IndexItem {
  return ledgerItem({ blobId: manifestLedgerSk(objectId), kind: 'manifest', createdAt, objectId });
}
export function ledgerFromItem(item: IndexItem): LedgerRecord {
  const kind = str(item.attrs, 'kind');
  const createdAt = new Date(num(item.attrs, 'createdAt'));
  if (kind === 'manifest') return { blobId: item.sk, kind, createdAt, objectId: str(item.attrs, 'objectId') };
  // Unknown kinds read as pending: the sweep then only removes them once they are old.
  if (kind === 'garbage') return { blobId: item.sk, kind, createdAt };
  const owner = item.attrs['owner'];
  // A bucket made before owners were recorded belongs to the deployment: its root.
  return { blobId: item.sk, kind: 'pending', createdAt, ...(isMap(owner) ? { owner: ownerFrom(owner) } : {}) };
}

function ownerFrom(a: { [name: string]: AttrValue }): PendingOwner {
  const uploadId = a['uploadId'];
  const partNumber = a['partNumber'];
  return {
    bucket: str(a, 'bucket'),
    key: str(a, 'key'),
    objectId: str(a, 'objectId'),
    ...(typeof uploadId === 'string' ? { uploadId } : {}),
    ...(typeof partNumber === 'number' ? { partNumber } : {}),
  };
}
