// Evaluates S3's conditional request headers (If-Match, If-None-Match, If-(Un)Modified-Since) against an object.
import { NoSuchKeyError, PreconditionFailedError } from '../core/errors';
import { lookup } from './request';
import { unquoteETag } from './etag';
import { parseHttpDate } from './headers';

export interface ConditionalTarget {
  /** Bare or quoted. */
  readonly etag: string;
  readonly lastModified: Date;
}

export type ConditionOutcome = 'proceed' | 'not-modified';

/**
 * S3's precedence, as its GetObject documentation states it:
 * - If-Match decides alone when present (a true If-Match overrides a false If-Unmodified-Since); false → 412.
 * - Otherwise a false If-Unmodified-Since → 412.
 * - If-None-Match decides alone when present (it overrides If-Modified-Since); a match → 304 on reads,
 *   412 on writes (S3 conditional writes only honour If-None-Match: *).
 * - Otherwise, on reads, an object not modified since If-Modified-Since → 304.
 * `current` is undefined when the object does not exist: If-Match then fails as S3 does (404 on writes).
 */
export function evaluateConditions(
  headers: Readonly<Record<string, string>>,
  current: ConditionalTarget | undefined,
  kind: 'read' | 'write',
): ConditionOutcome {
  const ifMatch = lookup(headers, 'if-match');
  const ifNoneMatch = lookup(headers, 'if-none-match');
  const ifUnmodifiedSince = parseHttpDate(lookup(headers, 'if-unmodified-since'));
  const ifModifiedSince = kind === 'read' ? parseHttpDate(lookup(headers, 'if-modified-since')) : undefined;
  const failed = (condition: string) =>
    new PreconditionFailedError('At least one of the pre-conditions you specified did not hold', { Condition: condition });

  if (ifMatch !== undefined) {
    if (current === undefined) {
      if (kind === 'write') throw new NoSuchKeyError('The specified key does not exist.');
      throw failed('If-Match');
    }
    if (!etagListMatches(ifMatch, current.etag)) throw failed('If-Match');
  } else if (ifUnmodifiedSince !== undefined && current !== undefined) {
    if (seconds(current.lastModified) > seconds(ifUnmodifiedSince)) throw failed('If-Unmodified-Since');
  }

  if (ifNoneMatch !== undefined) {
    if (current !== undefined && etagListMatches(ifNoneMatch, current.etag)) {
      if (kind === 'write') throw failed('If-None-Match');
      return 'not-modified';
    }
  } else if (ifModifiedSince !== undefined && current !== undefined) {
    if (seconds(current.lastModified) <= seconds(ifModifiedSince)) return 'not-modified';
  }
  return 'proceed';
}

/** True when the comma-separated list holds '*' or the object's ETag (quotes and W/ ignored). */
export function etagListMatches(list: string, etag: string): boolean {
  const wanted = unquoteETag(etag);
  return list
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '')
    .some((item) => item === '*' || unquoteETag(item) === wanted);
}

/** HTTP dates have one-second resolution; comparing milliseconds would make every object look modified. */
function seconds(date: Date): number {
  return Math.floor(date.getTime() / 1000);
}
