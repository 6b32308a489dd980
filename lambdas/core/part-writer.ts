// Seals one part from a plaintext stream and stores it as one blob; its ETag comes from the frame tags on the way.
import type { Readable } from 'node:stream';
import { createSealer, type PartIdentity } from './format';
import { InternalError } from './errors';
import { sealedEtag } from './etag';
import type { BlobMetadata, BlobStore, BlobWriteOptions } from './ports';
import type { PartRecord } from './records';
import { chain } from './stream-chain';

/**
 * Streams `plaintext` through the sealer into the blob store. Memory stays at about one frame whatever the
 * part size. An error in the plaintext stream (a body that failed verification, a client gone) ends the
 * sealed stream with that error, so the blob store stores nothing.
 */
export async function writeSealedPart(
  blobs: BlobStore,
  dataKey: Buffer,
  id: PartIdentity,
  blobId: string,
  plaintext: Readable,
  metadata: BlobMetadata,
  frameSize?: number,
  options?: BlobWriteOptions,
): Promise<PartRecord> {
  const sealer = createSealer(dataKey, id, { frameSize });
  chain(plaintext, [sealer]); // an error in the plaintext reaches the store through `sealer`, destroyed with it
  const { size } = await blobs.put(blobId, sealer, metadata, options);
  const summary = sealer.summary();
  if (summary.sealedSize !== size) {
    throw new InternalError(`blob ${blobId} was stored with ${size} bytes, expected ${summary.sealedSize}`);
  }
  return {
    partNumber: id.partNumber,
    blobId,
    plaintextSize: summary.plaintextSize,
    sealedSize: summary.sealedSize,
    header: summary.header,
    etag: sealedEtag(dataKey, summary.tagDigest),
  };
}
