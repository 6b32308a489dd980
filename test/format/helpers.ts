// Shared fixtures for the format tests: keys, identities, and a stream harness that records what an opener released.
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { createOpener, HEADER_SIZE, type PartIdentity, sealedRangeFor } from '../../lambdas/core/format';

export const SMALL_FRAME = 16;

export function dataKey(): Buffer {
  return randomBytes(32);
}

export function identity(overrides: Partial<PartIdentity> = {}): PartIdentity {
  return { bucket: 'photos', objectId: 'obj-7f3a', partNumber: 1, ...overrides };
}

/** Deterministic, non-repeating bytes (so a frame moved elsewhere would be visible as different plaintext). */
export function patterned(size: number, seed = 0): Buffer {
  const out = Buffer.alloc(size);
  for (let i = 0; i < size; i++) out[i] = (i * 31 + seed * 7 + (i >> 8)) & 0xff;
  return out;
}

export interface OpenResult {
  /** Everything the opener emitted, verified or not: the tests assert what may be in here. */
  readonly released: Buffer;
  readonly error: unknown;
}

/**
 * Feeds `frames` (sealed bytes after the header, from the range's first frame) to a stream opener in
 * chunks of `chunkSize`, and records what came out. A synchronous constructor failure is an error
 * with nothing released.
 */
export async function openStream(
  key: Buffer,
  id: PartIdentity,
  header: Buffer,
  frames: Buffer,
  plaintextSize: number,
  options: { range?: { start: number; end: number }; chunkSize?: number } = {},
): Promise<OpenResult> {
  let opener;
  try {
    opener = createOpener(key, id, { header, plaintextSize, range: options.range });
  } catch (error) {
    return { released: Buffer.alloc(0), error };
  }
  const chunkSize = options.chunkSize ?? 7;
  const chunks: Buffer[] = [];
  for (let offset = 0; offset < frames.length; offset += chunkSize) {
    chunks.push(frames.subarray(offset, offset + chunkSize));
  }
  const released: Buffer[] = [];
  const source = Readable.from(chunks);
  return new Promise((resolve) => {
    let settled = false;
    const settle = (error: unknown): void => {
      if (settled) return;
      settled = true;
      resolve({ released: Buffer.concat(released), error });
    };
    opener.on('data', (bytes: Buffer) => released.push(bytes));
    opener.on('end', () => settle(undefined));
    opener.on('error', (error) => settle(error));
    source.pipe(opener);
  });
}

/** Opens a whole sealed blob (header + frames) through the stream opener. */
export function openBlob(
  key: Buffer,
  id: PartIdentity,
  blob: Buffer,
  plaintextSize: number,
  chunkSize?: number,
): Promise<OpenResult> {
  return openStream(key, id, blob.subarray(0, HEADER_SIZE), blob.subarray(HEADER_SIZE), plaintextSize, { chunkSize });
}

/** Opens a plaintext range, fetching only the sealed bytes sealedRangeFor names. */
export function openRange(
  key: Buffer,
  id: PartIdentity,
  blob: Buffer,
  plaintextSize: number,
  frameSize: number,
  range: { start: number; end: number },
  chunkSize?: number,
): Promise<OpenResult> {
  const sealed = sealedRangeFor(plaintextSize, frameSize, range);
  return openStream(key, id, blob.subarray(0, HEADER_SIZE), blob.subarray(sealed.start, sealed.end + 1), plaintextSize, {
    range,
    chunkSize,
  });
}

export function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}
