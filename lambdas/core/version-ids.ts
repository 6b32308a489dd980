// Version ids (docs/design/VERSIONING-AND-RECOVERY.md §1.1). A version's id is its sort key among the versions of
// its key: newest first under binary (and UTF-8) order, unique without coordination, URL-safe. The null version
// keeps the id "null" and a sort key of its own, for ordering.
import { randomHex } from './ids';

/** S3's id of the version a bucket without versioning (or with versioning suspended) holds. */
export const NULL_VERSION_ID = 'null';

const MAX_MS = 2 ** 48 - 1;

/** hex12(2^48 − 1 − ms): later times sort first. */
function timePrefix(ms: number): string {
  return (MAX_MS - Math.max(0, Math.min(MAX_MS, Math.floor(ms)))).toString(16).padStart(12, '0');
}

/** A fresh version sort key for a write that began at `at`: 12 hex digits of time, 16 of randomness (28 characters). */
export function newVersionKey(at: Date): string {
  return `${timePrefix(at.getTime())}${randomHex(8)}`;
}

/** The time (ms) a version sort key was minted from. */
export function versionKeyTime(vk: string): number {
  return MAX_MS - parseInt(vk.slice(0, 12), 16);
}

/**
 * The sort key of a version written before versioning existed (a row without one): from its last-modified time and
 * object id, so enabling versioning on a full bucket rewrites nothing and every reader derives the same key.
 */
export function legacyVersionKey(lastModified: Date, objectId: string): string {
  return `${timePrefix(lastModified.getTime())}${objectId.slice(0, 16).padEnd(16, '0')}`;
}

/** Whether `text` has the shape of a version id this store makes (28 lowercase hex characters). */
export function isVersionKey(text: string): boolean {
  return /^[0-9a-f]{28}$/.test(text);
}
