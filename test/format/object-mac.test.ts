// Whole-object integrity: the object MAC pins part count, order, sizes and the exact part blobs (via their headers).
import { IntegrityError } from '../../lambdas/core/errors';
import { computeObjectMac, type PartDigestInput, sealBuffer, verifyObjectMac } from '../../lambdas/core/format';
import { dataKey, identity, patterned } from './helpers';

const key = dataKey();
const bucket = 'photos';
const objectId = 'obj-7f3a';
const seal = (partNumber: number, size: number): PartDigestInput => {
  const { summary } = sealBuffer(key, identity({ partNumber }), patterned(size, partNumber), { frameSize: 16 });
  return { partNumber, plaintextSize: summary.plaintextSize, header: summary.header };
};
const parts = [seal(1, 40), seal(2, 33), seal(5, 0)];
const mac = computeObjectMac(key, bucket, objectId, parts);

describe('computeObjectMac / verifyObjectMac', () => {
  it('verifies the parts it was computed over', () => {
    expect(mac.length).toBe(32);
    expect(() => verifyObjectMac(key, bucket, objectId, parts, mac)).not.toThrow();
  });

  it.each<[string, readonly PartDigestInput[]]>([
    ['a dropped last part', parts.slice(0, 2)],
    ['a dropped middle part', [parts[0]!, parts[2]!]],
    ['a duplicated part', [parts[0]!, parts[1]!, { ...parts[1]!, partNumber: 3 }, parts[2]!]],
    ['an extra part', [...parts, seal(6, 10)]],
    ['a changed part size', [parts[0]!, { ...parts[1]!, plaintextSize: 32 }, parts[2]!]],
    ['a renumbered part', [parts[0]!, { ...parts[1]!, partNumber: 3 }, parts[2]!]],
    ['a re-sealed part of the same number and size (blob swapped for a retry)', [parts[0]!, seal(2, 33), parts[2]!]],
    ['headers swapped between parts', [{ ...parts[0]!, header: parts[1]!.header }, { ...parts[1]!, header: parts[0]!.header }, parts[2]!]],
  ])('rejects %s', (_what, tampered) => {
    expect(() => verifyObjectMac(key, bucket, objectId, tampered, mac)).toThrow(IntegrityError);
  });

  it('rejects parts listed out of order as an integrity failure', () => {
    expect(() => verifyObjectMac(key, bucket, objectId, [parts[1]!, parts[0]!, parts[2]!], mac)).toThrow(IntegrityError);
    expect(() => computeObjectMac(key, bucket, objectId, [parts[1]!, parts[0]!])).toThrow(RangeError);
  });

  it('rejects the MAC under another object, bucket or data key', () => {
    expect(() => verifyObjectMac(key, bucket, 'obj-other', parts, mac)).toThrow(IntegrityError);
    expect(() => verifyObjectMac(key, 'other-bucket', objectId, parts, mac)).toThrow(IntegrityError);
    expect(() => verifyObjectMac(dataKey(), bucket, objectId, parts, mac)).toThrow(IntegrityError);
  });

  it('rejects a MAC with any bit flipped, truncated or empty', () => {
    for (let bit = 0; bit < mac.length * 8; bit++) {
      const bad = Buffer.from(mac);
      bad[bit >> 3] = (bad[bit >> 3] as number) ^ (1 << (bit & 7));
      expect(() => verifyObjectMac(key, bucket, objectId, parts, bad)).toThrow(IntegrityError);
    }
    expect(() => verifyObjectMac(key, bucket, objectId, parts, mac.subarray(0, 31))).toThrow(IntegrityError);
    expect(() => verifyObjectMac(key, bucket, objectId, parts, Buffer.alloc(0))).toThrow(IntegrityError);
  });

  it('rejects an empty part list', () => {
    expect(() => verifyObjectMac(key, bucket, objectId, [], mac)).toThrow(IntegrityError);
  });
});
