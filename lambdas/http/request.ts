// The transport-neutral shape of one S3 REST request: what the node:http front and the Lambda front both hand
// to the S3 API. The body is a byte stream the API opens once, after the request is authenticated.
import { Readable } from 'node:stream';
import { InvalidURIError } from './errors';

export interface RequestBody {
  /**
   * The byte count the transport announced (Content-Length), 0 when it announced no body at all, undefined
   * when the length is not known up front (chunked transfer encoding).
   */
  readonly declaredLength: number | undefined;
  /**
   * The raw bytes as they arrive (still aws-chunked if the client framed them so). Call at most once, and
   * only once the signature has checked out: a front may only then ask the client to send the body
   * (100-continue). The one exception is a signature over an undeclared body hash, which needs the body first:
   * sigv4.ts spools it (never to memory on the embedded server) and acts on nothing before it verifies.
   */
  open(): Readable;
}

export interface S3Request {
  /** Upper case. */
  readonly method: string;
  /** URL-decoded path as the client addressed it, e.g. '/bucket/a b/ü.txt'. */
  readonly path: string;
  /** Decoded; valueless parameters ('?uploads', '?delete') map to ''. */
  readonly query: Readonly<Record<string, string>>;
  /** Lower-case names; multi-valued headers joined by ','. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: RequestBody;
}

/** A body already in memory (the Lambda front's, tests'): one chunk, known length. */
export function bufferBody(bytes: Buffer): RequestBody {
  let opened = false;
  return {
    declaredLength: bytes.length,
    open: () => {
      if (opened) throw new Error('the request body was already opened');
      opened = true;
      return Readable.from(bytes.length > 0 ? [bytes] : [], { objectMode: false });
    },
  };
}

/** A request path as sent (percent-encoded) to the decoded form S3Request carries; '/' stays a separator. */
export function decodePath(raw: string): string {
  try {
    return raw.split('/').map((segment) => decodeURIComponent(segment)).join('/');
  } catch {
    throw new InvalidURIError("Couldn't parse the specified URI: it is not valid percent-encoding.");
  }
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

/** A map keyed by client-chosen names: no prototype, so `toString` or `__proto__` is a plain entry. */
export function emptyMap<T>(): Record<string, T> {
  return Object.create(null) as Record<string, T>;
}
