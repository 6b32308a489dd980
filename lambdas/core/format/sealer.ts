// Sealing one part: header, then frames of AES-256-GCM under the part key; a stream and a buffer form.
import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { EntityTooLargeError } from '../errors';
import { DEFAULT_FRAME_SIZE, FORMAT_VERSION_1, FORMAT_VERSION_2, MAX_PART_SIZE, SALT_SIZE, TAG_SIZE } from './constants';
import { FrameAad, frameNonce } from './frame-binding';
import { sealedSize } from './geometry';
import { encodeHeader, encodeHeaderPrefix } from './header';
import type { PartIdentity } from './identity';
import { transformStep } from './transform-step';
import { derivePartKeys, type PartKeys } from './keys';
import { sealTrailer, type RecordInput } from './record';

export interface SealOptions {
  readonly frameSize?: number;
  /** Fixed salt, for test vectors only: a repeated salt repeats the part key. */
  readonly salt?: Buffer;
  /**
   * The metadata record (docs/FORMAT.md §14): with it the part is sealed as version 2, the record after the last
   * frame; without it, as version 1 (kept for its published vectors; the service always gives one).
   */
  readonly record?: RecordInput;
}

export interface SealedPartSummary {
  readonly partNumber: number;
  readonly plaintextSize: number;
  /** The whole blob: header, frames and, in version 2, the trailer. */
  readonly sealedSize: number;
  readonly frameSize: number;
  /** The encoded header bytes; not secret. */
  readonly header: Buffer;
  /**
   * SHA-256 over the header and every frame's GCM tag, in order. The tags authenticate every plaintext byte
   * under the part key, so this digest changes with any change of contents, yet it is computed from the
   * ciphertext's own authenticators: no second pass over the plaintext, and nothing about it that the blob
   * does not already show. The store keys it into the ETag (lambdas/core/etag.ts).
   */
  readonly tagDigest: Buffer;
}

type Emit = (bytes: Buffer) => void;

/**
 * The framing state machine, free of stream plumbing. It holds at most one frame of plaintext (plus the
 * chunk that proved the frame is not the last): a frame's AAD carries the final flag, and GCM needs the
 * AAD before the data, so a frame is sealed only once we know whether more bytes follow. Pending chunks
 * are kept by reference, not copied: as with any Writable, a chunk must not be mutated once written.
 */
export class PartSealer {
  readonly header: Buffer;
  readonly frameSize: number;
  private readonly keys: PartKeys;
  private readonly aad: FrameAad;
  private readonly partNumber: number;
  private readonly id: PartIdentity;
  private readonly record: RecordInput | undefined;
  private trailerSize = 0;
  private pending: Buffer[] = [];
  private pendingLength = 0;
  private nextFrame = 0;
  private plaintextSize = 0;
  private finished = false;
  private readonly tags = createHash('sha256');
  private digest: Buffer | undefined;

  constructor(dataKey: Buffer, id: PartIdentity, options: SealOptions = {}) {
    this.frameSize = options.frameSize ?? DEFAULT_FRAME_SIZE;
    this.record = options.record;
    const version = this.record ? FORMAT_VERSION_2 : FORMAT_VERSION_1;
    const prefix = encodeHeaderPrefix(this.frameSize, version);
    const salt = options.salt ?? randomBytes(SALT_SIZE);
    this.keys = derivePartKeys(dataKey, salt, prefix, id, this.record !== undefined);
    this.aad = new FrameAad(id, version);
    this.partNumber = id.partNumber;
    this.id = id;
    this.header = encodeHeader(prefix, salt, this.keys.commitment);
    this.tags.update(this.header);
  }

  update(chunk: Buffer, emit: Emit): void {
    if (this.finished) throw new Error('sealer already finished');
    if (chunk.length === 0) return;
    if (this.plaintextSize + chunk.length > MAX_PART_SIZE) {
      // The last line of defence (the API refuses larger bodies and copy ranges before any byte is read): the
      // body's full size is unknown here, so no ProposedSize.
      throw new EntityTooLargeError(`Your proposed upload is more than ${MAX_PART_SIZE} bytes, the most one PUT or part holds.`, { MaxSizeAllowed: String(MAX_PART_SIZE) });
    }
    this.plaintextSize += chunk.length;
    this.pending.push(chunk);
    this.pendingLength += chunk.length;
    while (this.pendingLength > this.frameSize) this.sealFrame(this.frameSize, false, emit);
  }

  finish(emit: Emit): SealedPartSummary {
    if (this.finished) throw new Error('sealer already finished');
    this.sealFrame(this.pendingLength, true, emit);
    this.finished = true;
    this.digest = this.tags.digest();
    if (this.record) this.sealRecord(this.record, this.digest, emit);
    return this.summary();
  }

  summary(): SealedPartSummary {
    if (!this.finished) throw new Error('summary is available once the sealer has ended');
    return {
      partNumber: this.partNumber,
      plaintextSize: this.plaintextSize,
      sealedSize: sealedSize(this.plaintextSize, this.frameSize) + this.trailerSize,
      frameSize: this.frameSize,
      header: this.header,
      tagDigest: this.digest as Buffer,
    };
  }

  /** Seals the metadata record once the size and tags are known; one small AES-GCM seal per part. */
  private sealRecord(record: RecordInput, tagDigest: Buffer, emit: Emit): void {
    const recordKey = this.keys.recordKey as Buffer;
    try {
      const body = { ...record.fields(), ...this.id, plaintextSize: this.plaintextSize, tagDigest };
      const trailer = sealTrailer(recordKey, this.header, this.id, record.blobId, body);
      this.trailerSize = trailer.length;
      emit(trailer);
    } finally {
      recordKey.fill(0);
    }
  }

  /** Encrypts the next `length` pending bytes slice by slice: no concatenation of input chunks. */
  private sealFrame(length: number, final: boolean, emit: Emit): void {
    const index = this.nextFrame++;
    const cipher = createCipheriv('aes-256-gcm', this.keys.frameKey, frameNonce(index));
    cipher.setAAD(this.aad.for(index, final));
    let remaining = length;
    while (remaining > 0) {
      const head = this.pending[0] as Buffer;
      if (head.length <= remaining) {
        this.pending.shift();
        emit(cipher.update(head));
        remaining -= head.length;
      } else {
        emit(cipher.update(head.subarray(0, remaining)));
        this.pending[0] = head.subarray(remaining);
        remaining = 0;
      }
    }
    this.pendingLength -= length;
    cipher.final(); // GCM is a stream mode: final() yields no bytes, it computes the tag
    const tag = cipher.getAuthTag();
    this.tags.update(tag);
    emit(tag);
  }
}

/** A Transform from plaintext to the sealed blob (header then frames). summary() is valid after 'end'. */
export class Sealer extends Transform {
  private readonly core: PartSealer;
  private headerSent = false;
  private result: SealedPartSummary | undefined;

  constructor(dataKey: Buffer, id: PartIdentity, options?: SealOptions) {
    // Buffer about one frame each side (default 16 KiB would force a drain round trip per frame).
    const frameSize = options?.frameSize ?? DEFAULT_FRAME_SIZE;
    super({ writableHighWaterMark: frameSize, readableHighWaterMark: frameSize + TAG_SIZE });
    this.core = new PartSealer(dataKey, id, options);
  }

  summary(): SealedPartSummary {
    if (this.result === undefined) throw new Error('summary is available once the sealer has ended');
    return this.result;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    transformStep(callback, () => {
      this.sendHeader();
      this.core.update(chunk, this.pushBytes);
    });
  }

  override _flush(callback: TransformCallback): void {
    transformStep(callback, () => {
      this.sendHeader();
      this.result = this.core.finish(this.pushBytes);
    });
  }

  private readonly pushBytes = (bytes: Buffer): void => {
    if (bytes.length > 0) this.push(bytes);
  };

  private sendHeader(): void {
    if (this.headerSent) return;
    this.headerSent = true;
    this.push(this.core.header);
  }
}

export function createSealer(dataKey: Buffer, id: PartIdentity, options?: SealOptions): Sealer {
  return new Sealer(dataKey, id, options);
}

export function sealBuffer(
  dataKey: Buffer,
  id: PartIdentity,
  plaintext: Buffer,
  options?: SealOptions,
): { sealed: Buffer; summary: SealedPartSummary } {
  const sealer = new PartSealer(dataKey, id, options);
  const pieces: Buffer[] = [sealer.header];
  const emit: Emit = (bytes) => pieces.push(bytes);
  sealer.update(plaintext, emit);
  const summary = sealer.finish(emit);
  return { sealed: Buffer.concat(pieces, summary.sealedSize), summary };
}
