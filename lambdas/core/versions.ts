// Reading the versions of a key (docs/design/VERSIONING-AND-RECOVERY.md §1.3): the latest entry is one read of
// `O#<bucket>` / key, as before versioning; a noncurrent version is a second read in the key's version partition.
import { InvalidArgumentError } from './errors';
import type { RecordIndex } from './ports';
import { latestFromItem, noncurrentFromItem, objectsPk, versionIdOf, versionsPk, type VersionRecord } from './records';
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
