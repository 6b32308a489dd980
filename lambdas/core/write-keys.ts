// Which CMK a new object is sealed under: the one its request names, else its bucket's default, else the active one.
import { NotImplementedError } from './errors';
import type { ActiveKeySource } from './ports';
import type { BucketRecord } from './records';

/** The CMK a write uses, and whether it was chosen (by the request or the bucket) rather than the store's active one. */
export interface KeyChoice {
  readonly keyId: string;
  /** A chosen CMK stays the object's CMK: the key lifecycle rewraps within it and never moves the object away. */
  readonly chosen: boolean;
}

export interface ChosenKeys {
  /**
   * Resolves a client's key reference (key id, key ARN, alias name or alias ARN) to the ARN of a CMK the store
   * trusts and knows (recorded in the key lifecycle), or throws S3's error: KMS.NotFoundException for a key that
   * does not exist, AccessDenied for one the store does not trust.
   */
  resolve(ref: string): Promise<string>;
}

/** The keys a writer draws on: the active CMK always, chosen CMKs where the store offers them. */
export interface WriteKeys {
  readonly active: ActiveKeySource;
  readonly chosen?: ChosenKeys;
}

/**
 * Decides the CMK for one write. `requested` is the client's reference as sent; the bucket's default was resolved
 * when it was set, and is checked again here (trust may have been withdrawn since).
 */
export async function chooseWriteKey(keys: WriteKeys, bucket: BucketRecord, requested: string | undefined): Promise<KeyChoice> {
  const named = requested ?? bucket.defaultKeyId;
  if (named === undefined) return { keyId: await keys.active.activeKeyId(), chosen: false };
  // Never fall back to the active key when a key was named: that would be the silent downgrade S3 clients cannot see.
  if (!keys.chosen) throw new NotImplementedError('This store cannot seal objects under a CMK of your choice.');
  return { keyId: await keys.chosen.resolve(named), chosen: true };
}
