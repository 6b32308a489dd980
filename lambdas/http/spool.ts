// Holding a request body while it is hashed, for the one request form whose signature covers the body's hash
// but does not declare it (curl --aws-sigv4 sends no x-amz-content-sha256): the signature can only be checked
// once every byte is in, and nothing may act on the request before it is.
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';

export interface SpooledBody {
  readonly size: number;
  /** Hex SHA-256 of the whole body. */
  readonly sha256Hex: string;
  /** The body again, from the start. */
  open(): Readable;
  dispose(): Promise<void>;
}

export interface SpoolLimit {
  readonly maxBytes: number;
  /** `lowerBound`: the body was cut off at `bytes`, its full size is unknown. */
  tooLarge(bytes: number, lowerBound?: boolean): Error;
}

export interface BodySpool {
  spool(body: Readable, limit: SpoolLimit): Promise<SpooledBody>;
}

/** Keeps the body in memory: for a front whose body is in memory already (Lambda), bounded by its limit. */
export const memorySpool: BodySpool = {
  async spool(body, limit) {
    const chunks: Buffer[] = [];
    const hash = createHash('sha256');
    let size = 0;
    for await (const chunk of body) {
      const bytes = chunk as Buffer;
      size += bytes.length;
      if (size > limit.maxBytes) {
        body.destroy();
        throw limit.tooLarge(size, true);
      }
      hash.update(bytes);
      chunks.push(bytes);
    }
    const all = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
    return {
      size,
      sha256Hex: hash.digest('hex'),
      open: () => Readable.from(all.length > 0 ? [all] : [], { objectMode: false }),
      dispose: async () => undefined,
    };
  },
};
