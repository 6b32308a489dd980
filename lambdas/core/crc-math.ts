// CRC arithmetic for multipart checksums: the CRC of a short input (a list of part digests) and zlib's
// crc32_combine method, generalised to CRC32C and CRC64NVME, which gives the CRC of a whole object from its parts'
// CRCs and lengths without reading a byte of it. Not crypto: these are S3's integrity checksums, never secrets.

export type CrcAlgorithm = 'CRC32' | 'CRC32C' | 'CRC64NVME';

interface CrcSpec {
  /** Width in bits. */
  readonly width: bigint;
  /** The polynomial, bit-reflected (all three CRCs are reflected, with init and xorout all ones). */
  readonly poly: bigint;
}

const SPECS: Readonly<Record<CrcAlgorithm, CrcSpec>> = {
  CRC32: { width: 32n, poly: 0xedb88320n },
  CRC32C: { width: 32n, poly: 0x82f63b78n },
  // CRC-64/NVME's 0xad93d23594c93659, reflected.
  CRC64NVME: { width: 64n, poly: 0x9a6c9329ac4bc9b5n },
};

export function isCrcAlgorithm(algorithm: string): algorithm is CrcAlgorithm {
  return algorithm === 'CRC32' || algorithm === 'CRC32C' || algorithm === 'CRC64NVME';
}

const ones = (spec: CrcSpec): bigint => (1n << spec.width) - 1n;

/** The CRC of `bytes`, bit by bit: meant for short inputs (part digests), not for bodies. */
export function crcOf(algorithm: CrcAlgorithm, bytes: Uint8Array): Buffer {
  const spec = SPECS[algorithm];
  let crc = ones(spec);
  for (const byte of bytes) {
    crc ^= BigInt(byte);
    for (let bit = 0; bit < 8; bit++) crc = crc & 1n ? (crc >> 1n) ^ spec.poly : crc >> 1n;
  }
  return toBytes(spec, crc ^ ones(spec));
}

/** a(x)·b(x) modulo the polynomial, in the reflected representation (zlib's multmodp). */
function multModP(spec: CrcSpec, a: bigint, b: bigint): bigint {
  let m = 1n << (spec.width - 1n);
  let p = 0n;
  for (;;) {
    if (a & m) {
      p ^= b;
      if ((a & (m - 1n)) === 0n) break;
    }
    m >>= 1n;
    b = b & 1n ? (b >> 1n) ^ spec.poly : b >> 1n;
  }
  return p;
}

const powerTables = new Map<CrcAlgorithm, bigint[]>();

/** x^(2^k) mod p for k = 0..63 (zlib's x2n_table, long enough for any length below 2^60 bytes). */
function powers(algorithm: CrcAlgorithm): bigint[] {
  let table = powerTables.get(algorithm);
  if (!table) {
    const spec = SPECS[algorithm];
    table = [1n << (spec.width - 2n)]; // x^1
    for (let k = 1; k < 64; k++) table.push(multModP(spec, table[k - 1] as bigint, table[k - 1] as bigint));
    powerTables.set(algorithm, table);
  }
  return table;
}

/** x^(n·2^k) mod p. */
function xPowModP(algorithm: CrcAlgorithm, n: bigint, k: number): bigint {
  const spec = SPECS[algorithm];
  const table = powers(algorithm);
  let p = 1n << (spec.width - 1n); // x^0
  while (n > 0n) {
    if (n & 1n) p = multModP(spec, table[k] as bigint, p);
    n >>= 1n;
    k++;
  }
  return p;
}

/** crc(A‖B) from crc(A), crc(B) and the length of B in bytes (zlib's crc32_combine). */
export function crcCombine(algorithm: CrcAlgorithm, crcA: Uint8Array, crcB: Uint8Array, lengthB: number): Buffer {
  const spec = SPECS[algorithm];
  const a = fromBytes(crcA);
  const b = fromBytes(crcB);
  // Multiplying by x^(8·len) shifts A's CRC past B's bytes; the all-ones init and xorout cancel out.
  return toBytes(spec, multModP(spec, xPowModP(algorithm, BigInt(lengthB), 3), a) ^ b);
}

/** The CRC of a whole object from its parts' CRCs and sizes, in order. */
export function fullObjectCrc(algorithm: CrcAlgorithm, parts: ReadonlyArray<{ readonly crc: Uint8Array; readonly size: number }>): Buffer {
  let acc = crcOf(algorithm, new Uint8Array(0));
  for (const part of parts) acc = crcCombine(algorithm, acc, part.crc, part.size);
  return acc;
}

function fromBytes(bytes: Uint8Array): bigint {
  let v = 0n;
  for (const byte of bytes) v = (v << 8n) | BigInt(byte);
  return v;
}

/** Big-endian, as S3 and the SDKs encode CRC checksums before base64. */
function toBytes(spec: CrcSpec, value: bigint): Buffer {
  const out = Buffer.alloc(Number(spec.width / 8n));
  for (let i = out.length - 1; i >= 0; i--) {
    out[i] = Number(value & 0xffn);
    value >>= 8n;
  }
  return out;
}
