// Parses an HTTP Range header the way S3 does: one byte range or none; an unsatisfiable one is a 416.
import type { ByteRange } from '../core/ports';
import { InvalidRangeError } from '../core/errors';

/**
 * Returns the inclusive range to serve, or undefined to serve the whole object.
 * Malformed and multi-range headers are ignored (S3 then returns the whole object, 200),
 * a syntactically valid range that starts past the end is InvalidRange (416).
 */
export function parseRange(header: string | undefined, size: number): ByteRange | undefined {
  if (header === undefined) return undefined;
  const match = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  if (!match) return undefined;
  const [, first = '', last = ''] = match;
  if (first === '' && last === '') return undefined;
  const unsatisfiable = () =>
    new InvalidRangeError('The requested range is not satisfiable', {
      RangeRequested: header,
      ActualObjectSize: String(size),
    });

  if (first === '') {
    // Suffix range: the last n bytes. A zero-length suffix, or any range of an empty object, cannot be satisfied.
    const suffix = Number(last);
    if (suffix === 0 || size === 0) throw unsatisfiable();
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(first);
  const end = last === '' ? Infinity : Number(last);
  if (end < start) return undefined;
  if (start > size - 1) throw unsatisfiable();
  return { start, end: Math.min(end, size - 1) };
}

/** The Content-Range value of a partial response. */
export function contentRange(range: ByteRange, size: number): string {
  return `bytes ${range.start}-${range.end}/${size}`;
}
