// Tamper corpus: every way of altering a sealed part or its recorded identity/size fails with IntegrityError,
// releasing no plaintext from the tampered frame onwards.
import { IntegrityError } from '../../lambdas/core/errors';
import { HEADER_SIZE, openBuffer, sealBuffer, TAG_SIZE } from '../../lambdas/core/format';
import { dataKey, identity, openBlob, openStream, patterned, SMALL_FRAME } from './helpers';

const F = SMALL_FRAME;
const STRIDE = F + TAG_SIZE;
const SIZE = 3 * F + 5; // four frames, the last one short
const key = dataKey();
const id = identity();
const plaintext = patterned(SIZE);
const { sealed, summary } = sealBuffer(key, id, plaintext, { frameSize: F });
const header = sealed.subarray(0, HEADER_SIZE);
const frames = sealed.subarray(HEADER_SIZE);
const frame = (i: number): Buffer => frames.subarray(i * STRIDE, Math.min((i + 1) * STRIDE, frames.length));

/** Plaintext a tampered open may have released: only frames strictly before the first bad one. */
const allowedBefore = (badFrame: number): Buffer => plaintext.subarray(0, Math.max(0, badFrame) * F);

async function expectRejected(
  result: Promise<{ released: Buffer; error: unknown }>,
  firstBadFrame: number,
): Promise<void> {
  const { released, error } = await result;
  expect(error).toBeInstanceOf(IntegrityError);
  expect(released.equals(allowedBefore(firstBadFrame))).toBe(true);
}

describe('opener against a tampered part', () => {
  it('opens the untampered part (control)', async () => {
    const { released, error } = await openBlob(key, id, sealed, SIZE);
    expect(error).toBeUndefined();
    expect(released.equals(plaintext)).toBe(true);
  });

  it('rejects every single-bit flip of header and frames, releasing nothing from the flipped frame on', async () => {
    let rejected = 0;
    for (let byte = 0; byte < sealed.length; byte++) {
      for (let bit = 0; bit < 8; bit++) {
        const tampered = Buffer.from(sealed);
        tampered[byte] = (tampered[byte] as number) ^ (1 << bit);
        const { released, error } = await openBlob(key, id, tampered, SIZE, 11);
        const badFrame = byte < HEADER_SIZE ? 0 : Math.floor((byte - HEADER_SIZE) / STRIDE);
        if (!(error instanceof IntegrityError)) throw new Error(`flip of byte ${byte} bit ${bit} was accepted`);
        if (!released.equals(allowedBefore(badFrame))) throw new Error(`flip of byte ${byte} bit ${bit} released too much`);
        rejected++;
      }
    }
    expect(rejected).toBe(sealed.length * 8);
  });

  it('releases nothing at all when the first frame is tampered', async () => {
    const tampered = Buffer.from(sealed);
    tampered[HEADER_SIZE + 3] = (tampered[HEADER_SIZE + 3] as number) ^ 0x80;
    const { released, error } = await openBlob(key, id, tampered, SIZE);
    expect(error).toBeInstanceOf(IntegrityError);
    expect(released.length).toBe(0);
  });

  it('rejects truncation at every byte, frame boundaries included', async () => {
    for (let cut = 0; cut < frames.length; cut++) {
      const { released, error } = await openStream(key, id, header, frames.subarray(0, cut), SIZE, { chunkSize: 5 });
      expect(error).toBeInstanceOf(IntegrityError);
      // frames wholly present before the cut are authentic; the cut frame and the held last frame never show
      expect(released.equals(allowedBefore(Math.min(Math.floor(cut / STRIDE), 3)))).toBe(true);
    }
  });

  it('rejects a truncated header', async () => {
    await expect(openBuffer(key, id, sealed.subarray(0, HEADER_SIZE - 1), SIZE)).rejects.toBeInstanceOf(IntegrityError);
  });

  it('rejects a dropped final frame even when the recorded size is shrunk to match', async () => {
    const even = patterned(4 * F);
    const whole = sealBuffer(key, id, even, { frameSize: F }).sealed;
    const withoutLast = whole.subarray(0, HEADER_SIZE + 3 * STRIDE);
    const { released, error } = await openBlob(key, id, withoutLast, 3 * F);
    expect(error).toBeInstanceOf(IntegrityError); // frame 2 was sealed as not-final
    expect(released.equals(even.subarray(0, 2 * F))).toBe(true);
  });

  it('rejects two frames swapped', async () => {
    const swapped = Buffer.concat([header, frame(1), frame(0), frame(2), frame(3)]);
    await expectRejected(openBlob(key, id, swapped, SIZE), 0);
  });

  it('rejects a dropped middle frame', async () => {
    const dropped = Buffer.concat([header, frame(0), frame(2), frame(3)]);
    await expectRejected(openBlob(key, id, dropped, SIZE), 1);
  });

  it('rejects a duplicated frame', async () => {
    const duplicated = Buffer.concat([header, frame(0), frame(0), frame(1), frame(2), frame(3)]);
    await expectRejected(openBlob(key, id, duplicated, SIZE), 1);
  });

  it('rejects the final frame moved forward in place of a full frame', async () => {
    const moved = Buffer.concat([header, frame(0), frame(1), frame(3)]);
    await expectRejected(openBlob(key, id, moved, 2 * F + 5), 2);
  });

  it('rejects trailing garbage after the final frame, holding the final frame back', async () => {
    const { released, error } = await openBlob(key, id, Buffer.concat([sealed, Buffer.from([0])]), SIZE);
    expect(error).toBeInstanceOf(IntegrityError);
    expect(released.equals(allowedBefore(3))).toBe(true);
  });

  it('rejects a frame spliced in from another object sealed under the same data key', async () => {
    const other = sealBuffer(key, identity({ objectId: 'other' }), patterned(SIZE, 1), { frameSize: F }).sealed;
    const spliced = Buffer.concat([header, frame(0), other.subarray(HEADER_SIZE + STRIDE, HEADER_SIZE + 2 * STRIDE), frame(2), frame(3)]);
    await expectRejected(openBlob(key, id, spliced, SIZE), 1);
  });

  it('rejects a frame spliced in from another part of the same object', async () => {
    const part2 = sealBuffer(key, identity({ partNumber: 2 }), patterned(SIZE, 2), { frameSize: F }).sealed;
    const spliced = Buffer.concat([header, frame(0), frame(1), part2.subarray(HEADER_SIZE + 2 * STRIDE, HEADER_SIZE + 3 * STRIDE), frame(3)]);
    await expectRejected(openBlob(key, id, spliced, SIZE), 2);
  });

  it('rejects frames under the header of another sealing of the same part (retried upload)', async () => {
    const retry = sealBuffer(key, id, plaintext, { frameSize: F }).sealed;
    const mixed = Buffer.concat([retry.subarray(0, HEADER_SIZE), frames]);
    await expectRejected(openBlob(key, id, mixed, SIZE), 0);
  });

  it('rejects a part blob swapped with another part of the same object', async () => {
    const part2 = sealBuffer(key, identity({ partNumber: 2 }), plaintext, { frameSize: F }).sealed;
    await expectRejected(openBlob(key, id, part2, SIZE), 0);
  });

  it('rejects a blob swapped in from another object, even with its own data key', async () => {
    const otherKey = dataKey();
    const other = sealBuffer(otherKey, identity({ objectId: 'other' }), plaintext, { frameSize: F }).sealed;
    await expectRejected(openBlob(key, id, other, SIZE), 0);
    await expectRejected(openBlob(otherKey, id, other, SIZE), 0);
  });

  it.each([
    ['objectId', identity({ objectId: 'obj-7f3b' })],
    ['bucket', identity({ bucket: 'photoz' })],
    ['part number', identity({ partNumber: 2 })],
  ])('rejects the wrong %s before any frame is read', async (_field, wrong) => {
    await expectRejected(openBlob(key, wrong, sealed, SIZE), 0);
  });

  it('rejects the wrong data key before any frame is read', async () => {
    await expectRejected(openBlob(dataKey(), id, sealed, SIZE), 0);
  });

  it.each([0, 1, SIZE - 1, SIZE + 1, 3 * F, 4 * F, 4 * F + 1, 100 * F, -1, 1.5])(
    'rejects a recorded plaintext size of %p',
    async (wrongSize) => {
      const { released, error } = await openBlob(key, id, sealed, wrongSize);
      expect(error).toBeInstanceOf(IntegrityError);
      expect(released.equals(plaintext)).toBe(false);
      // whatever came out is an authentic prefix from frames before the size's effect
      expect(plaintext.subarray(0, released.length).equals(released)).toBe(true);
      expect(released.length).toBeLessThan(3 * F + 1);
    },
  );

  it('reports the summary size the tamper corpus was built from', () => {
    expect(summary.sealedSize).toBe(HEADER_SIZE + SIZE + 4 * TAG_SIZE);
  });
});

describe('openBuffer against a tampered part', () => {
  it('rejects with IntegrityError rather than returning bytes', async () => {
    const tampered = Buffer.from(sealed);
    tampered[tampered.length - 1] = (tampered[tampered.length - 1] as number) ^ 1;
    await expect(openBuffer(key, id, tampered, SIZE)).rejects.toBeInstanceOf(IntegrityError);
  });
});

describe('ranged opener against tampering', () => {
  it('rejects a range whose frames are tampered and a range input cut short or overlong', async () => {
    const range = { start: F + 2, end: 2 * F + 3 }; // frames 1..2
    const rangeBytes = frames.subarray(STRIDE, 3 * STRIDE);
    const ok = await openStream(key, id, header, rangeBytes, SIZE, { range });
    expect(ok.error).toBeUndefined();
    expect(ok.released.equals(plaintext.subarray(range.start, range.end + 1))).toBe(true);

    const flipped = Buffer.from(rangeBytes);
    flipped[0] = (flipped[0] as number) ^ 1;
    const bad = await openStream(key, id, header, flipped, SIZE, { range });
    expect(bad.error).toBeInstanceOf(IntegrityError);
    expect(bad.released.length).toBe(0);

    const short = await openStream(key, id, header, rangeBytes.subarray(0, rangeBytes.length - 1), SIZE, { range });
    expect(short.error).toBeInstanceOf(IntegrityError);

    const long = await openStream(key, id, header, frames.subarray(STRIDE), SIZE, { range });
    expect(long.error).toBeInstanceOf(IntegrityError);

    const shifted = await openStream(key, id, header, frames.subarray(0, 2 * STRIDE), SIZE, { range });
    expect(shifted.error).toBeInstanceOf(IntegrityError);
    expect(shifted.released.length).toBe(0);
  });
});
