// Key schedule: the data key is only ever HKDF input; per-part AES keys, commitments and the MAC key derive from it.
import { createHmac, createSecretKey, type KeyObject } from 'node:crypto';
import {
  KEY_SIZE,
  LABEL_COMMITMENT,
  LABEL_OBJECT_MAC_KEY,
  LABEL_PART_KEY,
  LABEL_RECORD_KEY,
  SALT_SIZE,
} from './constants';
import { encodeIdentity, encodeObjectName, type PartIdentity } from './identity';

export function assertDataKey(dataKey: Buffer): void {
  if (!Buffer.isBuffer(dataKey) || dataKey.length !== KEY_SIZE) {
    throw new RangeError(`data key must be ${KEY_SIZE} bytes`);
  }
}

export function assertSalt(salt: Buffer): void {
  if (!Buffer.isBuffer(salt) || salt.length !== SALT_SIZE) throw new RangeError(`salt must be ${SALT_SIZE} bytes`);
}

/** label || 0x00 || fields: the NUL ends the label so no label is a prefix of another's info. */
export function hkdfInfo(label: string, ...fields: Buffer[]): Buffer {
  return Buffer.concat([Buffer.from(label, 'ascii'), Buffer.alloc(1), ...fields]);
}

/** HKDF-Extract (RFC 5869): PRK = HMAC-SHA256(salt, ikm); an empty salt is HashLen zero bytes. */
function hkdfExtract(salt: Buffer, ikm: Buffer): Buffer {
  return createHmac('sha256', salt.length > 0 ? salt : Buffer.alloc(32)).update(ikm).digest();
}

/**
 * HKDF-Expand (RFC 5869) for L = 32, which is one block: T(1) = HMAC-SHA256(PRK, info || 0x01).
 * Done with HMAC rather than crypto.hkdfSync so one Extract serves both part key and commitment
 * (hkdfSync costs ~25 µs a call here; the vector test checks equality with hkdfSync).
 */
function hkdfExpand32(prk: Buffer, info: Buffer): Buffer {
  return createHmac('sha256', prk).update(info).update(ONE).digest();
}
const ONE = Buffer.from([1]);

export interface PartKeys {
  /** AES-256-GCM key of this part's frames; unique per (data key, salt). */
  readonly frameKey: KeyObject;
  /** Published in the header; recomputed and compared before any frame is opened. */
  readonly commitment: Buffer;
  /** Version 2 only (asked for with `withRecordKey`): the AES-256-GCM key of the part's metadata record. */
  readonly recordKey?: Buffer;
}

/**
 * partKey    = HKDF-SHA256(ikm = dataKey, salt, info = "…/part-key"   || 0x00 || headerPrefix || identity, 32)
 * commitment = HKDF-SHA256(ikm = dataKey, salt, info = "…/commitment" || 0x00 || headerPrefix || identity, 32)
 */
export function derivePartKeys(
  dataKey: Buffer,
  salt: Buffer,
  headerPrefix: Buffer,
  id: PartIdentity,
  withRecordKey = false,
): PartKeys {
  assertDataKey(dataKey);
  assertSalt(salt);
  const identity = encodeIdentity(id);
  const prk = hkdfExtract(salt, dataKey);
  const partKey = hkdfExpand32(prk, hkdfInfo(LABEL_PART_KEY, headerPrefix, identity));
  const commitment = hkdfExpand32(prk, hkdfInfo(LABEL_COMMITMENT, headerPrefix, identity));
  // recordKey = HKDF-SHA256(ikm = dataKey, salt, info = "…/v2/record-key" || 0x00 || headerPrefix || identity, 32):
  // one more HMAC from the same PRK, unique per sealing like the part key.
  const recordKey = withRecordKey ? hkdfExpand32(prk, hkdfInfo(LABEL_RECORD_KEY, headerPrefix, identity)) : undefined;
  const frameKey = createSecretKey(partKey);
  partKey.fill(0);
  prk.fill(0);
  return { frameKey, commitment, ...(recordKey ? { recordKey } : {}) };
}

/** macKey = HKDF-SHA256(ikm = dataKey, salt = empty, info = "…/object-mac-key" || 0x00 || version || bucket || objectId, 32) */
export function deriveObjectMacKey(dataKey: Buffer, version: number, bucket: string, objectId: string): Buffer {
  assertDataKey(dataKey);
  const prk = hkdfExtract(Buffer.alloc(0), dataKey);
  const macKey = hkdfExpand32(prk, hkdfInfo(LABEL_OBJECT_MAC_KEY, Buffer.from([version]), encodeObjectName(bucket, objectId)));
  prk.fill(0);
  return macKey;
}
