// Item shapes of the object index: how buckets, objects and the blob ledger sit in the pk/sk/gsi1 table.
// docs/TABLE-DESIGN.md documents the same shapes; change both together.
import type { AttrValue, IndexItem } from './ports';
import { InternalError } from './errors';

export const BUCKETS_PK = 'B';
export const LEDGER_PK = 'L';
export const objectsPk = (bucket: string): string => `O#${bucket}`;
/** Objects by the CMK that wraps their data key; sorted by key material, so "still on old material" is a range. */
export const objectsByKeyPk = (keyId: string): string => `K#${keyId}`;
export const objectsByKeySk = (keyMaterialId: string, bucket: string, key: string): string =>
  `${keyMaterialId}#${bucket}/${key}`;

export interface BucketRecord {
  readonly name: string;
  readonly createdAt: Date;
}

/** One sealed part of an object: where its blob is and what a reader needs to open it. */
export interface PartRecord {
  readonly partNumber: number;
  readonly blobId: string;
  readonly plaintextSize: number;
  readonly sealedSize: number;
  /** The sealed part's header bytes (not secret); kept here so a range read fetches only frames. */
  readonly header: Buffer;
  readonly etag: string;
}

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
  readonly userMetadata: Readonly<Record<string, string>>;
  readonly lastModified: Date;
  readonly keyId: string;
  readonly keyMaterialId: string;
  readonly wrappedKey: Buffer;
  readonly wrappedAt: Date;
  readonly parts: readonly PartRecord[];
  /** Whole-object MAC over part count and sizes, keyed from the data key. */
  readonly mac: Buffer;
}

export type LedgerKind = 'pending' | 'garbage';

/** A blob that may be unreferenced: written but not yet committed, or replaced and not yet deleted. */
export interface LedgerRecord {
  readonly blobId: string;
  readonly kind: LedgerKind;
  readonly createdAt: Date;
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
function isMap(v: AttrValue | undefined): v is { [name: string]: AttrValue } {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !Buffer.isBuffer(v);
}

export function bucketItem(b: BucketRecord): IndexItem {
  return { pk: BUCKETS_PK, sk: b.name, attrs: { createdAt: b.createdAt.getTime() } };
}
export function bucketFromItem(item: IndexItem): BucketRecord {
  return { name: item.sk, createdAt: new Date(num(item.attrs, 'createdAt')) };
}

export function objectItem(o: ObjectRecord): IndexItem {
  return {
    pk: objectsPk(o.bucket),
    sk: o.key,
    gsi1pk: objectsByKeyPk(o.keyId),
    gsi1sk: objectsByKeySk(o.keyMaterialId, o.bucket, o.key),
    attrs: {
      bucket: o.bucket,
      objectId: o.objectId,
      size: o.size,
      etag: o.etag,
      contentType: o.contentType,
      userMetadata: { ...o.userMetadata },
      lastModified: o.lastModified.getTime(),
      keyId: o.keyId,
      keyMaterialId: o.keyMaterialId,
      wrappedKey: o.wrappedKey,
      wrappedAt: o.wrappedAt.getTime(),
      parts: o.parts.map((p) => ({
        partNumber: p.partNumber,
        blobId: p.blobId,
        plaintextSize: p.plaintextSize,
        sealedSize: p.sealedSize,
        header: p.header,
        etag: p.etag,
      })),
      mac: o.mac,
    },
  };
}

export function objectFromItem(item: IndexItem): ObjectRecord {
  const a = item.attrs;
  const meta = a['userMetadata'];
  const userMetadata: Record<string, string> = {};
  if (isMap(meta)) for (const [k, v] of Object.entries(meta)) if (typeof v === 'string') userMetadata[k] = v;
  const rawParts = a['parts'];
  if (!Array.isArray(rawParts)) throw new InternalError('index item is missing its part list');
  const parts = rawParts.map((p): PartRecord => {
    if (!isMap(p)) throw new InternalError('index item has a malformed part');
    return {
      partNumber: num(p, 'partNumber'),
      blobId: str(p, 'blobId'),
      plaintextSize: num(p, 'plaintextSize'),
      sealedSize: num(p, 'sealedSize'),
      header: buf(p, 'header'),
      etag: str(p, 'etag'),
    };
  });
  return {
    bucket: str(a, 'bucket'),
    key: item.sk,
    objectId: str(a, 'objectId'),
    size: num(a, 'size'),
    etag: str(a, 'etag'),
    contentType: str(a, 'contentType'),
    userMetadata,
    lastModified: new Date(num(a, 'lastModified')),
    keyId: str(a, 'keyId'),
    keyMaterialId: str(a, 'keyMaterialId'),
    wrappedKey: buf(a, 'wrappedKey'),
    wrappedAt: new Date(num(a, 'wrappedAt')),
    parts,
    mac: buf(a, 'mac'),
  };
}

export function ledgerItem(l: LedgerRecord): IndexItem {
  return { pk: LEDGER_PK, sk: l.blobId, attrs: { kind: l.kind, createdAt: l.createdAt.getTime() } };
}
export function ledgerFromItem(item: IndexItem): LedgerRecord {
  const kind = str(item.attrs, 'kind');
  return {
    blobId: item.sk,
    kind: kind === 'garbage' ? 'garbage' : 'pending',
    createdAt: new Date(num(item.attrs, 'createdAt')),
  };
}
