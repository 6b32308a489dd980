// Seals one part from a plaintext stream and stores it as one blob, measuring size and MD5 on the way through.
import { createHash } from 'node:crypto';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { createSealer, type PartIdentity } from './format';
import { InternalError } from './errors';
import { sealedEtag } from './etag';
import type { BlobMetadata, BlobStore } from './ports';
import type { PartRecord } from './records';

/** Passes bytes through unchanged while hashing them; the MD5 never leaves memory unkeyed (see sealedEtag). */
class Md5Meter extends Transform {
  private readonly hash = createHash('md5');
  bytes = 0;
  digest: Buffer | undefined;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    this.digest = this.hash.digest();
    callback();
  }
}

/**
 * Streams `plaintext` through the sealer into the blob store. Memory stays at about one frame whatever the
 * part size, so a copy can move a multi-GiB part without buffering it.
 */
export async function writeSealedPart(
  blobs: BlobStore,
  dataKey: Buffer,
  id: PartIdentity,
  blobId: string,
  plaintext: Readable,
  metadata: BlobMetadata,
  frameSize?: number,
): Promise<PartRecord> {
  const sealer = createSealer(dataKey, id, { frameSize });
  const meter = new Md5Meter();
  plaintext.on('error', (e) => meter.destroy(e));
  meter.on('error', (e) => sealer.destroy(e));
  const { size } = await blobs.put(blobId, plaintext.pipe(meter).pipe(sealer), metadata);
  const summary = sealer.summary();
  if (summary.sealedSize !== size || summary.plaintextSize !== meter.bytes || meter.digest === undefined) {
    throw new InternalError(`blob ${blobId} was stored with ${size} bytes, expected ${summary.sealedSize}`);
  }
  return {
    partNumber: id.partNumber,
    blobId,
    plaintextSize: summary.plaintextSize,
    sealedSize: summary.sealedSize,
    header: summary.header,
    etag: sealedEtag(dataKey, meter.digest),
  };
}
