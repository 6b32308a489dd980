// Recovery's first step: what a blob says of itself. From the blob store alone (the wrapped key in the blob's
// metadata, two small range reads) and the key vault, the sealed metadata record of a version-2 blob
// (docs/FORMAT.md §14). Nothing here trusts the index; nothing unauthenticated is returned.
import type { Readable } from 'node:stream';
import { IntegrityError } from './errors';
import { HEADER_SIZE, MAX_TRAILER_SIZE, openSealedTrailer, type SealedMetadata } from './format';
import type { BlobStore, KeyVault } from './ports';
import { openStoredDataKey } from './sealing-context';

/** The first suffix fetched: a typical trailer is a few hundred bytes; a larger one costs a second read. */
const FIRST_TAIL_BYTES = 4096;
const LENGTH_BYTES = 4;

async function bytesOf(stream: Readable): Promise<Buffer> {
  const pieces: Buffer[] = [];
  for await (const piece of stream) pieces.push(piece as Buffer);
  return Buffer.concat(pieces);
}

/**
 * Opens the record of blob `blobId`. Throws IntegrityError when the blob's metadata or body was altered, moved or
 * truncated, or when it is a version-1 blob (no record); KMS errors (a disabled or deleted CMK) pass as
 * openStoredDataKey reports them, so a scan can tell "cannot open" from "tampered" and go on.
 */
export async function readBlobRecord(blobs: BlobStore, vault: KeyVault, blobId: string): Promise<SealedMetadata> {
  const { size, metadata } = await blobs.head(blobId);
  const bucket = metadata['sealstore-bucket'];
  const objectId = metadata['sealstore-object-id'];
  const keyId = metadata['sealstore-key-id'];
  const wrapped = metadata['sealstore-wrapped-key'];
  if (!bucket || !objectId || !keyId || !wrapped) {
    throw new IntegrityError(`blob ${blobId} carries no sealstore metadata (wrapped key, bucket, object id): it cannot be opened`);
  }
  if (size < HEADER_SIZE + LENGTH_BYTES) throw new IntegrityError(`blob ${blobId} is truncated`);
  let decodedBucket: string;
  try {
    decodedBucket = decodeURIComponent(bucket);
  } catch {
    throw new IntegrityError(`blob ${blobId} metadata names a malformed bucket`);
  }
  const { plaintext: dataKey } = await openStoredDataKey(vault, { bucket: decodedBucket, objectId, keyId, wrappedKey: Buffer.from(wrapped, 'base64') });
  try {
    const read = (start: number): Promise<Buffer> => blobs.get(blobId, { start, end: size - 1 }).then(bytesOf);
    const header = await blobs.get(blobId, { start: 0, end: HEADER_SIZE - 1 }).then(bytesOf);
    let tail = await read(Math.max(HEADER_SIZE, size - FIRST_TAIL_BYTES));
    const wanted = tail.readUInt32BE(tail.length - LENGTH_BYTES) + LENGTH_BYTES;
    // A longer trailer than the first read holds: one more read, bounded (a bogus length fails in openSealedTrailer).
    if (wanted > tail.length && wanted <= MAX_TRAILER_SIZE + LENGTH_BYTES && size - wanted >= HEADER_SIZE) tail = await read(size - wanted);
    return openSealedTrailer(dataKey, header, tail, size, blobId);
  } finally {
    dataKey.fill(0);
  }
}
