// Reading the versions of a key (docs/design/VERSIONING-AND-RECOVERY.md §1.3): the latest entry is one read of
// `O#<bucket>` / key, as before versioning; a noncurrent version is a second read in the key's version partition.
import { InvalidArgumentError } from './errors';
import { walk } from './index-walk';
import type { RecordIndex } from './ports';
import { latestFromItem, noncurrentFromItem, objectsPk, versionIdOf, versionObjectId, versionsPk, type VersionRecord } from './records';
import { isVersionKey, NULL_VERSION_ID } from './version-ids';

/** The latest entry of a key (object or delete marker), or undefined when the key has no version at all. */
export async function latestVersion(index: RecordIndex, bucket: string, key: string): Promise<VersionRecord | undefined> {
  const item = await index.get(objectsPk(bucket), key);
  return item ? latestFromItem(item) : undefined;
}

/** S3 refuses a version id it could never have given (400 InvalidArgument) rather than answering NoSuchVersion. */
export function checkVersionIdForm(versionId: string): void {
  if (versionId !== NULL_VERSION_ID && !isVersionKey(versionId)) {
    throw new InvalidArgumentError('Invalid version id specified', { ArgumentName: 'versionId', ArgumentValue: versionId });
  }
}

/**
 * The version `versionId` of a key, given its latest entry (already read): the latest itself, or its row in the
 * version partition (for 'null': where the latest entry says the noncurrent null version sits). Undefined when
 * the key holds no such version.
 */
export async function findVersion(index: RecordIndex, latest: VersionRecord | undefined, bucket: string, key: string, versionId: string): Promise<VersionRecord | undefined> {
  checkVersionIdForm(versionId);
  if (latest === undefined) return undefined;
  if (versionIdOf(latest) === versionId) return latest;
  const vk = versionId === NULL_VERSION_ID ? latest.latest?.nullVk : versionId;
  if (vk === undefined || (latest.latest?.noncurrent ?? 0) === 0) return undefined;
  const item = await index.get(versionsPk(bucket, key), vk);
  if (!item) return undefined;
  const found = noncurrentFromItem(item);
  return versionIdOf(found) === versionId ? found : undefined;
}

/**
 * The version of a key that holds object `objectId`, latest or noncurrent, or undefined. Object ids are fresh per
 * write, so this tells whether a write's object is still stored anywhere: the sweep and the upload cleanup ask it
 * before deleting blobs an old ledger or upload row names, so a replayed row never gets a noncurrent version's data
 * deleted. Walks the key's version partition (only when the latest entry counts any).
 */
export async function objectVersionWithId(index: RecordIndex, bucket: string, key: string, objectId: string): Promise<VersionRecord | undefined> {
  const latest = await latestVersion(index, bucket, key);
  if (!latest) return undefined;
  // A sealed delete marker has an object id of its own too (its record-only blob).
  if (versionObjectId(latest) === objectId) return latest;
  if ((latest.latest?.noncurrent ?? 0) === 0) return undefined;
  for await (const item of walk(index, versionsPk(bucket, key))) {
    if (item.attrs['objectId'] !== objectId) continue;
    const found = noncurrentFromItem(item);
    if (versionObjectId(found) === objectId) return found;
  }
  return undefined;
}
