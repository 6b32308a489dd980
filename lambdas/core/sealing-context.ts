// What binds a data key to its object: the KMS encryption context, and the metadata stored beside each blob.
import type { BlobMetadata, EncryptionContext } from './ports';
import type { ObjectRecord } from './records';

/** Encryption context binding a data key to the object it seals (KMS refuses any other). */
export function dataKeyContext(bucket: string, objectId: string): EncryptionContext {
  return { 'sealstore:bucket': bucket, 'sealstore:object': objectId };
}

/** Blob metadata: the wrapped data key travels with the ciphertext, so a blob alone is recoverable with KMS. */
export function blobMetadata(
  record: Pick<ObjectRecord, 'bucket' | 'objectId' | 'keyId' | 'keyMaterialId' | 'wrappedKey'>,
  partNumber: number,
): BlobMetadata {
  return {
    'sealstore-format': '1',
    'sealstore-bucket': encodeURIComponent(record.bucket),
    'sealstore-object-id': record.objectId,
    'sealstore-part': String(partNumber),
    'sealstore-key-id': record.keyId,
    'sealstore-key-material': record.keyMaterialId,
    'sealstore-wrapped-key': record.wrappedKey.toString('base64'),
  };
}
