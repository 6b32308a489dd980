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

/**
 * Why a CMK is being named; each use accepts different key roles (KeyLifecycle.resolveChosen):
 * - `request`: a write's x-amz-server-side-encryption-aws-kms-key-id;
 * - `set-bucket-default`: PutBucketEncryption naming the bucket's default;
 * - `bucket-default`: a write under the default its bucket named earlier. The key may have become retiring since (a
 *   rollover away from it): writes keep working and the bucket keeps the key from retirement, as documented.
 */
export type ChosenKeyUse = 'request' | 'set-bucket-default' | 'bucket-default';

export interface ChosenKeys {
  /**
   * Resolves a client's key reference (key id, key ARN, alias name or alias ARN) to the ARN of a CMK the store
   * trusts and knows (recorded in the key lifecycle), or throws S3's error: KMS.NotFoundException for a key that
   * does not exist, AccessDenied for one the store does not trust, KMS.DisabledException /
   * KMS.KMSInvalidStateException for one that is disabled, pending deletion or being retired (as `use` allows).
   */
  resolve(ref: string, use: ChosenKeyUse): Promise<string>;
}

/** The keys a writer draws on: the active CMK always, chosen CMKs where the store offers them. */
export interface WriteKeys {
  readonly active: ActiveKeySource;
  readonly chosen?: ChosenKeys;
}

/**
 * Decides the CMK for one write. `requested` is the client's reference as sent; the bucket's default was resolved
 * when it was set, and is checked again here (trust may have been withdrawn since, or the key retired).
 */
export async function chooseWriteKey(keys: WriteKeys, bucket: BucketRecord, requested: string | undefined): Promise<KeyChoice> {
  const named = requested ?? bucket.defaultKeyId;
  if (named === undefined) return { keyId: await keys.active.activeKeyId(), chosen: false };
  // Never fall back to the active key when a key was named: that would be the silent downgrade S3 clients cannot see.
  if (!keys.chosen) throw new NotImplementedError('This store cannot seal objects under a CMK of your choice.');
  const keyId = await keys.chosen.resolve(named, requested === undefined ? 'bucket-default' : 'request');
  // Naming the CMK that is active now is naming none: the object follows rollovers like any other, instead of being
  // pinned to a key the operator is about to move everything away from.
  return { keyId, chosen: keyId !== (await keys.active.activeKeyId()) };
}
