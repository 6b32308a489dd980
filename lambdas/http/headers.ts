// Header helpers shared by the S3 operations: user metadata with S3's limits, the standard headers kept with an
// object and the response-* overrides of a read, HTTP dates and ETag quoting.
import { InvalidArgumentError } from '../core/errors';
import { STORED_HEADER_NAMES, type StoredHeaderName, type StoredHeaders } from '../core/records';
import { MetadataTooLargeError } from './errors';
import { lookup } from './request';

export const USER_METADATA_PREFIX = 'x-amz-meta-';
/** S3 caps user-defined metadata at 2 KiB: the UTF-8 bytes of every name (without the prefix) and value. */
export const MAX_USER_METADATA_BYTES = 2048;

/** Extracts x-amz-meta-* headers (names lower case, prefix removed); throws MetadataTooLarge past 2 KiB. */
export function extractUserMetadata(headers: Readonly<Record<string, string>>): Record<string, string> {
  // No prototype: a header x-amz-meta-__proto__ is metadata named "__proto__", not a prototype write.
  const metadata: Record<string, string> = Object.create(null) as Record<string, string>;
  let size = 0;
  for (const [name, value] of Object.entries(headers)) {
    const lower = name.toLowerCase();
    if (!lower.startsWith(USER_METADATA_PREFIX)) continue;
    const short = lower.slice(USER_METADATA_PREFIX.length);
    metadata[short] = value;
    size += Buffer.byteLength(short, 'utf8') + Buffer.byteLength(value, 'utf8');
  }
  if (size > MAX_USER_METADATA_BYTES) {
    throw new MetadataTooLargeError('Your metadata headers exceed the maximum allowed metadata size.', {
      Size: String(size),
      MaxSizeAllowed: String(MAX_USER_METADATA_BYTES),
    });
  }
  return metadata;
}

/** The type curl gives any --data or --data-binary body it was not told the type of. */
const CURL_FORM_TYPE = 'application/x-www-form-urlencoded';

/**
 * The Content-Type a PutObject stores, or undefined for S3's default (binary/octet-stream). curl labels every
 * --data-binary body a form unless told otherwise, and S3 users expect a file, not a form: when the form type comes
 * from curl (User-Agent curl/…) and is not among the signed headers, the type is curl's default, not the user's
 * choice (curl signs a Content-Type given with -H), so the store's default applies.
 */
export function putContentType(headers: Readonly<Record<string, string>>, query: Readonly<Record<string, string>>): string | undefined {
  const type = lookup(headers, 'content-type');
  if (type?.trim().toLowerCase() !== CURL_FORM_TYPE || !(lookup(headers, 'user-agent') ?? '').startsWith('curl/')) return type;
  const signed = /SignedHeaders=([^,\s]+)/.exec(lookup(headers, 'authorization') ?? '')?.[1] ?? lookup(query, 'X-Amz-SignedHeaders') ?? '';
  return signed.split(';').includes('content-type') ? type : undefined;
}

/** Turns stored user metadata back into response headers. */
export function userMetadataHeaders(metadata: Readonly<Record<string, string>>): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(metadata)) headers[`${USER_METADATA_PREFIX}${name}`] = value;
  return headers;
}

/** IMF-fixdate, as Last-Modified and Date carry it. */
export function httpDate(date: Date): string {
  return date.toUTCString();
}

/** Parses an HTTP date (IMF-fixdate, RFC 850 or asctime); undefined when it is not one. */
export function parseHttpDate(value: string | undefined): Date | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : new Date(ms);
}

/** ETags travel quoted in headers and XML; the store keeps them bare. */
export { quoteETag, unquoteETag } from './etag';

/**
 * A value as the bytes a response header carries. node:http reads request headers as Latin-1 (one char per byte)
 * and writes them back the same way, so such values round-trip byte for byte; a value with characters past U+00FF
 * (a decoded query parameter, a header from the Lambda front) goes out as its UTF-8 bytes.
 */
function headerBytes(value: string): string {
  return [...value].some((ch) => ch.codePointAt(0)! > 0xff) ? Buffer.from(value, 'utf8').toString('latin1') : value;
}

/** What HTTP lets a header value hold (RFC 9110 field-value: visible characters, space, tab and obs-text). */
const HEADER_VALUE = /^[\t\u0020-\u007e\u0080-\u00ff]*$/;

function headerValue(name: string, value: string, argumentName: string): string {
  const bytes = headerBytes(value);
  if (!HEADER_VALUE.test(bytes)) {
    throw new InvalidArgumentError(`${name} holds a character an HTTP header cannot carry (a control character or line break).`, { ArgumentName: argumentName });
  }
  return bytes;
}

/**
 * The standard headers S3 keeps with an object (Cache-Control, Content-Disposition, Content-Encoding,
 * Content-Language, Expires) from a write request. `aws-chunked` is how the request body was framed, not how the
 * object is encoded: S3 drops it from Content-Encoding (`aws-chunked,gzip` is stored as `gzip`), and so do we.
 */
export function extractStoredHeaders(headers: Readonly<Record<string, string>>): StoredHeaders {
  const out: Partial<Record<StoredHeaderName, string>> = {};
  for (const name of STORED_HEADER_NAMES) {
    const raw = lookup(headers, name);
    if (raw === undefined) continue;
    const value = name === 'content-encoding' ? withoutAwsChunked(raw) : raw;
    if (value !== undefined) out[name] = headerValue(name, value, name);
  }
  return out;
}

function withoutAwsChunked(value: string): string | undefined {
  const codings = value.split(',').map((c) => c.trim());
  if (!codings.some((c) => c.toLowerCase() === 'aws-chunked')) return value;
  const kept = codings.filter((c) => c !== '' && c.toLowerCase() !== 'aws-chunked');
  return kept.length > 0 ? kept.join(',') : undefined;
}

/** The response-* query parameters of GetObject and HeadObject, and the header each one sets in the answer. */
export const RESPONSE_OVERRIDES = [
  ['response-content-type', 'content-type'],
  ['response-content-language', 'content-language'],
  ['response-expires', 'expires'],
  ['response-cache-control', 'cache-control'],
  ['response-content-disposition', 'content-disposition'],
  ['response-content-encoding', 'content-encoding'],
] as const;

/** Response headers the request's response-* parameters set, overriding what the object carries. */
export function responseOverrides(query: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [parameter, header] of RESPONSE_OVERRIDES) {
    const value = lookup(query, parameter);
    if (value !== undefined) out[header] = headerValue(parameter, value, parameter);
  }
  return out;
}
