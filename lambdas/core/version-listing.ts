// ListObjectVersions (docs/design/VERSIONING-AND-RECOVERY.md §1.3): the walk of `O#<bucket>` ListObjects makes
// (prefix, delimiter, common prefixes skipped past), and for each key its latest entry then, when the latest entry
// counts any, its noncurrent versions from the key's own partition, newest first. MaxKeys counts versions, delete
// markers and common prefixes together; a page resumes from (key-marker, version-id-marker).
import type { Buckets } from './buckets';
import { walk } from './index-walk';
import { commonPrefixOf, utf8Compare } from './list-keys';
import { pastPrefix } from './object-listing';
import type { RecordIndex } from './ports';
import { latestFromItem, noncurrentFromItem, objectsPk, versionIdOf, versionsPk, type VersionRecord } from './records';
import { NULL_VERSION_ID } from './version-ids';
import { checkVersionIdForm, latestVersion } from './versions';

export interface ListVersionsInput {
  readonly bucket: string;
  readonly prefix?: string;
  readonly delimiter?: string;
  readonly maxKeys: number;
  /** Versions of keys after this one; with versionIdMarker, the rest of this key's versions after that one first. */
  readonly keyMarker?: string;
  readonly versionIdMarker?: string;
}

export interface ListedVersion {
  readonly version: VersionRecord;
  readonly isLatest: boolean;
}

export interface ListVersionsResult {
  readonly versions: ListedVersion[];
  readonly commonPrefixes: string[];
  readonly isTruncated: boolean;
  /** Where the next page starts: the last entry returned (a common prefix has no version id marker). */
  readonly nextKeyMarker?: string;
  readonly nextVersionIdMarker?: string;
  readonly owner: string;
}

export async function listObjectVersions(index: RecordIndex, buckets: Buckets, input: ListVersionsInput): Promise<ListVersionsResult> {
  const { owner } = await buckets.head(input.bucket);
  const versions: ListedVersion[] = [];
  const commonPrefixes: string[] = [];
  const prefix = input.prefix ?? '';
  if (input.versionIdMarker !== undefined && input.versionIdMarker !== '') checkVersionIdForm(input.versionIdMarker);
  let next: { key: string; versionId?: string } | undefined;
  const returned = () => versions.length + commonPrefixes.length;
  const room = () => Math.max(1, Math.min(1000, input.maxKeys - returned() + 1));
  const result = (isTruncated: boolean): ListVersionsResult => ({
    versions,
    commonPrefixes,
    isTruncated,
    ...(isTruncated && next ? { nextKeyMarker: next.key, ...(next.versionId !== undefined ? { nextVersionIdMarker: next.versionId } : {}) } : {}),
    owner,
  });
  if (input.maxKeys <= 0) return result(false);
  /** Adds one entry; false (and the listing is truncated) when the page is already full. */
  const emit = (version: VersionRecord, isLatest: boolean): boolean => {
    if (returned() >= input.maxKeys) return false;
    versions.push({ version, isLatest });
    next = { key: version.key, versionId: versionIdOf(version) };
    return true;
  };
  /** The noncurrent versions of one key, after `afterVk` when given; false when the page filled up. */
  const noncurrent = async (key: string, afterVk?: string): Promise<boolean> => {
    for await (const item of walk(index, versionsPk(input.bucket, key), { ...(afterVk !== undefined ? { startAfter: afterVk } : {}), pageSize: room })) {
      if (!emit(noncurrentFromItem(item), false)) return false;
    }
    return true;
  };

  let startAfter = input.keyMarker !== undefined && input.keyMarker !== '' && utf8Compare(input.keyMarker, prefix) >= 0 ? input.keyMarker : undefined;
  let lastPrefix: string | undefined;
  if (startAfter !== undefined && commonPrefixOf(startAfter, prefix, input.delimiter) === startAfter) {
    // The previous page ended on a common prefix: nothing under it comes again.
    lastPrefix = startAfter;
    startAfter = pastPrefix(startAfter);
  } else if (startAfter !== undefined && input.versionIdMarker !== undefined && input.versionIdMarker !== '' && startAfter.startsWith(prefix)) {
    // The previous page ended inside this key's versions: the rest of them first.
    const latest = await latestVersion(index, input.bucket, startAfter);
    if (latest && (latest.latest?.noncurrent ?? 0) > 0) {
      const marker = input.versionIdMarker;
      // A null version removed since the previous page has no place left to resume after: go on after the latest
      // entry (some versions may come again, none is skipped).
      const after = versionIdOf(latest) === marker ? undefined : marker === NULL_VERSION_ID ? latest.latest?.nullVk : marker;
      if (!(await noncurrent(startAfter, after))) return result(true);
    }
  }
  const keys = walk(index, objectsPk(input.bucket), { prefix, ...(startAfter !== undefined ? { startAfter } : {}), pageSize: room });
  for await (const item of keys) {
    const cp = commonPrefixOf(item.sk, prefix, input.delimiter);
    if (cp !== undefined && cp === lastPrefix) continue;
    if (cp !== undefined) {
      if (returned() >= input.maxKeys) return result(true);
      commonPrefixes.push(cp);
      next = { key: cp };
      lastPrefix = cp;
      keys.skipPast(pastPrefix(cp));
      continue;
    }
    const latest = latestFromItem(item);
    if (!emit(latest, true)) return result(true);
    if ((latest.latest?.noncurrent ?? 0) > 0 && !(await noncurrent(latest.key))) return result(true);
  }
  return result(false);
}
