// Binds an object's contents to the name it was written under. The format's MAC pins bucket, object id and
// parts, but not the key name (kept out of blobs and out of KMS contexts, which CloudTrail logs): without
// this tag, anyone able to write the index could copy one object's entry under another name and a GET of
// that name would serve bytes never PUT there.
import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import { IntegrityError } from './errors';

const INFO = Buffer.from('sealstore/v1 name binding', 'utf8');
// v2 binds the version id too (rows that carry one: written in a bucket with versioning), so one version's bytes
// cannot be served under another version id of the same key. Rows without a version id keep verifying with v1.
const INFO_V2 = Buffer.from('sealstore/v2 name binding', 'utf8');

function lengthPrefixed(value: string): Buffer[] {
  const bytes = Buffer.from(value, 'utf8');
  const length = Buffer.alloc(4);
  length.writeUInt32BE(bytes.length);
  return [length, bytes];
}

/**
 * HMAC-SHA256 over (bucket, key, object id), keyed by HKDF-SHA256(data key, info "sealstore/v1 name binding");
 * with a `versionId` (v2): over (bucket, key, object id, version id), info "sealstore/v2 name binding".
 */
export function nameTag(dataKey: Buffer, bucket: string, key: string, objectId: string, versionId?: string): Buffer {
  const macKey = Buffer.from(hkdfSync('sha256', dataKey, Buffer.alloc(0), versionId === undefined ? INFO : INFO_V2, 32));
  const mac = createHmac('sha256', macKey);
  const fields = versionId === undefined ? [bucket, key, objectId] : [bucket, key, objectId, versionId];
  for (const field of fields) for (const part of lengthPrefixed(field)) mac.update(part);
  macKey.fill(0);
  return mac.digest();
}

/** Throws IntegrityError unless `tag` was made for exactly this bucket, key, object (and version) under this data key. */
export function verifyNameTag(dataKey: Buffer, bucket: string, key: string, objectId: string, tag: Buffer, versionId?: string): void {
  const expected = nameTag(dataKey, bucket, key, objectId, versionId);
  if (tag.length !== expected.length || !timingSafeEqual(expected, tag)) {
    throw new IntegrityError(`The index entry for ${key} in ${bucket} was not written for the object it points to: refusing to serve it.`);
  }
}
