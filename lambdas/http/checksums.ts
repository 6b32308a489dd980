// Body integrity checks S3 offers: Content-MD5 and the flexible checksums (CRC32, CRC32C, SHA-1, SHA-256).
import { createHash } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { BadDigestError, InvalidDigestError, InvalidRequestError } from '../core/errors';
import { lookup } from './request';

export type ChecksumAlgorithm = 'CRC32' | 'CRC32C' | 'SHA1' | 'SHA256' | 'CRC64NVME';

export interface Checksum {
  readonly algorithm: ChecksumAlgorithm;
  /** Base64, as the x-amz-checksum-* header carries it. */
  readonly value: string;
}

const HEADER_ALGORITHMS: Readonly<Record<string, ChecksumAlgorithm>> = {
  'x-amz-checksum-crc32': 'CRC32',
  'x-amz-checksum-crc32c': 'CRC32C',
  'x-amz-checksum-sha1': 'SHA1',
  'x-amz-checksum-sha256': 'SHA256',
  'x-amz-checksum-crc64nvme': 'CRC64NVME',
};
const DIGEST_BYTES: Readonly<Record<ChecksumAlgorithm, number>> = { CRC32: 4, CRC32C: 4, SHA1: 20, SHA256: 32, CRC64NVME: 8 };

export function checksumHeaderAlgorithm(headerName: string): ChecksumAlgorithm | undefined {
  return lookup(HEADER_ALGORITHMS as Record<string, string>, headerName.toLowerCase()) as ChecksumAlgorithm | undefined;
}

const CRC32C_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32C (Castagnoli), reflected, as S3 and iSCSI define it. Table-driven: node:zlib only has CRC-32. */
export function crc32c(data: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of data) crc = (CRC32C_TABLE[(crc ^ byte) & 0xff] ?? 0) ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

function uint32Base64(value: number): string {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(value >>> 0);
  return out.toString('base64');
}

/** The checksum in S3's encoding, or undefined for an algorithm this store cannot compute (CRC64NVME). */
export function computeChecksum(algorithm: ChecksumAlgorithm, data: Buffer): string | undefined {
  switch (algorithm) {
    case 'CRC32':
      return uint32Base64(crc32(data));
    case 'CRC32C':
      return uint32Base64(crc32c(data));
    case 'SHA1':
      return createHash('sha1').update(data).digest('base64');
    case 'SHA256':
      return createHash('sha256').update(data).digest('base64');
    case 'CRC64NVME':
      return undefined;
  }
}

/**
 * Verifies the checksums the client sent (in headers, or trailers of an aws-chunked body) against the payload.
 * Returns the one flexible checksum verified, if any, so the caller can store and echo it.
 */
export function verifyChecksums(
  headers: Readonly<Record<string, string>>,
  trailers: Readonly<Record<string, string>>,
  payload: Buffer,
): Checksum | undefined {
  verifyContentMd5(lookup(headers, 'content-md5'), payload);
  const sent: Array<[string, string]> = [];
  for (const source of [headers, trailers]) {
    for (const [name, value] of Object.entries(source)) {
      if (checksumHeaderAlgorithm(name) !== undefined) sent.push([name.toLowerCase(), value.trim()]);
    }
  }
  const names = new Set(sent.map(([name]) => name));
  if (names.size > 1) throw new InvalidRequestError('Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.');
  const first = sent[0];
  if (first === undefined) return undefined;
  const [name, value] = first;
  const algorithm = checksumHeaderAlgorithm(name) as ChecksumAlgorithm;
  if (sent.some(([, other]) => other !== value)) throw badDigest(name);
  const decoded = Buffer.from(value, 'base64');
  if (decoded.length !== DIGEST_BYTES[algorithm] || decoded.toString('base64') !== value) {
    throw new InvalidRequestError(`Value for ${name} header is invalid.`);
  }
  const actual = computeChecksum(algorithm, payload);
  if (actual !== undefined && actual !== value) throw badDigest(name);
  return { algorithm, value };
}

function badDigest(name: string): BadDigestError {
  return new BadDigestError(`The ${name} you specified did not match the calculated checksum.`);
}

/** Content-MD5: base64 of 16 bytes (else InvalidDigest), equal to the body's MD5 (else BadDigest). */
export function verifyContentMd5(header: string | undefined, payload: Buffer): void {
  if (header === undefined) return;
  const value = header.trim();
  const decoded = Buffer.from(value, 'base64');
  if (decoded.length !== 16 || decoded.toString('base64') !== value) {
    throw new InvalidDigestError('The Content-MD5 you specified was invalid.', { 'Content-MD5': value });
  }
  const actual = createHash('md5').update(payload).digest();
  if (!actual.equals(decoded)) {
    throw new BadDigestError('The Content-MD5 you specified did not match what we received.', {
      ExpectedDigest: value,
      CalculatedDigest: actual.toString('base64'),
    });
  }
}
