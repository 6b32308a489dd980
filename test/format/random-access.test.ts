// Random access: sealedRangeFor names exactly the frames covering a plaintext range, and opening reads only those.
import fc from 'fast-check';
import { InvalidRangeError } from '../../lambdas/core/errors';
import { HEADER_SIZE, sealBuffer, sealedRangeFor, sealedSize, TAG_SIZE } from '../../lambdas/core/format';
import { dataKey, identity, openStream, patterned } from './helpers';

describe('sealedSize', () => {
  it('is header + plaintext + one tag per frame, with one frame for an empty part', () => {
    expect(sealedSize(0, 16)).toBe(HEADER_SIZE + TAG_SIZE);
    expect(sealedSize(16, 16)).toBe(HEADER_SIZE + 16 + TAG_SIZE);
    expect(sealedSize(17, 16)).toBe(HEADER_SIZE + 17 + 2 * TAG_SIZE);
    expect(sealedSize(5 * 1024 * 1024 * 1024, 65536)).toBe(HEADER_SIZE + 5 * 1024 ** 3 + 81920 * TAG_SIZE);
  });

  it('rejects sizes beyond a part', () => {
    expect(() => sealedSize(5 * 1024 ** 3 + 1, 65536)).toThrow(RangeError);
  });
});

describe('sealedRangeFor', () => {
  it('returns frame-aligned sealed offsets that cover exactly the frames holding the range', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 16, max: 5000 }),
        fc.integer({ min: 1, max: 200_000 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (frameSize, size, x, y) => {
          const a = Math.min(size - 1, Math.floor(x * size));
          const b = Math.min(size - 1, Math.floor(y * size));
          const range = { start: Math.min(a, b), end: Math.max(a, b) };
          const sealed = sealedRangeFor(size, frameSize, range);
          const stride = frameSize + TAG_SIZE;
          expect(sealed.firstFrame).toBe(Math.floor(range.start / frameSize));
          expect(sealed.lastFrame).toBe(Math.floor(range.end / frameSize));
          expect(sealed.start).toBe(HEADER_SIZE + sealed.firstFrame * stride);
          const frameEnd = HEADER_SIZE + (sealed.lastFrame + 1) * stride - 1;
          expect(sealed.end).toBe(Math.min(frameEnd, sealedSize(size, frameSize) - 1));
        },
      ),
      { numRuns: 500 },
    );
  });

  it.each([
    [{ start: 0, end: 10 }, 10],
    [{ start: 5, end: 4 }, 10],
    [{ start: -1, end: 4 }, 10],
    [{ start: 0, end: 0 }, 0],
  ])('rejects the unsatisfiable range %p of a %i-byte part', (range, size) => {
    expect(() => sealedRangeFor(size, 16, range)).toThrow(InvalidRangeError);
  });
});

describe('ranged opening', () => {
  const F = 32;
  const size = 20 * F + 7;
  const key = dataKey();
  const plaintext = patterned(size);
  const { sealed } = sealBuffer(key, identity(), plaintext, { frameSize: F });

  it('reads and authenticates only the frames covering the range: every other sealed byte may be garbage', async () => {
    for (const range of [{ start: 0, end: 0 }, { start: 70, end: 200 }, { start: size - 1, end: size - 1 }, { start: 3 * F, end: 4 * F - 1 }]) {
      const window = sealedRangeFor(size, F, range);
      const scrambled = Buffer.alloc(sealed.length, 0xee);
      sealed.copy(scrambled, 0, 0, HEADER_SIZE);
      sealed.copy(scrambled, window.start, window.start, window.end + 1);
      const { released, error } = await openStream(key, identity(), scrambled.subarray(0, HEADER_SIZE), scrambled.subarray(window.start, window.end + 1), size, { range });
      expect(error).toBeUndefined();
      expect(released.equals(plaintext.subarray(range.start, range.end + 1))).toBe(true);
    }
  });

  it('fetches no more than two frames for a range inside one frame boundary pair', () => {
    const window = sealedRangeFor(size, F, { start: F - 1, end: F });
    expect(window.end - window.start + 1).toBe(2 * (F + TAG_SIZE));
  });
});
