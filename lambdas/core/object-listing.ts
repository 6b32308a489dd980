// ListObjects (v1 and v2) over one bucket's object partition: keys in UTF-8 binary order, rolled up into common
// prefixes under a delimiter, paginated by the last key or prefix returned.
import type { Buckets } from './buckets';
import { walk } from './index-walk';
import { commonPrefixOf, utf8Compare } from './list-keys';
import type { RecordIndex } from './ports';
import { objectFromItem, objectsPk, type ObjectRecord } from './records';

export interface ListObjectsInput {
  readonly bucket: string;
  readonly prefix?: string;
  readonly delimiter?: string;
  readonly maxKeys: number;
  /** Keys strictly after this one (S3's start-after / marker). */
  readonly startAfter?: string;
  /** The last key or common prefix a previous page returned (continuation): nothing under it comes again. */
  readonly resumeAfter?: string;
}

export interface ListObjectsResult {
  readonly objects: ObjectRecord[];
  readonly commonPrefixes: string[];
  readonly isTruncated: boolean;
  /** The last key or common prefix returned; where the next page starts after. */
  readonly lastReturned?: string;
  /** The bucket's owner, who owns every object in it (S3's default since 2023: ACLs disabled, BucketOwnerEnforced). */
  readonly owner: string;
}

/** Past every key that starts with `prefix` (U+10FFFF sorts after every other character). */
export function pastPrefix(prefix: string): string {
  return `${prefix}\u{10FFFF}`;
}

export async function listObjects(index: RecordIndex, buckets: Buckets, input: ListObjectsInput): Promise<ListObjectsResult> {
  const { owner } = await buckets.head(input.bucket);
  const objects: ObjectRecord[] = [];
  const commonPrefixes: string[] = [];
  const prefix = input.prefix ?? '';
  let startAfter = input.resumeAfter ?? input.startAfter;
  if (startAfter !== undefined && utf8Compare(startAfter, prefix) < 0) startAfter = undefined;
  let lastReturned: string | undefined;
  if (input.resumeAfter !== undefined && commonPrefixOf(input.resumeAfter, prefix, input.delimiter) === input.resumeAfter) {
    // The previous page ended on a common prefix: skip every key rolled up into it.
    lastReturned = input.resumeAfter;
    startAfter = pastPrefix(input.resumeAfter);
  }
  if (input.maxKeys <= 0) return { objects, commonPrefixes, isTruncated: false, owner };
  const returned = () => objects.length + commonPrefixes.length;
  // One item past the page tells whether the listing is truncated.
  const keys = walk(index, objectsPk(input.bucket), { prefix, startAfter, pageSize: () => Math.min(1000, input.maxKeys - returned() + 1) });
  for await (const item of keys) {
    const key = item.sk;
    const cp = commonPrefixOf(key, prefix, input.delimiter);
    if (cp !== undefined && cp === lastReturned) continue;
    // A key whose latest version is a delete marker is not listed, nor does it make a common prefix: S3 derives
    // prefixes from current objects only, so the walk goes on inside the prefix until it meets one.
    if (item.attrs['deleteMarker'] === true) continue;
    if (returned() >= input.maxKeys) return { objects, commonPrefixes, isTruncated: true, lastReturned, owner };
    if (cp !== undefined) {
      commonPrefixes.push(cp);
      lastReturned = cp;
      // Jump past every key under it instead of reading them all.
      keys.skipPast(pastPrefix(cp));
    } else {
      objects.push(objectFromItem(item));
      lastReturned = key;
    }
  }
  return { objects, commonPrefixes, isTruncated: false, lastReturned, owner };
}
