// Random identifiers: object ids bound into the AAD and KMS context, blob ids that reveal no object name.
import { randomBytes } from 'node:crypto';

/*
 * Ids are cut from a pool of CSPRNG output refilled 4 KiB at a time: one call into the generator per ~100 ids
 * instead of one per id (each costs tens of microseconds). Ids are not secrets, only unguessable; keys and
 * salts never come from here, they take their own randomBytes.
 */
const POOL_BYTES = 4096;
let pool = Buffer.alloc(0);
let offset = 0;

/** `bytes` random bytes, hex. */
export function randomHex(bytes: number): string {
  if (offset + bytes > pool.length) {
    pool = randomBytes(POOL_BYTES);
    offset = 0;
  }
  const out = pool.toString('hex', offset, offset + bytes);
  // Each byte is handed out once: the offset only moves forward.
  offset += bytes;
  return out;
}

/** 128 random bits, hex: unguessable and unrelated to the object's name. */
export function newObjectId(): string {
  return randomHex(16);
}

export function newBlobId(): string {
  return randomHex(16);
}

export function newRequestId(): string {
  return randomHex(8).toUpperCase();
}
