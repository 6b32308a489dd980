// An object's flexible checksum (x-amz-checksum-*), kept sealed: the index is readable by an attacker, and a CRC or
// SHA of the plaintext in the clear would let anyone confirm a guess of the contents. So the value is encrypted
// (AES-256-GCM) under a key HKDF derives from the object's data key, bound in the AAD to the object and to the
// place it describes (the whole object, or one part's blob); returning it needs the data key, as reading does.
import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto';
import { crcOf, fullObjectCrc, isCrcAlgorithm } from './crc-math';
import { IntegrityError, InvalidRequestError } from './errors';

const SEAL_INFO = 'sealstore/v1 checksum seal';
const VERSION = 1;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;

export type ChecksumType = 'FULL_OBJECT' | 'COMPOSITE';

/** A checksum as S3 returns it: the algorithm, base64 of the digest (with "-N" for a composite), and its type. */
export interface StoredChecksum {
  readonly algorithm: string;
  readonly value: string;
  readonly type: ChecksumType;
}

/** What a sealed checksum describes: the whole object, or the part stored in this blob. */
export type ChecksumPlace = { readonly objectId: string; readonly blobId?: string };

function aad(place: ChecksumPlace): Buffer {
  return Buffer.from(`sealstore/v1 checksum\0${place.objectId}\0${place.blobId ?? 'object'}`, 'utf8');
}

function sealKey(dataKey: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', dataKey, Buffer.alloc(0), SEAL_INFO, 32));
}

/** version ‖ nonce ‖ ciphertext of "ALGORITHM\0TYPE\0value" ‖ GCM tag. A random nonce: a key seals a handful of values. */
export function sealChecksum(dataKey: Buffer, place: ChecksumPlace, checksum: StoredChecksum): Buffer {
  const key = sealKey(dataKey);
  try {
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv('aes-256-gcm', key, nonce).setAAD(aad(place));
    const body = Buffer.concat([cipher.update(`${checksum.algorithm}\0${checksum.type}\0${checksum.value}`, 'utf8'), cipher.final()]);
    return Buffer.concat([Buffer.from([VERSION]), nonce, body, cipher.getAuthTag()]);
  } finally {
    key.fill(0);
  }
}

/** Opens a sealed checksum; one that does not open for this place was altered or moved, and is refused. */
export function openChecksum(dataKey: Buffer, place: ChecksumPlace, sealed: Buffer): StoredChecksum {
  const altered = () => new IntegrityError(`the stored checksum of object ${place.objectId} does not open: it was altered or moved; refusing it`);
  if (sealed.length < 1 + NONCE_BYTES + TAG_BYTES || sealed[0] !== VERSION) throw altered();
  const key = sealKey(dataKey);
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(1, 1 + NONCE_BYTES)).setAAD(aad(place));
    decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
    const text = Buffer.concat([decipher.update(sealed.subarray(1 + NONCE_BYTES, sealed.length - TAG_BYTES)), decipher.final()]).toString('utf8');
    const [algorithm = '', type = '', value = ''] = text.split('\0');
    if (type !== 'FULL_OBJECT' && type !== 'COMPOSITE') throw altered();
    return { algorithm, type, value };
  } catch (e) {
    if (e instanceof IntegrityError) throw e;
    throw altered();
  } finally {
    key.fill(0);
  }
}

/** The algorithms S3 can combine into a multipart object's checksum, and the types each allows. */
const MULTIPART_TYPES: Readonly<Record<string, readonly ChecksumType[]>> = {
  CRC32: ['COMPOSITE', 'FULL_OBJECT'],
  CRC32C: ['COMPOSITE', 'FULL_OBJECT'],
  CRC64NVME: ['FULL_OBJECT'],
  SHA1: ['COMPOSITE'],
  SHA256: ['COMPOSITE'],
};

/**
 * The checksum type of a multipart upload created with `algorithm` (S3's default when `requested` is absent: full
 * object for CRC64NVME, composite for the others). Throws S3's InvalidRequest for a combination S3 refuses, and
 * for algorithms whose multipart checksum this store cannot compute.
 */
export function multipartChecksumType(algorithm: string, requested?: string): ChecksumType {
  const allowed = MULTIPART_TYPES[algorithm];
  if (!allowed) {
    throw new InvalidRequestError(
      `A multipart upload cannot use the ${algorithm} checksum algorithm here: the store computes multipart checksums for CRC32, CRC32C, CRC64NVME, SHA1 and SHA256.`,
    );
  }
  if (requested === undefined) return allowed[0] === 'COMPOSITE' ? 'COMPOSITE' : 'FULL_OBJECT';
  if (requested !== 'COMPOSITE' && requested !== 'FULL_OBJECT') throw new InvalidRequestError('Value for x-amz-checksum-type header is invalid.');
  if (!allowed.includes(requested)) {
    throw new InvalidRequestError(`The ${requested} checksum type cannot be used with the ${algorithm.toLowerCase()} checksum algorithm.`);
  }
  return requested;
}

/**
 * A multipart object's checksum from its parts' digests (raw bytes) and sizes. COMPOSITE: the algorithm over the
 * concatenated part digests, suffixed "-N". FULL_OBJECT: the CRC of the whole body, combined from the parts'.
 */
export function multipartChecksum(
  algorithm: string,
  type: ChecksumType,
  parts: ReadonlyArray<{ readonly digest: Buffer; readonly size: number }>,
): StoredChecksum {
  if (type === 'FULL_OBJECT') {
    if (!isCrcAlgorithm(algorithm)) throw new InvalidRequestError(`The FULL_OBJECT checksum type cannot be used with the ${algorithm.toLowerCase()} checksum algorithm.`);
    return { algorithm, type, value: fullObjectCrc(algorithm, parts.map((p) => ({ crc: p.digest, size: p.size }))).toString('base64') };
  }
  const joined = Buffer.concat(parts.map((p) => p.digest));
  let digest: Buffer;
  if (isCrcAlgorithm(algorithm)) digest = crcOf(algorithm, joined);
  else if (algorithm === 'SHA1' || algorithm === 'SHA256') digest = createHash(algorithm.toLowerCase()).update(joined).digest();
  else throw new InvalidRequestError(`The COMPOSITE checksum type cannot be used with the ${algorithm.toLowerCase()} checksum algorithm.`);
  return { algorithm, type, value: `${digest.toString('base64')}-${parts.length}` };
}
