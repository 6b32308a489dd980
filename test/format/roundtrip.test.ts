// Round trips: every size edge, multipart objects, every range of a small part, random ranges of a larger one.
import fc from 'fast-check';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  computeObjectMac,
  createSealer,
  DEFAULT_FRAME_SIZE,
  HEADER_SIZE,
  openBuffer,
  sealBuffer,
  sealedSize,
  TAG_SIZE,
  verifyObjectMac,
} from '../../lambdas/core/format';
import { dataKey, identity, openBlob, openRange, patterned, SMALL_FRAME } from './helpers';

describe('sealBuffer / openBuffer', () => {
  const F = SMALL_FRAME;
  it.each([0, 1, F - 1, F, F + 1, 2 * F, 10 * F + 3, 1000])('round-trips %i bytes with 16-byte frames', async (size) => {
    const key = dataKey();
    const id = identity();
    const plaintext = patterned(size);

    const { sealed, summary } = sealBuffer(key, id, plaintext, { frameSize: F });

    expect(sealed.length).toBe(sealedSize(size, F));
    expect(summary).toMatchObject({ partNumber: 1, plaintextSize: size, sealedSize: sealed.length, frameSize: F });
    expect(summary.header.equals(sealed.subarray(0, HEADER_SIZE))).toBe(true);
    expect((await openBuffer(key, id, sealed, size)).equals(plaintext)).toBe(true);
  });

  it('seals an empty part as one final frame holding only a tag', () => {
    const { sealed } = sealBuffer(dataKey(), identity(), Buffer.alloc(0), { frameSize: F });
    expect(sealed.length).toBe(HEADER_SIZE + TAG_SIZE);
  });

  it('never lets ciphertext equal the plaintext', () => {
    const plaintext = patterned(4 * F);
    const { sealed } = sealBuffer(dataKey(), identity(), plaintext, { frameSize: F });
    expect(sealed.includes(plaintext.subarray(0, 8))).toBe(false);
  });

  it('uses 64 KiB frames by default', async () => {
    const key = dataKey();
    const plaintext = patterned(3 * DEFAULT_FRAME_SIZE + 5);
    const { sealed, summary } = sealBuffer(key, identity(), plaintext);
    expect(summary.frameSize).toBe(64 * 1024);
    expect(sealed.length).toBe(HEADER_SIZE + plaintext.length + 4 * TAG_SIZE);
    expect((await openBuffer(key, identity(), sealed, plaintext.length)).equals(plaintext)).toBe(true);
  });
});

describe('createSealer', () => {
  it('produces the same frames whatever the input chunking', async () => {
    const key = dataKey();
    const salt = Buffer.alloc(32, 9);
    const plaintext = patterned(777);
    const expected = sealBuffer(key, identity(), plaintext, { frameSize: 64, salt }).sealed;
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: 0, max: 200 }), { maxLength: 12 }), async (cuts) => {
        const points = [...new Set(cuts.map((c) => Math.min(c * 4, plaintext.length)))].sort((a, b) => a - b);
        const chunks: Buffer[] = [];
        let previous = 0;
        for (const point of [...points, plaintext.length]) {
          chunks.push(plaintext.subarray(previous, point));
          previous = point;
        }
        const sealer = createSealer(key, identity(), { frameSize: 64, salt });
        const out: Buffer[] = [];
        sealer.on('data', (bytes: Buffer) => out.push(bytes));
        await pipeline(Readable.from(chunks.filter((c) => c.length > 0)), sealer);
        expect(Buffer.concat(out).equals(expected)).toBe(true);
        expect(sealer.summary().sealedSize).toBe(expected.length);
      }),
      { numRuns: 60 },
    );
  });

  it('reports its summary only after the stream has ended', async () => {
    const sealer = createSealer(dataKey(), identity({ partNumber: 42 }), { frameSize: 32 });
    expect(() => sealer.summary()).toThrow();
    const out: Buffer[] = [];
    sealer.on('data', (bytes: Buffer) => out.push(bytes));
    await pipeline(Readable.from([patterned(100)]), sealer);
    expect(sealer.summary()).toMatchObject({ partNumber: 42, plaintextSize: 100, sealedSize: Buffer.concat(out).length });
  });

  it('seals an empty stream to a header and one empty final frame', async () => {
    const key = dataKey();
    const sealer = createSealer(key, identity(), { frameSize: 32 });
    const out: Buffer[] = [];
    sealer.on('data', (bytes: Buffer) => out.push(bytes));
    await pipeline(Readable.from([]), sealer);
    const blob = Buffer.concat(out);
    expect(blob.length).toBe(HEADER_SIZE + TAG_SIZE);
    expect((await openBuffer(key, identity(), blob, 0)).length).toBe(0);
  });

  it('rejects frame sizes below 16 bytes', () => {
    expect(() => createSealer(dataKey(), identity(), { frameSize: 15 })).toThrow(RangeError);
  });
});

describe('multipart objects', () => {
  it('seals parts independently, concurrently and in any order; each opens on its own and the object MAC holds', async () => {
    const key = dataKey();
    const plaintexts = new Map([1, 2, 3, 10000].map((n) => [n, patterned(50 + (n % 97), n)] as const));
    const sealedParts = await Promise.all(
      [10000, 2, 3, 1].map(async (partNumber) => {
        const sealer = createSealer(key, identity({ partNumber }), { frameSize: 16 });
        const out: Buffer[] = [];
        sealer.on('data', (bytes: Buffer) => out.push(bytes));
        await pipeline(Readable.from([plaintexts.get(partNumber) as Buffer]), sealer);
        return { blob: Buffer.concat(out), summary: sealer.summary() };
      }),
    );
    for (const { blob, summary } of sealedParts) {
      const opened = await openBuffer(key, identity({ partNumber: summary.partNumber }), blob, summary.plaintextSize);
      expect(opened.equals(plaintexts.get(summary.partNumber) as Buffer)).toBe(true);
    }
    const ordered = sealedParts.map((p) => p.summary).sort((a, b) => a.partNumber - b.partNumber);
    const mac = computeObjectMac(key, 'photos', 'obj-7f3a', ordered);
    expect(() => verifyObjectMac(key, 'photos', 'obj-7f3a', ordered, mac)).not.toThrow();
  });
});

describe('createOpener ranges', () => {
  const F = SMALL_FRAME;
  const size = 5 * F + 3;
  const key = dataKey();
  const plaintext = patterned(size);
  const { sealed } = sealBuffer(key, identity(), plaintext, { frameSize: F });

  it('opens the whole part through the stream whatever the chunk size', async () => {
    for (const chunkSize of [1, 5, F, F + TAG_SIZE, 1000]) {
      const { released, error } = await openBlob(key, identity(), sealed, size, chunkSize);
      expect(error).toBeUndefined();
      expect(released.equals(plaintext)).toBe(true);
    }
  });

  it('returns exactly every range of a small part (exhaustive)', async () => {
    for (let start = 0; start < size; start++) {
      for (let end = start; end < size; end++) {
        const { released, error } = await openRange(key, identity(), sealed, size, F, { start, end }, 13);
        expect(error).toBeUndefined();
        if (!released.equals(plaintext.subarray(start, end + 1))) throw new Error(`range ${start}-${end} differs`);
      }
    }
  });

  it('returns exactly random ranges of a larger part', async () => {
    const bigKey = dataKey();
    const bigSize = 300_000;
    const frameSize = 4096;
    const big = patterned(bigSize, 3);
    const bigSealed = sealBuffer(bigKey, identity(), big, { frameSize }).sealed;
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: bigSize - 1 }),
        fc.integer({ min: 0, max: bigSize - 1 }),
        fc.integer({ min: 1024, max: 70_000 }),
        async (a, b, chunkSize) => {
          const range = { start: Math.min(a, b), end: Math.max(a, b) };
          const { released, error } = await openRange(bigKey, identity(), bigSealed, bigSize, frameSize, range, chunkSize);
          expect(error).toBeUndefined();
          expect(released.equals(big.subarray(range.start, range.end + 1))).toBe(true);
        },
      ),
      { numRuns: 100 },
    );
  });
});
