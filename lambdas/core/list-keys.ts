// Listing rules shared by ListObjects and ListMultipartUploads: the order keys sort in, and how they roll up
// under a delimiter.

/** The common prefix a key rolls up into under ListObjects' delimiter rule, if any. */
export function commonPrefixOf(key: string, prefix: string, delimiter: string | undefined): string | undefined {
  if (!delimiter) return undefined;
  const at = key.indexOf(delimiter, prefix.length);
  return at < 0 ? undefined : key.slice(0, at + delimiter.length);
}

/**
 * Binary UTF-8 order: the order of the index's sort keys (SQLite BLOB order, DynamoDB's order for S keys). JS `<`
 * compares UTF-16 code units, which disagrees for characters above U+FFFF against U+E000–U+FFFF.
 */
export function utf8Compare(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}
