// The embedded vault's ciphertext blob: a versioned binary layout, AES-256-GCM bound to key, generation and context.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { EncryptionContext } from '../../core/ports';
import { KmsInvalidCiphertextError } from '../../core/errors';

/*
 * Layout, version 1 (all integers big-endian):
 *   offset  0  u8       version = 1
 *   offset  1  16 bytes CMK id (the UUID's 16 bytes)
 *   offset 17  u32      key material generation
 *   offset 21  12 bytes GCM nonce (random; each generation's material wraps far fewer than 2^32 keys)
 *   offset 33  n bytes  ciphertext (32 for a data key, up to 4096 for encrypt())
 *   last 16    bytes    GCM tag
 * AAD = "sealstore/wrap/v1" 0x00 || header (offsets 0..32) || canonical encryption context.
 * The header in the AAD binds the blob to the CMK and generation it names, so editing those bytes fails
 * authentication instead of opening under other material; the context in the AAD makes any other
 * context fail exactly as KMS's InvalidCiphertextException does.
 */
export const WRAP_VERSION = 1;
const HEADER_LENGTH = 33;
const NONCE_OFFSET = 21;
const TAG_LENGTH = 16;
const AAD_LABEL = Buffer.from('sealstore/wrap/v1\0', 'utf8');

export interface WrapHeader {
  readonly keyUuid: string;
  readonly generation: number;
}

interface ParsedWrap extends WrapHeader {
  readonly header: Buffer;
  readonly ciphertext: Buffer;
  readonly tag: Buffer;
}

/**
 * Context entries sorted by key bytes and serialised as a JSON array of pairs: order-independent for the
 * caller, and unambiguous (no separator a key or value could contain).
 */
export function canonicalContext(context: EncryptionContext): Buffer {
  const entries = Object.entries(context).sort(([a], [b]) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  return Buffer.from(JSON.stringify(entries), 'utf8');
}

function uuidToBytes(uuid: string): Buffer {
  const hex = uuid.replace(/-/g, '');
  if (!/^[0-9a-f]{32}$/.test(hex)) throw new TypeError('key id is not a UUID');
  return Buffer.from(hex, 'hex');
}

function bytesToUuid(bytes: Buffer): string {
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

const aad = (header: Buffer, context: EncryptionContext) => Buffer.concat([AAD_LABEL, header, canonicalContext(context)]);

/** Encrypts `plaintext` under one generation's material; the result names that CMK and generation. */
export function wrap(material: Buffer, at: WrapHeader, context: EncryptionContext, plaintext: Buffer): Buffer {
  const header = Buffer.alloc(HEADER_LENGTH);
  header.writeUInt8(WRAP_VERSION, 0);
  uuidToBytes(at.keyUuid).copy(header, 1);
  header.writeUInt32BE(at.generation, 17);
  randomBytes(12).copy(header, NONCE_OFFSET);
  const cipher = createCipheriv('aes-256-gcm', material, header.subarray(NONCE_OFFSET));
  cipher.setAAD(aad(header, context));
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([header, ciphertext, cipher.getAuthTag()]);
}

/** Reads the header without decrypting, so the vault can find the material; rejects what is not a v1 blob. */
export function parseWrapped(wrapped: Buffer): ParsedWrap {
  if (wrapped.length < HEADER_LENGTH + TAG_LENGTH + 1 || wrapped.readUInt8(0) !== WRAP_VERSION) {
    throw new KmsInvalidCiphertextError('the ciphertext is not a sealstore wrapped key');
  }
  const header = wrapped.subarray(0, HEADER_LENGTH);
  return {
    header,
    keyUuid: bytesToUuid(header.subarray(1, 17)),
    generation: header.readUInt32BE(17),
    ciphertext: wrapped.subarray(HEADER_LENGTH, wrapped.length - TAG_LENGTH),
    tag: wrapped.subarray(wrapped.length - TAG_LENGTH),
  };
}

/** Decrypts a parsed blob; any authentication failure (tampering, wrong context) is InvalidCiphertext. */
export function unwrap(material: Buffer, parsed: ParsedWrap, context: EncryptionContext): Buffer {
  try {
    const decipher = createDecipheriv('aes-256-gcm', material, parsed.header.subarray(NONCE_OFFSET));
    decipher.setAAD(aad(parsed.header, context));
    decipher.setAuthTag(parsed.tag);
    return Buffer.concat([decipher.update(parsed.ciphertext), decipher.final()]);
  } catch {
    throw new KmsInvalidCiphertextError('the ciphertext does not open under this key and encryption context');
  }
}
