// What binds a data key to its object: the KMS encryption context, and the metadata stored beside each blob.
import { IntegrityError, isAlteredWrap, KmsNotFoundError } from './errors';
import type { BlobMetadata, EncryptionContext, KeyVault, UnwrappedKey } from './ports';
import type { ObjectRecord } from './records';
import { DATA_KEY_CONTEXT_KEYS } from './encryption-context';
import { FORMAT_VERSION, parseHeader } from './format';

/** Encryption context binding a data key to the object it seals (KMS refuses any other). */
export function dataKeyContext(bucket: string, objectId: string): EncryptionContext {
  const [bucketKey, objectKey] = DATA_KEY_CONTEXT_KEYS;
  return { [bucketKey]: bucket, [objectKey]: objectId };
}

/**
 * Opens a data key the store itself recorded (an object's, an upload's). If KMS says the wrapped key is not a
 * ciphertext for this object, names a CMK that does not exist, or one the store does not trust, the record was
 * tampered with: a server-side failure (500), never an error that blames the request. Throttling, outages and
 * a disabled CMK pass as they are.
 *
 * `record.keyId` is the CMK the (authenticated) record says wraps the key. When KMS no longer knows a CMK, the
 * record names, the record is as the store wrote it and the CMK itself is gone (deleted after its pending
 * window): that is said as such, naming the CMK, not reported as tampering.
 */
export async function openStoredDataKey(vault: KeyVault, record: WrappedKeyRecord): Promise<UnwrappedKey> {
  const { wrappedKey, bucket, objectId, keyId: recordedKeyId } = record;
  try {
    return await vault.decrypt(wrappedKey, dataKeyContext(bucket, objectId));
  } catch (e) {
    if (e instanceof KmsNotFoundError && namesNoOtherKey(e.message, recordedKeyId)) {
      throw Object.assign(
        new KmsNotFoundError(
          `The CMK ${recordedKeyId} that wraps this object's data key no longer exists in KMS (deleted after its pending window): the object cannot be decrypted. Delete it, or restore it from a copy made before the CMK was deleted.`,
        ),
        { cause: e },
      );
    }
    if (isAlteredWrap(e)) {
      throw new IntegrityError(`the data key recorded for object ${objectId} in ${bucket} does not open (${e.code}: ${e.message}): the record was altered; refusing it`);
    }
    throw e;
  }
}

/** KMS's message names no CMK, or this one (a NotFound naming another CMK than the record's is not a deletion). */
function namesNoOtherKey(message: string, keyId: string): boolean {
  const named = message.match(/arn:[^\s'"]+:key\/[A-Za-z0-9-]+/g) ?? [];
  return named.every((arn) => arn === keyId);
}

/** What an object or upload record holds of its data key: objects and uploads open theirs the same way. */
export type WrappedKeyRecord = Pick<ObjectRecord, 'wrappedKey' | 'bucket' | 'objectId' | 'keyId'>;

/**
 * Blob metadata: the wrapped data key travels with the ciphertext, so a blob alone is recoverable with KMS.
 * `formatVersion` is the blob's own (the version byte of its header): a hint for tools that list blobs, never
 * trusted by a reader, which takes the version from the header it authenticates.
 */
export function blobMetadata(
  record: Pick<ObjectRecord, 'bucket' | 'objectId' | 'keyId' | 'keyMaterialId' | 'wrappedKey'>,
  partNumber: number,
  formatVersion: number | '?' = FORMAT_VERSION,
): BlobMetadata {
  return {
    'sealstore-format': String(formatVersion),
    'sealstore-bucket': encodeURIComponent(record.bucket),
    'sealstore-object-id': record.objectId,
    'sealstore-part': String(partNumber),
    'sealstore-key-id': record.keyId,
    'sealstore-key-material': record.keyMaterialId,
    'sealstore-wrapped-key': record.wrappedKey.toString('base64'),
  };
}

/** The format version a stored part header names (the blob metadata's hint); '?' when the header is unreadable. */
export function formatVersionOf(header: Buffer): number | '?' {
  try {
    return parseHeader(header).version;
  } catch {
    return '?';
  }
}
