// Body integrity checks S3 offers: Content-MD5 and every flexible checksum S3 defines (CRC32, CRC32C, CRC64NVME,
// SHA-1, SHA-256, SHA-512, MD5, XXHASH64, XXHASH3, XXHASH128), each computed incrementally while the body streams.
// CRC32 comes from node:zlib, the hashes from node:crypto; CRC32C, CRC64NVME and the xxHashes from the AWS SDK's
// own checksum package, so they agree bit for bit with what SDK clients send. None is accepted without a check.
import { createHash } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { Crc32c, Crc64Nvme } from '@aws-sdk/checksums/crc';
import { Xxh3_128, Xxh3_64, Xxh64 } from '@aws-sdk/checksums/xxh';
import { BadDigestError, InvalidDigestError, InvalidRequestError } from '../core/errors';
import { lookup } from './request';

export type ChecksumAlgorithm = 'CRC32' | 'CRC32C' | 'SHA1' | 'SHA256' | 'CRC64NVME' | 'SHA512' | 'MD5' | 'XXHASH64' | 'XXHASH3' | 'XXHASH128';

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
  'x-amz-checksum-sha512': 'SHA512',
  'x-amz-checksum-md5': 'MD5',
  'x-amz-checksum-xxhash64': 'XXHASH64',
  'x-amz-checksum-xxhash3': 'XXHASH3',
  'x-amz-checksum-xxhash128': 'XXHASH128',
};
const DIGEST_BYTES: Readonly<Record<ChecksumAlgorithm, number>> = {
  CRC32: 4,
  CRC32C: 4,
  SHA1: 20,
  SHA256: 32,
  CRC64NVME: 8,
  SHA512: 64,
  MD5: 16,
  XXHASH64: 8,
  XXHASH3: 8,
  XXHASH128: 16,
};

/** An algorithm name as x-amz-checksum-algorithm / x-amz-sdk-checksum-algorithm carry it (any case). */
export function parseChecksumAlgorithm(value: string, header: string): ChecksumAlgorithm {
  const upper = value.trim().toUpperCase();
  if (!Object.prototype.hasOwnProperty.call(DIGEST_BYTES, upper)) throw new InvalidRequestError(`Value for ${header} header is invalid.`);
  return upper as ChecksumAlgorithm;
}

export function checksumHeaderAlgorithm(headerName: string): ChecksumAlgorithm | undefined {
  return lookup(HEADER_ALGORITHMS, headerName.toLowerCase()) as ChecksumAlgorithm | undefined;
}

export function checksumHeaderName(algorithm: ChecksumAlgorithm): string {
  return `x-amz-checksum-${algorithm.toLowerCase()}`;
}

/** A digest fed chunk by chunk as the body passes. */
export interface RunningDigest {
  update(bytes: Buffer): void;
  /** The finished digest; call once. */
  digest(): Promise<Buffer>;
}

class Crc32Digest implements RunningDigest {
  private crc = 0;
  update(bytes: Buffer): void {
    this.crc = crc32(bytes, this.crc);
  }
  async digest(): Promise<Buffer> {
    const out = Buffer.alloc(4);
    out.writeUInt32BE(this.crc >>> 0);
    return out;
  }
}

/** The SDK's checksum classes (update, async digest), seen as a RunningDigest. */
function sdkDigest(impl: { update(data: Uint8Array): void; digest(): Promise<Uint8Array> }): RunningDigest {
  return {
    update: (bytes) => impl.update(bytes),
    digest: async () => Buffer.from(await impl.digest()),
  };
}

function hashDigest(name: 'md5' | 'sha1' | 'sha256' | 'sha512'): RunningDigest {
  const hash = createHash(name);
  return {
    update: (bytes) => void hash.update(bytes),
    digest: async () => hash.digest(),
  };
}

export function runningDigest(algorithm: ChecksumAlgorithm): RunningDigest {
  switch (algorithm) {
    case 'CRC32':
      return new Crc32Digest();
    case 'CRC32C':
      return sdkDigest(new Crc32c());
    case 'CRC64NVME':
      return sdkDigest(new Crc64Nvme());
    case 'SHA1':
      return hashDigest('sha1');
    case 'SHA256':
      return hashDigest('sha256');
    case 'SHA512':
      return hashDigest('sha512');
    case 'MD5':
      return hashDigest('md5');
    case 'XXHASH64':
      return sdkDigest(new Xxh64());
    case 'XXHASH3':
      return sdkDigest(new Xxh3_64());
    case 'XXHASH128':
      return sdkDigest(new Xxh3_128());
  }
}

/** The one flexible checksum a request carries: where its value comes from, and the value when it is a header. */
export interface ChecksumPlan {
  readonly name: string;
  readonly algorithm: ChecksumAlgorithm;
  /** Set when the client sent the value as a header; otherwise it arrives as an aws-chunked trailer. */
  readonly headerValue?: string;
}

/** The trailer names an aws-chunked request announces in x-amz-trailer, lower case. */
export function announcedTrailers(headers: Readonly<Record<string, string>>): string[] {
  return (lookup(headers, 'x-amz-trailer') ?? '')
    .split(',')
    .map((name) => name.trim().toLowerCase())
    .filter((name) => name !== '');
}

/**
 * Which checksum to compute while the body streams, decided from the headers alone: a checksum header, or a
 * checksum trailer announced in x-amz-trailer. S3 takes one algorithm per request.
 */
export function planChecksum(headers: Readonly<Record<string, string>>): ChecksumPlan | undefined {
  const sent = new Map<string, string | undefined>();
  for (const [name, value] of Object.entries(headers)) {
    if (checksumHeaderAlgorithm(name) !== undefined) sent.set(name.toLowerCase(), value.trim());
  }
  for (const name of announcedTrailers(headers)) {
    if (checksumHeaderAlgorithm(name) !== undefined && !sent.has(name)) sent.set(name, undefined);
  }
  if (sent.size > 1) throw new InvalidRequestError('Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.');
  const sdkHeader = lookup(headers, 'x-amz-sdk-checksum-algorithm');
  const sdkAlgorithm = sdkHeader === undefined ? undefined : parseChecksumAlgorithm(sdkHeader, 'x-amz-sdk-checksum-algorithm');
  const [first] = sent;
  if (first === undefined) {
    // A checksum asked for and never sent would otherwise pass as if it had been checked.
    if (sdkAlgorithm !== undefined) throw new InvalidRequestError('x-amz-sdk-checksum-algorithm specified, but no corresponding x-amz-checksum-* or x-amz-trailer headers were found.');
    return undefined;
  }
  const [name, headerValue] = first;
  const algorithm = checksumHeaderAlgorithm(name) as ChecksumAlgorithm;
  if (sdkAlgorithm !== undefined && sdkAlgorithm !== algorithm) throw new InvalidRequestError('Value for x-amz-sdk-checksum-algorithm header is invalid.');
  if (headerValue !== undefined) checkEncoding(name, algorithm, headerValue);
  return headerValue === undefined ? { name, algorithm } : { name, algorithm, headerValue };
}

/** A checksum value must be the base64 of exactly the algorithm's digest length. */
export function checkEncoding(name: string, algorithm: ChecksumAlgorithm, value: string): void {
  const decoded = Buffer.from(value, 'base64');
  if (decoded.length !== DIGEST_BYTES[algorithm] || decoded.toString('base64') !== value) {
    throw new InvalidRequestError(`Value for ${name} header is invalid.`);
  }
}

/** S3's words: "The CRC64NVME you specified did not match the calculated checksum." */
export function badDigest(algorithm: ChecksumAlgorithm): BadDigestError {
  return new BadDigestError(`The ${algorithm} you specified did not match the calculated checksum.`);
}

/** Content-MD5 must be base64 of 16 bytes (else InvalidDigest); the body is compared when it has streamed. */
export function parseContentMd5(header: string | undefined): Buffer | undefined {
  if (header === undefined) return undefined;
  const value = header.trim();
  const decoded = Buffer.from(value, 'base64');
  if (decoded.length !== 16 || decoded.toString('base64') !== value) {
    throw new InvalidDigestError('The Content-MD5 you specified was invalid.', { 'Content-MD5': value });
  }
  return decoded;
}

export function contentMd5Mismatch(expected: Buffer, actual: Buffer): BadDigestError {
  return new BadDigestError('The Content-MD5 you specified did not match what we received.', {
    ExpectedDigest: expected.toString('base64'),
    CalculatedDigest: actual.toString('base64'),
  });
}
