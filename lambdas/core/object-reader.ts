// Reading an object: unwrap its data key, check everything checkable before the first byte (the part list's
// MAC and the name binding), then stream only the frames a range touches. Tampering found later in the stream
// destroys the stream; tampering found here fails before any status line is sent.
import { Readable } from 'node:stream';
import { verifyObjectMac } from './format';
import { verifyNameTag } from './name-binding';
import { openRange } from './part-reader';
import type { BlobStore, ByteRange, KeyVault } from './ports';
import type { ObjectRecord } from './records';
import { openStoredDataKey } from './sealing-context';

/** Runs `use` with the object's verified data key and zeroes the key afterwards, whatever `use` does. */
export async function withObjectKey<T>(vault: KeyVault, record: ObjectRecord, use: (dataKey: Buffer) => Promise<T>): Promise<T> {
  const { plaintext: dataKey } = await openStoredDataKey(vault, record);
  try {
    verifyObjectMac(dataKey, record.bucket, record.objectId, record.parts, record.mac);
    verifyNameTag(dataKey, record.bucket, record.key, record.objectId, record.nameTag, record.versionId);
    return await use(dataKey);
  } finally {
    dataKey.fill(0);
  }
}

/** The plaintext of a verified object, whole or one inclusive byte range, across part boundaries. */
export function plaintextOf(blobs: BlobStore, record: ObjectRecord, dataKey: Buffer, range?: ByteRange): Promise<Readable> {
  if (record.size === 0) return Promise.resolve(Readable.from([]));
  return openRange(blobs, record, dataKey, range ?? { start: 0, end: record.size - 1 });
}

/** Opens an object's plaintext; everything that can fail before the first byte fails here. */
export function openObject(vault: KeyVault, blobs: BlobStore, record: ObjectRecord, range?: ByteRange): Promise<Readable> {
  return withObjectKey(vault, record, (dataKey) => plaintextOf(blobs, record, dataKey, range));
}
