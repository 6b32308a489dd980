// Header helpers shared by the S3 operations: user metadata with S3's limits, HTTP dates and ETag quoting.
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
