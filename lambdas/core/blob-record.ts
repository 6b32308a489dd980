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

/** A blob's record, opened, with what recovery needs to rebuild its index row while the data key is open. */
export interface OpenedBlob {
  readonly record: SealedMetadata;
  /** The object id the blob's store metadata names: the KMS encryption context the data key opened under. */
  readonly contextObjectId: string;
  readonly keyId: string;
  readonly keyMaterialId: string;
  readonly wrappedKey: Buffer;
}

/**
 * Opens the record of blob `blobId`. Throws IntegrityError when the blob's metadata or body was altered, moved or
 * truncated, or when it is a version-1 blob (no record); KMS errors (a disabled or deleted CMK) pass as
 * openStoredDataKey reports them, so a scan can tell "cannot open" from "tampered" and go on.
 */
export async function readBlobRecord(blobs: BlobStore, vault: KeyVault, blobId: string): Promise<SealedMetadata> {
  return withBlobRecord(blobs, vault, blobId, (opened) => Promise.resolve(opened.record));
}

/**
 * As readBlobRecord, and runs `use` with the data key open (zeroed when `use` settles): recovery computes the
 * index row's keyed values (ETag, name tag, object MAC, sealed checksums) from it, with no second KMS call.
 */
export async function withBlobRecord<T>(blobs: BlobStore, vault: KeyVault, blobId: string, use: (opened: OpenedBlob, dataKey: Buffer) => Promise<T>): Promise<T> {
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
  const wrappedKey = Buffer.from(wrapped, 'base64');
  const unwrapped = await openStoredDataKey(vault, { bucket: decodedBucket, objectId, keyId, wrappedKey });
  const dataKey = unwrapped.plaintext;
  try {
    const read = (start: number): Promise<Buffer> => blobs.get(blobId, { start, end: size - 1 }).then(bytesOf);
    const header = await blobs.get(blobId, { start: 0, end: HEADER_SIZE - 1 }).then(bytesOf);
    let tail = await read(Math.max(HEADER_SIZE, size - FIRST_TAIL_BYTES));
    const wanted = tail.readUInt32BE(tail.length - LENGTH_BYTES) + LENGTH_BYTES;
    // A longer trailer than the first read holds: one more read, bounded (a bogus length fails in openSealedTrailer).
    if (wanted > tail.length && wanted <= MAX_TRAILER_SIZE + LENGTH_BYTES && size - wanted >= HEADER_SIZE) tail = await read(size - wanted);
    const record = openSealedTrailer(dataKey, header, tail, size, blobId);
    // The record's place must be the one KMS bound the key to: a blob whose metadata names another object is refused.
    if (record.bucket !== decodedBucket || record.objectId !== objectId) {
      throw new IntegrityError(`blob ${blobId}'s record names ${record.bucket}/${record.objectId}, its metadata ${decodedBucket}/${objectId}`);
    }
    return await use({ record, contextObjectId: objectId, keyId: unwrapped.keyId, keyMaterialId: unwrapped.keyMaterialId, wrappedKey }, dataKey);
  } finally {
    dataKey.fill(0);
  }
}
