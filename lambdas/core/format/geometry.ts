// Frame arithmetic: how many frames a part has, how long each is, and which sealed bytes cover a plaintext range.
import { InvalidRangeError } from '../errors';
import { HEADER_SIZE, MAX_FRAMES_PER_PART, MAX_PART_SIZE, TAG_SIZE } from './constants';
import { assertFrameSize } from './header';

export interface SealedRange {
  /** Inclusive offsets inside the sealed part blob (header included in the numbering), frame-aligned, ≥ HEADER_SIZE. */
  readonly start: number;
  readonly end: number;
  readonly firstFrame: number;
  readonly lastFrame: number;
}

export interface PlaintextRange {
  readonly start: number;
  readonly end: number;
}

export function assertPlaintextSize(plaintextSize: number): void {
  if (!Number.isSafeInteger(plaintextSize) || plaintextSize < 0 || plaintextSize > MAX_PART_SIZE) {
    throw new RangeError(`plaintextSize must be an integer in 0..${MAX_PART_SIZE}`);
  }
}

/** An empty part still has one (final, empty) frame, so truncating it to nothing is detectable. */
export function frameCount(plaintextSize: number, frameSize: number): number {
  return plaintextSize === 0 ? 1 : Math.ceil(plaintextSize / frameSize);
}

/** Plaintext length of frame `index`: frameSize for all but the last. */
export function framePlaintextLength(plaintextSize: number, frameSize: number, index: number): number {
  const last = frameCount(plaintextSize, frameSize) - 1;
  return index < last ? frameSize : plaintextSize - last * frameSize;
}

export function sealedSize(plaintextSize: number, frameSize: number): number {
  assertPlaintextSize(plaintextSize);
  assertFrameSize(frameSize);
  return HEADER_SIZE + plaintextSize + frameCount(plaintextSize, frameSize) * TAG_SIZE;
}

export function assertFrameCount(plaintextSize: number, frameSize: number): void {
  if (frameCount(plaintextSize, frameSize) > MAX_FRAMES_PER_PART) {
    throw new RangeError(`a part may hold at most ${MAX_FRAMES_PER_PART} frames`);
  }
}

/** Sealed bytes holding frames firstFrame..lastFrame of a part. */
export function sealedRangeOfFrames(
  plaintextSize: number,
  frameSize: number,
  firstFrame: number,
  lastFrame: number,
): SealedRange {
  const stride = frameSize + TAG_SIZE;
  const start = HEADER_SIZE + firstFrame * stride;
  const end = HEADER_SIZE + lastFrame * stride + framePlaintextLength(plaintextSize, frameSize, lastFrame) + TAG_SIZE - 1;
  return { start, end, firstFrame, lastFrame };
}

/**
 * Maps an inclusive plaintext range to the sealed bytes to fetch. The range must lie inside the part
 * (the service clamps client ranges first, as S3 does); an empty part has no satisfiable range.
 */
export function sealedRangeFor(plaintextSize: number, frameSize: number, range: PlaintextRange): SealedRange {
  assertPlaintextSize(plaintextSize);
  assertFrameSize(frameSize);
  const { start, end } = range;
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || start > end || end >= plaintextSize) {
    throw new InvalidRangeError(`range ${start}-${end} is not satisfiable for ${plaintextSize} bytes`);
  }
  return sealedRangeOfFrames(plaintextSize, frameSize, Math.floor(start / frameSize), Math.floor(end / frameSize));
}

/** The whole part, all frames. */
export function sealedRangeOfPart(plaintextSize: number, frameSize: number): SealedRange {
  assertPlaintextSize(plaintextSize);
  assertFrameSize(frameSize);
  return sealedRangeOfFrames(plaintextSize, frameSize, 0, frameCount(plaintextSize, frameSize) - 1);
}
