// CRC combination against whole-body CRCs computed by the AWS SDK's own checksum classes (and zlib for CRC32).
import { Crc32c, Crc64Nvme } from '@aws-sdk/checksums/crc';
import { randomBytes } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { crcCombine, crcOf, fullObjectCrc, type CrcAlgorithm } from '../../lambdas/core/crc-math';

async function sdkCrc(algorithm: CrcAlgorithm, bytes: Buffer): Promise<Buffer> {
  if (algorithm === 'CRC32') {
    const out = Buffer.alloc(4);
    out.writeUInt32BE(crc32(bytes) >>> 0);
    return out;
  }
  const impl = algorithm === 'CRC32C' ? new Crc32c() : new Crc64Nvme();
  impl.update(bytes);
  return Buffer.from(await impl.digest());
}

describe('crc-math', () => {
  const algorithms: CrcAlgorithm[] = ['CRC32', 'CRC32C', 'CRC64NVME'];

  it.each(algorithms)('computes the %s of short inputs as the SDK does', async (algorithm) => {
    for (const bytes of [Buffer.alloc(0), Buffer.from('123456789'), randomBytes(1), randomBytes(333)]) {
      expect(crcOf(algorithm, bytes).toString('hex')).toBe((await sdkCrc(algorithm, bytes)).toString('hex'));
    }
  });

  it.each(algorithms)('combines %s of two pieces into the CRC of their concatenation', async (algorithm) => {
    for (const [a, b] of [
      [randomBytes(1), randomBytes(1)],
      [randomBytes(1000), randomBytes(4097)],
      [Buffer.alloc(0), randomBytes(10)],
      [randomBytes(10), Buffer.alloc(0)],
      [randomBytes(70_000), randomBytes(65_537)],
    ] as const) {
      const combined = crcCombine(algorithm, await sdkCrc(algorithm, a), await sdkCrc(algorithm, b), b.length);
      expect(combined.toString('hex')).toBe((await sdkCrc(algorithm, Buffer.concat([a, b]))).toString('hex'));
    }
  });

  it.each(algorithms)('gives the full-object %s of a multipart object from its parts\' CRCs and sizes', async (algorithm) => {
    const parts = [randomBytes(5 * 1024 * 1024 + 3), randomBytes(17), Buffer.alloc(0), randomBytes(300_000)];
    const whole = await sdkCrc(algorithm, Buffer.concat(parts));
    const fromParts = fullObjectCrc(algorithm, await Promise.all(parts.map(async (p) => ({ crc: await sdkCrc(algorithm, p), size: p.length }))));
    expect(fromParts.toString('base64')).toBe(whole.toString('base64'));
    // A part with one flipped bit, or a wrong size, gives another value.
    const wrongSize = fullObjectCrc(algorithm, await Promise.all(parts.map(async (p, i) => ({ crc: await sdkCrc(algorithm, p), size: p.length + (i === 1 ? 1 : 0) }))));
    expect(wrongSize.equals(whole)).toBe(false);
  });

  it('handles lengths beyond 4 GiB (a 5 GiB part) without overflow', () => {
    // The CRCs of runs of zero bytes, built by doubling: zeros(2n) = combine(zeros(n), zeros(n), n).
    const zerosOf = (n: number) => {
      let z = crcOf('CRC64NVME', Buffer.alloc(1024));
      for (let len = 1024; len < n; len *= 2) z = crcCombine('CRC64NVME', z, z, len);
      return z;
    };
    const GiB = 1024 ** 3;
    const head = crcOf('CRC64NVME', Buffer.from('head'));
    // head‖zeros(4 GiB)‖zeros(1 GiB) = head‖zeros(1 GiB)‖zeros(4 GiB): the same bytes, combined in another order.
    const a = crcCombine('CRC64NVME', crcCombine('CRC64NVME', head, zerosOf(4 * GiB), 4 * GiB), zerosOf(GiB), GiB);
    const b = crcCombine('CRC64NVME', crcCombine('CRC64NVME', head, zerosOf(GiB), GiB), zerosOf(4 * GiB), 4 * GiB);
    expect(a.toString('hex')).toBe(b.toString('hex'));
    // And a length wrong by 2^32 gives another value (no 32-bit truncation).
    const truncated = crcCombine('CRC64NVME', crcCombine('CRC64NVME', head, zerosOf(4 * GiB), 0), zerosOf(GiB), GiB);
    expect(truncated.equals(a)).toBe(false);
  });
});
