// The header: layout, strict parsing, and the commitment that authenticates it before any frame is opened.
import { IntegrityError } from '../../lambdas/core/errors';
import { createOpener, FORMAT_VERSION_1, HEADER_SIZE, parseHeader, sealBuffer } from '../../lambdas/core/format';
import { dataKey, identity } from './helpers';

describe('parseHeader', () => {
  const salt = Buffer.alloc(32, 0xab);
  const { summary } = sealBuffer(dataKey(), identity(), Buffer.from('hi'), { frameSize: 4096, salt });

  it('reads version, frame size, salt and commitment from a 76-byte header (version 1: sealed without a record)', () => {
    expect(HEADER_SIZE).toBe(76);
    const parsed = parseHeader(summary.header);
    expect(parsed.version).toBe(FORMAT_VERSION_1);
    expect(parsed.frameSize).toBe(4096);
    expect(parsed.salt.equals(salt)).toBe(true);
    expect(parsed.commitment.equals(summary.header.subarray(44, 76))).toBe(true);
    expect(summary.header.subarray(0, 8).toString('hex')).toBe('534c534601010000');
  });

  it.each([
    ['a bad magic', 0, 0x41],
    ['an unknown version', 4, 3],
    ['version 0', 4, 0],
    ['an unknown suite', 5, 9],
    ['non-zero reserved bytes', 7, 1],
  ])('rejects %s', (_what, offset, value) => {
    const bad = Buffer.from(summary.header);
    bad[offset] = value;
    expect(() => parseHeader(bad)).toThrow(IntegrityError);
  });

  it.each([0, 15, 16 * 1024 * 1024 + 1])('rejects a frame size of %i', (frameSize) => {
    const bad = Buffer.from(summary.header);
    bad.writeUInt32BE(frameSize, 8);
    expect(() => parseHeader(bad)).toThrow(IntegrityError);
  });

  it('rejects a short header', () => {
    expect(() => parseHeader(summary.header.subarray(0, HEADER_SIZE - 1))).toThrow(IntegrityError);
  });
});

describe('key commitment', () => {
  const key = dataKey();
  const { summary } = sealBuffer(key, identity(), Buffer.from('committed'), { frameSize: 64 });

  it('throws synchronously from createOpener under any other data key', () => {
    for (let i = 0; i < 200; i++) {
      expect(() => createOpener(dataKey(), identity(), { header: summary.header, plaintextSize: 9 })).toThrow(IntegrityError);
    }
    expect(() => createOpener(key, identity(), { header: summary.header, plaintextSize: 9 })).not.toThrow();
  });

  it('gives two data keys different commitments for the same salt, identity and frame size', () => {
    const salt = Buffer.alloc(32, 1);
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const header = sealBuffer(dataKey(), identity(), Buffer.alloc(0), { frameSize: 64, salt }).summary.header;
      seen.add(header.subarray(44).toString('hex'));
    }
    expect(seen.size).toBe(200);
  });

  it('commits to the frame size: a header edited to another frame size no longer matches', () => {
    const bad = Buffer.from(summary.header);
    bad.writeUInt32BE(32, 8);
    expect(() => createOpener(key, identity(), { header: bad, plaintextSize: 9 })).toThrow(IntegrityError);
  });

});
