// Seals one part from a plaintext stream and stores it as one blob; its ETag comes from the frame tags on the way.
import type { Readable } from 'node:stream';
import { createSealer, type PartIdentity, type SealedRecordFields } from './format';
import { InternalError } from './errors';
import { sealedEtag } from './etag';
import type { Garbage } from './garbage';
import { newBlobId } from './ids';
import type { BlobMetadata, BlobStore, BlobWriteOptions } from './ports';
import type { PartRecord, PendingOwner } from './records';
import { chain } from './stream-chain';

/**
 * What the blob's sealed metadata record says of its object (docs/FORMAT.md §14), read once the body has ended
 * (the checksum is known then): with it, the blob store alone is enough to rebuild the index.
 */
export type PartRecordFields = () => SealedRecordFields;

/** Stored headers as the record keeps them: only those present. */
export function presentHeaders(headers: Readonly<Partial<Record<string, string>>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) if (value !== undefined) out[name] = value;
  return out;
}

/**
 * Streams `plaintext` through the sealer into the blob store. Memory stays at about one frame whatever the
 * part size. An error in the plaintext stream (a body that failed verification, a client gone) ends the
 * sealed stream with that error, so the blob store stores nothing. The blob is sealed as format version 2: its
 * metadata record (`fields`) follows the last frame, bound to `blobId`.
 */
export async function writeSealedPart(
  blobs: BlobStore,
  dataKey: Buffer,
  id: PartIdentity,
  blobId: string,
  plaintext: Readable,
  metadata: BlobMetadata,
  fields: PartRecordFields,
  frameSize?: number,
  options?: BlobWriteOptions,
): Promise<PartRecord> {
  const sealer = createSealer(dataKey, id, { frameSize, record: { blobId, fields } });
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

export interface PendingPartDeps {
  readonly blobs: BlobStore;
  readonly garbage: Garbage;
  readonly now: () => Date;
  readonly frameSize?: number;
}

/**
 * Every sealed write goes through here (PUT, part, copy): a fresh blob, listed in the ledger as pending before it
 * can become visible, then `commit`, whose transaction must consume that pending entry. If the body, the blob
 * store or the commit fails, the pending entry and the blob are discarded — unless the commit landed and only
 * its reply was lost, in which case the blob is live and kept (Garbage.discardPending). The plaintext is opened
 * only once the pending entry is on its way.
 */
export async function writePendingPart<T>(
  deps: PendingPartDeps,
  owner: PendingOwner,
  dataKey: Buffer,
  id: PartIdentity,
  plaintext: () => Readable | Promise<Readable>,
  metadata: BlobMetadata,
  fields: PartRecordFields,
  commit: (part: PartRecord) => Promise<T>,
): Promise<T> {
  const blobId = newBlobId();
  const pending = deps.garbage.recordPending(blobId, deps.now(), owner);
  try {
    const part = await writeSealedPart(deps.blobs, dataKey, id, blobId, await plaintext(), metadata, fields, deps.frameSize, {
      beforePublish: () => pending,
    });
    return await commit(part);
  } catch (e) {
    await pending.catch(() => undefined);
    await deps.garbage.discardPending([blobId]);
    throw e;
  }
}
