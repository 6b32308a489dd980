// Whole-object integrity: an HMAC over the ordered list of parts (number, size, header), keyed from the data key.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { IntegrityError } from '../errors';
import {
  HEADER_SIZE,
  LABEL_OBJECT_MAC,
  MAX_OBJECT_SIZE,
  MAX_PART_NUMBER,
  OBJECT_MAC_SIZE,
  OBJECT_MAC_VERSION,
} from './constants';
import { assertPlaintextSize } from './geometry';
import { assertPartNumber } from './identity';
import { deriveObjectMacKey, hkdfInfo } from './keys';

export interface PartDigestInput {
  readonly partNumber: number;
  readonly plaintextSize: number;
  readonly header: Buffer;
}

/** Parts must be listed in strictly ascending part number order, as S3 completes a multipart upload. */
function assertParts(parts: readonly PartDigestInput[]): void {
  if (parts.length === 0 || parts.length > MAX_PART_NUMBER) {
    throw new RangeError(`an object has 1..${MAX_PART_NUMBER} parts`);
  }
  let previous = 0;
  let total = 0;
  for (const part of parts) {
    assertPartNumber(part.partNumber);
    if (part.partNumber <= previous) throw new RangeError('parts must be in strictly ascending part number order');
    previous = part.partNumber;
    assertPlaintextSize(part.plaintextSize);
    total += part.plaintextSize;
    if (!Buffer.isBuffer(part.header) || part.header.length !== HEADER_SIZE) {
      throw new RangeError(`a part header is exactly ${HEADER_SIZE} bytes`);
    }
  }
  if (total > MAX_OBJECT_SIZE) throw new RangeError(`an object holds at most ${MAX_OBJECT_SIZE} bytes`);
}

/**
 * mac = HMAC-SHA256(macKey, "…/object-mac" || 0x00 || u8 version || u32 partCount
 *                            || for each part: u32 partNumber || u64 plaintextSize || header)
 * Headers carry each part's salt and commitment, so the MAC pins the exact blobs, not just their sizes.
 */
export function computeObjectMac(
  dataKey: Buffer,
  bucket: string,
  objectId: string,
  parts: readonly PartDigestInput[],
): Buffer {
  assertParts(parts);
  const macKey = deriveObjectMacKey(dataKey, OBJECT_MAC_VERSION, bucket, objectId);
  const hmac = createHmac('sha256', macKey);
  macKey.fill(0);
  const count = Buffer.allocUnsafe(5);
  count.writeUInt8(OBJECT_MAC_VERSION, 0);
  count.writeUInt32BE(parts.length, 1);
  hmac.update(hkdfInfo(LABEL_OBJECT_MAC, count));
  const entry = Buffer.allocUnsafe(12);
  for (const part of parts) {
    entry.writeUInt32BE(part.partNumber, 0);
    entry.writeUInt32BE(Math.floor(part.plaintextSize / 2 ** 32), 4);
    entry.writeUInt32BE(part.plaintextSize >>> 0, 8);
    hmac.update(entry);
    hmac.update(part.header);
  }
  return hmac.digest();
}

/** Throws IntegrityError unless `mac` is the object MAC of exactly these parts; compares in constant time. */
export function verifyObjectMac(
  dataKey: Buffer,
  bucket: string,
  objectId: string,
  parts: readonly PartDigestInput[],
  mac: Buffer,
): void {
  let expected: Buffer;
  try {
    expected = computeObjectMac(dataKey, bucket, objectId, parts);
  } catch (error) {
    // The part list comes from the index: a malformed one is tampering, not a caller bug.
    if (error instanceof RangeError) throw new IntegrityError(`object part list is invalid: ${error.message}`);
    throw error;
  }
  if (!Buffer.isBuffer(mac) || mac.length !== OBJECT_MAC_SIZE || !timingSafeEqual(expected, mac)) {
    throw new IntegrityError('object MAC does not match its parts');
  }
}
