// Keyed ETags and part checksums: a plain digest of the plaintext in the index would let anyone who reads it confirm a guess of the contents.
import { createHmac, hkdfSync } from 'node:crypto';

const ETAG_INFO = 'sealstore/v1 etag';
const CHECKSUM_INFO = 'sealstore/v1 checksum';

/** First 16 bytes of HMAC-SHA256 under a key HKDF derives from the data key for `info`. */
function keyedDigest(dataKey: Buffer, info: string, message: Buffer): Buffer {
  const macKey = Buffer.from(hkdfSync('sha256', dataKey, Buffer.alloc(0), info, 32));
  try {
    return createHmac('sha256', macKey).update(message).digest().subarray(0, 16);
  } finally {
    macKey.fill(0);
  }
}

/**
 * The ETag of a sealed part: 32 hex digits, like an MD5, but keyed by the object's data key over the part's
 * tag digest (SHA-256 of header and frame tags, which the sealer computes anyway), as S3's ETags of SSE-KMS
 * objects are not the MD5 of the contents either. Two PUTs of the same bytes get different ETags.
 */
export function sealedEtag(dataKey: Buffer, tagDigest: Buffer): string {
  return keyedDigest(dataKey, ETAG_INFO, tagDigest).toString('hex');
}

/**
 * What the index keeps of a flexible checksum (x-amz-checksum-*) a part was uploaded with: a keyed tag over
 * the algorithm and the checksum bytes, enough to check the value a completion names without storing it.
 */
export function sealedChecksum(dataKey: Buffer, algorithm: string, base64Value: string): string {
  const message = Buffer.concat([Buffer.from(`${algorithm.toUpperCase()}\0`, 'utf8'), Buffer.from(base64Value, 'base64')]);
  return keyedDigest(dataKey, CHECKSUM_INFO, message).toString('hex');
}
