// Who a sealed part belongs to, and its one canonical byte encoding used in HKDF info, AAD and the object MAC.
import { MANIFEST_PART_NUMBER, MAX_NAME_BYTES, MAX_PART_NUMBER, MIN_PART_NUMBER } from './constants';

/** The name a part is sealed under. Every key, nonce context and tag of the part is bound to it. */
export interface PartIdentity {
  readonly bucket: string;
  readonly objectId: string;
  readonly partNumber: number;
}

/** u16 length || UTF-8 bytes: length prefixes keep ("ab","c") and ("a","bc") apart. */
export function encodeName(field: string, value: string): Buffer {
  const bytes = Buffer.from(value, 'utf8');
  if (bytes.length === 0 || bytes.length > MAX_NAME_BYTES) {
    throw new RangeError(`${field} must be 1..${MAX_NAME_BYTES} UTF-8 bytes`);
  }
  const out = Buffer.allocUnsafe(2 + bytes.length);
  out.writeUInt16BE(bytes.length, 0);
  bytes.copy(out, 2);
  return out;
}

export function assertPartNumber(partNumber: number): void {
  if (!Number.isInteger(partNumber) || partNumber < MIN_PART_NUMBER || partNumber > MAX_PART_NUMBER) {
    throw new RangeError(`partNumber must be an integer in ${MIN_PART_NUMBER}..${MAX_PART_NUMBER}`);
  }
}

/** bucket(u16-prefixed) || objectId(u16-prefixed): the object part of every binding. */
export function encodeObjectName(bucket: string, objectId: string): Buffer {
  return Buffer.concat([encodeName('bucket', bucket), encodeName('objectId', objectId)]);
}

/** A sealing's part number: a real part's (1..10,000), or the completion manifest's (§14.6). */
export function assertSealedPartNumber(partNumber: number): void {
  if (partNumber !== MANIFEST_PART_NUMBER) assertPartNumber(partNumber);
}

/** bucket || objectId || u32 partNumber. */
export function encodeIdentity(id: PartIdentity): Buffer {
  assertSealedPartNumber(id.partNumber);
  const part = Buffer.allocUnsafe(4);
  part.writeUInt32BE(id.partNumber, 0);
  return Buffer.concat([encodeObjectName(id.bucket, id.objectId), part]);
}
