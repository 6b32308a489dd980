// Listing rules shared by ListObjects and ListMultipartUploads: how keys roll up under a delimiter.

/** The common prefix a key rolls up into under ListObjects' delimiter rule, if any. */
export function commonPrefixOf(key: string, prefix: string, delimiter: string | undefined): string | undefined {
  if (!delimiter) return undefined;
  const at = key.indexOf(delimiter, prefix.length);
  return at < 0 ? undefined : key.slice(0, at + delimiter.length);
}
