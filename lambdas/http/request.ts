// The transport-neutral shape of one S3 REST request, as the handler hands it to the protocol layer.

export interface S3Request {
  /** Upper case. */
  readonly method: string;
  /** URL-decoded path as the client addressed it, e.g. '/bucket/a b/ü.txt'. */
  readonly path: string;
  /** Decoded; valueless parameters ('?uploads', '?delete') map to ''. */
  readonly query: Readonly<Record<string, string>>;
  /** Lower-case names; multi-valued headers joined by ','. */
  readonly headers: Readonly<Record<string, string>>;
  /** Raw body as received (may be aws-chunked). */
  readonly body: Buffer;
}

/** Own-property lookup, so a header or parameter named like an Object.prototype member reads as absent. */
export function lookup(record: Readonly<Record<string, string>>, name: string): string | undefined {
  return Object.prototype.hasOwnProperty.call(record, name) ? record[name] : undefined;
}

/** Query parameters are case-sensitive in S3, but presigning clients vary in the case of X-Amz-* names. */
export function lookupCaseless(record: Readonly<Record<string, string>>, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const key of Object.keys(record)) {
    if (key.toLowerCase() === wanted) return record[key];
  }
  return undefined;
}
