// Opening one part: commitment check up front, then frame by frame, releasing plaintext only after its tag verifies.
import { createDecipheriv, type DecipherGCM, timingSafeEqual } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { IntegrityError } from '../errors';
import { FORMAT_VERSION_2, HEADER_SIZE, TAG_SIZE } from './constants';
import { FrameAad, frameNonce } from './frame-binding';
import {
  assertPlaintextSize,
  frameCount,
  framePlaintextLength,
  type PlaintextRange,
  sealedRangeFor,
  sealedRangeOfPart,
  sealedSize,
} from './geometry';
import { encodeHeaderPrefix, parseHeader } from './header';
import type { PartIdentity } from './identity';
import { derivePartKeys, type PartKeys } from './keys';
import { trailerLength } from './record';
import { transformStep } from './transform-step';

export interface OpenOptions {
  /** The part's header bytes (first HEADER_SIZE bytes of the blob), passed apart from the frames. */
  readonly header: Buffer;
  /** The part's plaintext length as the index records it; it decides frame lengths and which frame is final. */
  readonly plaintextSize: number;
  /** Inclusive plaintext range; the whole part when omitted. */
  readonly range?: PlaintextRange;
}

type Emit = (bytes: Buffer) => void;

/**
 * The opening state machine, free of stream plumbing. Input is the sealed bytes from the first frame the
 * range needs; output is exactly the range's plaintext. Holds at most one frame of plaintext, which it
 * keeps back until that frame's tag has verified.
 */
export class PartOpener {
  private readonly keys: PartKeys;
  private readonly aad: FrameAad;
  readonly frameSize: number;
  private readonly plaintextSize: number;
  private readonly lastFrame: number;
  private readonly rangeStart: number;
  private readonly rangeEnd: number; // exclusive
  private frame: number;
  private decipher: DecipherGCM | undefined;
  private cipherRemaining = 0;
  private readonly tag = Buffer.alloc(TAG_SIZE);
  private tagFill = 0;
  private held: Buffer[] = [];
  private done = false;
  private failed = false;

  /** Throws IntegrityError synchronously when the header is malformed or not committed to this key and identity. */
  constructor(dataKey: Buffer, id: PartIdentity, options: OpenOptions) {
    const parsed = parseHeader(options.header);
    try {
      assertPlaintextSize(options.plaintextSize);
    } catch {
      throw new IntegrityError('recorded plaintext size is out of bounds');
    }
    this.frameSize = parsed.frameSize;
    this.plaintextSize = options.plaintextSize;
    // Versions 1 and 2 frame alike; the version byte enters the key derivation and every frame's AAD.
    this.keys = derivePartKeys(dataKey, parsed.salt, encodeHeaderPrefix(parsed.frameSize, parsed.version), id);
    if (!timingSafeEqual(this.keys.commitment, parsed.commitment)) {
      throw new IntegrityError('sealed part is not committed to this data key and identity');
    }
    this.aad = new FrameAad(id, parsed.version);
    const range = options.range;
    const sealed = range
      ? sealedRangeFor(this.plaintextSize, this.frameSize, range)
      : sealedRangeOfPart(this.plaintextSize, this.frameSize);
    this.frame = sealed.firstFrame;
    this.lastFrame = sealed.lastFrame;
    this.rangeStart = range ? range.start : 0;
    this.rangeEnd = range ? range.end + 1 : this.plaintextSize;
  }

  update(chunk: Buffer, emit: Emit): void {
    if (this.failed) throw new IntegrityError('opener already failed');
    let offset = 0;
    while (offset < chunk.length) {
      if (this.done) {
        this.held = [];
        this.fail('trailing bytes after the last frame');
      }
      if (this.decipher === undefined) this.beginFrame();
      const decipher = this.decipher as DecipherGCM;
      if (this.cipherRemaining > 0) {
        const take = Math.min(this.cipherRemaining, chunk.length - offset);
        this.held.push(decipher.update(chunk.subarray(offset, offset + take)));
        this.cipherRemaining -= take;
        offset += take;
      } else {
        const take = Math.min(TAG_SIZE - this.tagFill, chunk.length - offset);
        chunk.copy(this.tag, this.tagFill, offset, offset + take);
        this.tagFill += take;
        offset += take;
        if (this.tagFill === TAG_SIZE) this.endFrame(decipher, emit);
      }
    }
  }

  /**
   * Releases the last frame once the input has ended with nothing after it: holding it back until then
   * means trailing garbage also releases nothing of it. Throws IntegrityError when the input stopped early.
   */
  finish(emit: Emit): void {
    if (this.failed) throw new IntegrityError('opener already failed');
    if (!this.done) this.fail('sealed part is truncated');
    this.release(emit);
  }

  private beginFrame(): void {
    // frameCount is recomputed from the recorded size: a size edited in the index moves the final flag and fails.
    const final = this.frame === frameCount(this.plaintextSize, this.frameSize) - 1;
    this.decipher = createDecipheriv('aes-256-gcm', this.keys.frameKey, frameNonce(this.frame));
    this.decipher.setAAD(this.aad.for(this.frame, final));
    this.cipherRemaining = framePlaintextLength(this.plaintextSize, this.frameSize, this.frame);
    this.tagFill = 0;
    this.held = [];
  }

  private endFrame(decipher: DecipherGCM, emit: Emit): void {
    decipher.setAuthTag(this.tag);
    try {
      decipher.final();
    } catch {
      this.held = [];
      this.fail(`frame ${this.frame} failed authentication`);
    }
    this.decipher = undefined;
    if (this.frame === this.lastFrame) {
      this.done = true; // released by finish()
    } else {
      this.release(emit);
      this.frame += 1;
    }
  }

  /** Emits the verified frame's plaintext, trimmed to the requested range. */
  private release(emit: Emit): void {
    let position = this.frame * this.frameSize;
    for (const piece of this.held) {
      const from = Math.max(this.rangeStart - position, 0);
      const to = Math.min(this.rangeEnd - position, piece.length);
      if (to > from) emit(from === 0 && to === piece.length ? piece : piece.subarray(from, to));
      position += piece.length;
    }
    this.held = [];
  }

  private fail(message: string): never {
    this.failed = true;
    throw new IntegrityError(message);
  }
}

/** A Transform from sealed frames to plaintext; it errors with IntegrityError on any tampering. */
export class Opener extends Transform {
  private readonly core: PartOpener;

  constructor(dataKey: Buffer, id: PartIdentity, options: OpenOptions) {
    const core = new PartOpener(dataKey, id, options); // throws before any stream exists
    // Buffer about one frame each side (default 16 KiB would force a drain round trip per frame).
    super({ writableHighWaterMark: core.frameSize + TAG_SIZE, readableHighWaterMark: core.frameSize });
    this.core = core;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    transformStep(callback, () => this.core.update(chunk, this.pushBytes));
  }

  override _flush(callback: TransformCallback): void {
    transformStep(callback, () => this.core.finish(this.pushBytes));
  }

  private readonly pushBytes = (bytes: Buffer): void => {
    this.push(bytes);
  };
}

/** Throws IntegrityError synchronously if the header's key commitment does not match, before any I/O. */
export function createOpener(dataKey: Buffer, id: PartIdentity, options: OpenOptions): Opener {
  return new Opener(dataKey, id, options);
}

/**
 * Opens a whole blob held in memory. A version-2 blob's trailer must have the length its last four bytes give, but
 * its record is not opened here (a GET reads frames only): readSealedMetadata does that.
 */
export async function openBuffer(
  dataKey: Buffer,
  id: PartIdentity,
  sealed: Buffer,
  plaintextSize: number,
): Promise<Buffer> {
  const opener = new PartOpener(dataKey, id, { header: sealed.subarray(0, HEADER_SIZE), plaintextSize });
  let frames = sealed.subarray(HEADER_SIZE);
  if (parseHeader(sealed).version === FORMAT_VERSION_2) {
    const end = sealedSize(plaintextSize, opener.frameSize);
    const trailer = trailerLength(sealed.subarray(sealed.length - 4), sealed.length);
    if (end + trailer + 4 !== sealed.length) throw new IntegrityError('sealed blob size does not match its frames and trailer');
    frames = sealed.subarray(HEADER_SIZE, end);
  }
  const pieces: Buffer[] = [];
  opener.update(frames, (bytes) => pieces.push(bytes));
  opener.finish((bytes) => pieces.push(bytes));
  return Buffer.concat(pieces, plaintextSize);
}
