// The fixed-size header opening every sealed part: encoding and strict parsing.
import { IntegrityError } from '../errors';
import {
  COMMITMENT_SIZE,
  FORMAT_VERSION_1,
  FORMAT_VERSION_2,
  HEADER_PREFIX_SIZE,
  HEADER_SIZE,
  MAGIC,
  MAX_FRAME_SIZE,
  MIN_FRAME_SIZE,
  SALT_SIZE,
  SUITE_AES256_GCM_HKDF_SHA256,
} from './constants';

export interface ParsedHeader {
  readonly version: FormatVersion;
  readonly frameSize: number;
  readonly salt: Buffer;
  readonly commitment: Buffer;
}

export function assertFrameSize(frameSize: number): void {
  if (!Number.isInteger(frameSize) || frameSize < MIN_FRAME_SIZE || frameSize > MAX_FRAME_SIZE) {
    throw new RangeError(`frameSize must be an integer in ${MIN_FRAME_SIZE}..${MAX_FRAME_SIZE}`);
  }
}

export type FormatVersion = typeof FORMAT_VERSION_1 | typeof FORMAT_VERSION_2;

function isFormatVersion(version: number): version is FormatVersion {
  return version === FORMAT_VERSION_1 || version === FORMAT_VERSION_2;
}

/** The 12 bytes before the salt; they enter key derivation, so the commitment authenticates them (and the version). */
export function encodeHeaderPrefix(frameSize: number, version: FormatVersion): Buffer {
  assertFrameSize(frameSize);
  const prefix = Buffer.alloc(HEADER_PREFIX_SIZE);
  MAGIC.copy(prefix, 0);
  prefix.writeUInt8(version, 4);
  prefix.writeUInt8(SUITE_AES256_GCM_HKDF_SHA256, 5);
  // bytes 6..7 reserved, zero
  prefix.writeUInt32BE(frameSize, 8);
  return prefix;
}

export function encodeHeader(prefix: Buffer, salt: Buffer, commitment: Buffer): Buffer {
  return Buffer.concat([prefix, salt, commitment], HEADER_SIZE);
}

/**
 * Reads the first HEADER_SIZE bytes. Anything malformed is an IntegrityError: headers are stored data,
 * so a bad one means tampering or corruption. A well-formed header is still untrusted until the opener
 * has checked its commitment.
 */
export function parseHeader(bytes: Buffer): ParsedHeader {
  if (bytes.length < HEADER_SIZE) throw new IntegrityError('sealed header is truncated');
  if (!bytes.subarray(0, 4).equals(MAGIC)) throw new IntegrityError('sealed header has a bad magic');
  const version = bytes.readUInt8(4);
  if (!isFormatVersion(version)) throw new IntegrityError(`unsupported sealed format version ${version}`);
  if (bytes.readUInt8(5) !== SUITE_AES256_GCM_HKDF_SHA256) throw new IntegrityError('unknown sealed format suite');
  if (bytes.readUInt16BE(6) !== 0) throw new IntegrityError('sealed header reserved bytes are not zero');
  const frameSize = bytes.readUInt32BE(8);
  try {
    assertFrameSize(frameSize);
  } catch {
    throw new IntegrityError('sealed header frame size out of bounds');
  }
  const saltStart = HEADER_PREFIX_SIZE;
  const commitmentStart = saltStart + SALT_SIZE;
  return {
    version,
    frameSize,
    salt: Buffer.from(bytes.subarray(saltStart, commitmentStart)),
    commitment: Buffer.from(bytes.subarray(commitmentStart, commitmentStart + COMMITMENT_SIZE)),
  };
}
