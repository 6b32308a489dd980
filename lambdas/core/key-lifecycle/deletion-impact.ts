// What deleting a CMK would destroy: every object whose data key it wraps (found through the CMK's gsi1 shards,
// the same walk the lifecycle counts and rewraps by), the multipart uploads sealed under it, the secrets it seals
// and the buckets that name it. Read only: the dry run of `keys schedule-deletion` and the figure its refusal names.
import { Buckets } from '../buckets';
import { InvalidArgumentError } from '../errors';
import { walk } from '../index-walk';
import { objectsUnderKey } from '../objects-by-key';
import type { RecordIndex } from '../ports';
import { anyVersionFromItem, isDeleteMarker, uploadFromItem, uploadsPk, type VersionRecord } from '../records';

/** One object that becomes unreadable once the CMK is gone. */
export interface ImpactedObject {
  readonly bucket: string;
  readonly key: string;
  readonly objectId: string;
  /** The version (every version of a key keeps its own data key and gsi1 entry, so each is listed): 'null' for rows without one. */
  readonly versionId: string;
  /** False for a noncurrent version. */
  readonly isLatest: boolean;
  readonly size: number;
  /** Its request or its bucket's default named this CMK (the lifecycle never moved it off). */
  readonly keyChosen: boolean;
  /** A delete marker's record-only blob (size 0): without the CMK an index rebuild no longer knows the key was deleted. */
  readonly deleteMarker?: true;
}

/** A multipart upload whose parts are sealed under the CMK: it can take no more parts and never complete. */
export interface ImpactedUpload {
  readonly bucket: string;
  readonly key: string;
  readonly uploadId: string;
  readonly state: string;
}

/** One page of the objects, and on the first page (no cursor) everything else the CMK holds. */
export interface DeletionImpactPage {
  readonly keyId: string;
  readonly objects: readonly ImpactedObject[];
  /** Pass back as `cursor` for the next page; absent on the last page. */
  readonly nextCursor?: string;
  /** First page only: open (or completing, or aborting) uploads under the CMK. */
  readonly uploads?: readonly ImpactedUpload[];
  /** First page only: stored secrets (access-key secrets, the index key) sealed under the CMK. */
  readonly sealedSecrets?: number;
  /** First page only: buckets whose default encryption names the CMK (their writes that name no key would fail). */
  readonly bucketDefaults?: readonly string[];
}

export interface DeletionImpactTotals {
  readonly objects: number;
  readonly bytes: number;
  /** The walk stopped at the cap: the figures are lower bounds. */
  readonly capped: boolean;
}

export const MAX_IMPACT_PAGE = 1000;
export const DEFAULT_IMPACT_PAGE = 500;

export interface DeletionImpactDeps {
  readonly index: RecordIndex;
  readonly now: () => Date;
  readonly countSealedSecrets?: (keyId: string) => Promise<number>;
}

/**
 * Up to `limit` objects wrapped under `keyId`, from `cursor` (the previous page's nextCursor). A page may hold
 * fewer than `limit` objects only when it is the last one, so a client stops on a missing nextCursor alone.
 */
export async function deletionImpactPage(d: DeletionImpactDeps, keyId: string, options: { cursor?: string; limit?: number } = {}): Promise<DeletionImpactPage> {
  const limit = options.limit ?? DEFAULT_IMPACT_PAGE;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_IMPACT_PAGE) {
    throw new InvalidArgumentError(`limit must be 1 to ${MAX_IMPACT_PAGE}, got ${limit}`, { ArgumentName: 'limit' });
  }
  const objects: ImpactedObject[] = [];
  let nextCursor: string | undefined;
  let exhausted = false;
  // The walk's pages shrink to what is still wanted, so no object is read past the page and lost between pages.
  const pages = objectsUnderKey(d.index, keyId, { ...(options.cursor === undefined ? {} : { startAfter: options.cursor }), pageSize: () => limit - objects.length }).pages();
  for await (const page of pages) {
    for (const item of page.items) objects.push(impacted(anyVersionFromItem(item), item.pk.startsWith('O#')));
    nextCursor = page.lastKey;
    if (page.lastKey === undefined) exhausted = true;
  }
  const first = options.cursor === undefined ? await everythingElse(d, keyId) : {};
  return { keyId, objects, ...(exhausted || nextCursor === undefined ? {} : { nextCursor }), ...first };
}

/** How many objects, and how many bytes, `keyId` wraps: the whole walk, stopping after `cap` objects. */
export async function deletionImpactTotals(index: RecordIndex, keyId: string, cap: number): Promise<DeletionImpactTotals> {
  let objects = 0;
  let bytes = 0;
  for await (const page of objectsUnderKey(index, keyId, { pageSize: MAX_IMPACT_PAGE }).pages()) {
    for (const item of page.items) {
      objects++;
      const v = anyVersionFromItem(item);
      if (!isDeleteMarker(v)) bytes += v.size;
    }
    if (page.lastKey !== undefined && objects >= cap) return { objects, bytes, capped: true };
  }
  return { objects, bytes, capped: false };
}

function impacted(o: VersionRecord, isLatest: boolean): ImpactedObject {
  if (isDeleteMarker(o)) {
    return { bucket: o.bucket, key: o.key, objectId: o.sealed?.objectId ?? '', versionId: o.versionId, isLatest, size: 0, keyChosen: o.sealed?.keyChosen === true, deleteMarker: true };
  }
  return { bucket: o.bucket, key: o.key, objectId: o.objectId, versionId: o.versionId ?? 'null', isLatest, size: o.size, keyChosen: o.keyChosen === true };
}

async function everythingElse(d: DeletionImpactDeps, keyId: string): Promise<Pick<DeletionImpactPage, 'uploads' | 'sealedSecrets' | 'bucketDefaults'>> {
  const buckets = new Buckets(d.index, d.now);
  const uploads: ImpactedUpload[] = [];
  // Upload rows have no gsi1 entry: each bucket's upload partition is read (uploads are few and short-lived).
  for (const bucket of await buckets.list()) {
    for await (const item of walk(d.index, uploadsPk(bucket.name))) {
      const u = uploadFromItem(item);
      // A completed upload is only kept to answer a retried completion; its object is listed with the objects.
      if (u.keyId === keyId && u.state !== 'completed') uploads.push({ bucket: u.bucket, key: u.key, uploadId: u.uploadId, state: u.state });
    }
  }
  return {
    uploads,
    sealedSecrets: (await d.countSealedSecrets?.(keyId)) ?? 0,
    bucketDefaults: (await buckets.defaultKeys()).get(keyId) ?? [],
  };
}
