// ETag spelling: the store keeps ETags bare; headers and XML carry them quoted.

export function quoteETag(etag: string): string {
  return `"${unquoteETag(etag)}"`;
}

/** Removes surrounding quotes and a weak-validator prefix. */
export function unquoteETag(etag: string): string {
  let value = etag.trim();
  if (value.startsWith('W/')) value = value.slice(2);
  if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
  return value;
}
