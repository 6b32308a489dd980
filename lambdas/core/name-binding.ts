// Binds an object's contents to the name it was written under. The format's MAC pins bucket, object id and
// parts, but not the key name (kept out of blobs and out of KMS contexts, which CloudTrail logs): without
// this tag, anyone able to write the index could copy one object's entry under another name and a GET of
// that name would serve bytes never PUT there.
import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import { IntegrityError } from './errors';

const INFO = Buffer.from('sealstore/v1 name binding', 'utf8');

function lengthPrefixed(value: string): Buffer[] {
  const bytes = Buffer.from(value, 'utf8');
  const length = Buffer.alloc(4);
  length.writeUInt32BE(bytes.length);
  return [length, bytes];
}

/** HMAC-SHA256 over (bucket, key, object id), keyed by HKDF-SHA256(data key, info "sealstore/v1 name binding"). */
export function nameTag(dataKey: Buffer, bucket: string, key: string, objectId: string): Buffer {
  const macKey = Buffer.from(hkdfSync('sha256', dataKey, Buffer.alloc(0), INFO, 32));
  const mac = createHmac('sha256', macKey);
  for (const field of [bucket, key, objectId]) for (const part of lengthPrefixed(field)) mac.update(part);
  macKey.fill(0);
  return mac.digest();
}

/** Throws IntegrityError unless `tag` was made for exactly this bucket, key and object under this data key. */
export function verifyNameTag(dataKey: Buffer, bucket: string, key: string, objectId: string, tag: Buffer): void {
  const expected = nameTag(dataKey, bucket, key, objectId);
  if (tag.length !== expected.length || !timingSafeEqual(expected, tag)) {
    throw new IntegrityError(`The index entry for ${key} in ${bucket} was not written for the object it points to: refusing to serve it.`);
  }
}
