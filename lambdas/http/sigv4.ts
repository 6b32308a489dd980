// Verifies an S3 request's AWS Signature Version 4 with the SDK's own signer, from the headers alone, before any
// byte of the body is read; then opens the body as a stream that verifies the rest as it flows: the declared
// SHA-256, or each chunk signature of an aws-chunked body, and the checksums. The one exception is a signature
// over a body hash the request does not declare (curl --aws-sigv4): that body is spooled (to a private file on
// the embedded server), up to the largest body any operation takes, and nothing acts on it before it verifies.
import { createHash, timingSafeEqual } from 'node:crypto';
import { HttpRequest } from '@smithy/protocol-http';
import { getCanonicalHeaders, getCanonicalQuery, type SignatureV4 } from '@smithy/signature-v4';
import {
  AccessDeniedError,
  AuthorizationHeaderMalformedError,
  InvalidAccessKeyIdError,
  InvalidArgumentError,
  RequestTimeTooSkewedError,
  SignatureDoesNotMatchError,
} from '../core/errors';
import { chain } from '../core/stream-chain';
import { emptyPayloadSigned, unsupportedAuth } from './auth-guidance';
import { AwsChunkedDecoder, type ChunkSignatureVerifier } from './aws-chunked';
import { CheckedBody } from './body-checks';
import { announcedTrailers, parseContentMd5, planChecksum } from './checksums';
import { AuthorizationQueryParametersError } from './errors';
import { lookup, type S3Request } from './request';
import { s3Signer } from './signer';
import type { BodySpool, SpooledBody } from './spool';
import { ALGORITHM, type AuthParams, extractAuth, formatAmzDate, Q, SERVICE, unsignedAmzHeaders } from './sigv4-auth';

export interface AuthenticateOptions {
  /** The region this endpoint serves; a credential scoped to another is refused and told which to use. */
  readonly region: string;
  readonly now: Date;
  lookupSecret(accessKeyId: string): Promise<string | undefined>;
  /** The decoded path the client signed, when a proxy or the addressing changed it (API Gateway stage prefix, virtual host). */
  readonly canonicalPath?: string;
  /** Where a body is held while it is hashed, for the one request form whose signature covers the body's hash. */
  readonly spool: BodySpool;
  /** The largest body any operation takes; a body to spool past it is refused as it arrives. */
  readonly maxBodyBytes: number;
  readonly tooLarge: (bytes: number, lowerBound?: boolean) => Error;
}

/** How an operation wants the body: at most this many bytes, and the error past it. */
export interface PayloadLimit {
  readonly maxBytes: number;
  /**
   * `bytes` is the declared size, or with `lowerBound` the count at which a body that declared none was cut off
   * (its real size is then unknown, and the error must not name that count as the proposed size).
   */
  readonly tooLarge: (bytes: number, lowerBound?: boolean) => Error;
  /**
   * Set for CompleteMultipartUpload: its x-amz-checksum-* headers name the object being completed, not this body,
   * so they are checked by the completion instead of against the XML.
   */
  readonly checksumHeadersNameObject?: boolean;
}

/** A request whose signature checked out; its body is not read yet. */
export interface Authenticated {
  readonly accessKeyId: string;
  readonly presigned: boolean;
  /** The payload length the client declared (decoded length for aws-chunked), when it declared one. */
  readonly payloadLength: number | undefined;
  /**
   * The payload (aws-chunked framing removed) as a stream that errors before its end if any check fails: size
   * limit, SHA-256, chunk signatures, Content-MD5, flexible checksum. Call once.
   */
  openPayload(limit: PayloadLimit): CheckedBody;
  /** Releases a spooled body; the front calls it when the request is done. */
  dispose(): Promise<void>;
}

export const MAX_SKEW_MS = 15 * 60 * 1000;
const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD';
const STREAMING_SIGNED = 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD';
const STREAMING_SIGNED_TRAILER = 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER';
const STREAMING_UNSIGNED_TRAILER = 'STREAMING-UNSIGNED-PAYLOAD-TRAILER';
const SHA256_HEADER = 'x-amz-content-sha256';

type PayloadMode =
  | { readonly kind: 'unsigned' }
  | { readonly kind: 'sha256'; readonly hex: string }
  | { readonly kind: 'spooled'; readonly body: SpooledBody }
  | { readonly kind: 'chunked'; readonly signed: boolean; readonly trailer: boolean };

/**
 * Checks the signature over method, path, query and signed headers. A request whose signature covers a body
 * hash it does not declare (curl --aws-sigv4 sends no x-amz-content-sha256) has its body spooled and hashed
 * first: the spool bounds memory, and nothing else happens until the signature holds.
 */
export async function authenticate(req: S3Request, opts: AuthenticateOptions): Promise<Authenticated> {
  const refusal = unsupportedAuth(req, opts.region);
  if (refusal) throw refusal;
  const auth = extractAuth(req);
  checkRegion(auth, opts.region);
  checkTime(auth, opts.now);
  checkSignedHeaders(req, auth);
  const mode = payloadModeOf(auth);

  const secret = await opts.lookupSecret(auth.accessKeyId);
  if (secret === undefined) {
    throw new InvalidAccessKeyIdError('The AWS Access Key Id you provided does not exist in our records.', {
      AWSAccessKeyId: auth.accessKeyId,
    });
  }
  const signer = s3Signer({ credentials: { accessKeyId: auth.accessKeyId, secretAccessKey: secret }, region: auth.region });
  const canonicalPath = s3EncodePath(opts.canonicalPath ?? req.path);

  let spooled: SpooledBody | undefined;
  let payloadHash: string | undefined;
  if (auth.form === 'header' && auth.contentSha256 === undefined) {
    spooled = await spoolBody(req, opts);
    payloadHash = spooled.sha256Hex;
  }
  try {
    const expected =
      auth.form === 'header'
        ? await expectedHeaderSignature(signer, req, auth, canonicalPath, payloadHash)
        : await expectedPresignedSignature(signer, req, auth, canonicalPath);
    if (!signaturesEqual(expected, auth.signature)) {
      // curl 7.x signs a -T upload over an empty payload while it sends the file: say so rather than "check your key".
      if (spooled !== undefined && spooled.size > 0 && signaturesEqual(await expectedHeaderSignature(signer, req, auth, canonicalPath, EMPTY_SHA256), auth.signature)) {
        throw emptyPayloadSigned(auth.accessKeyId, spooled.size);
      }
      throw new SignatureDoesNotMatchError(
        'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
        { AWSAccessKeyId: auth.accessKeyId, SignatureProvided: auth.signature },
      );
    }
  } catch (e) {
    await spooled?.dispose();
    throw e;
  }

  const payload: PayloadMode | { kind: 'undeclared' } = spooled ? { kind: 'spooled', body: spooled } : mode;
  const declaredLength = payload.kind === 'chunked' ? decodedLength(req) : spooled ? spooled.size : req.body.declaredLength;
  let opened = false;
  return {
    accessKeyId: auth.accessKeyId,
    presigned: auth.form === 'presigned',
    payloadLength: declaredLength,
    openPayload: (limit) => {
      if (opened) throw new Error('the payload was already opened');
      opened = true;
      return openPayload(req, payload, declaredLength, limit, { seed: auth.signature, verifier: chunkVerifier(signer, auth) });
    },
    dispose: async () => {
      await spooled?.dispose();
    },
  };
}

/** x-amz-content-sha256 decides how the body is framed and bound to the signature. */
function payloadModeOf(auth: AuthParams): PayloadMode | { kind: 'undeclared' } {
  const declared = auth.contentSha256;
  if (declared === undefined) return auth.form === 'presigned' ? { kind: 'unsigned' } : { kind: 'undeclared' };
  if (declared === UNSIGNED_PAYLOAD) return { kind: 'unsigned' };
  if (/^[0-9a-f]{64}$/.test(declared)) return { kind: 'sha256', hex: declared };
  if (declared === STREAMING_SIGNED) return { kind: 'chunked', signed: true, trailer: false };
  if (declared === STREAMING_SIGNED_TRAILER) return { kind: 'chunked', signed: true, trailer: true };
  if (declared === STREAMING_UNSIGNED_TRAILER) return { kind: 'chunked', signed: false, trailer: true };
  throw new InvalidArgumentError(
    'x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER or a valid sha256 value.',
    { ArgumentName: SHA256_HEADER, ArgumentValue: declared },
  );
}

async function spoolBody(req: S3Request, opts: AuthenticateOptions): Promise<SpooledBody> {
  const declared = req.body.declaredLength;
  if (declared !== undefined && declared > opts.maxBodyBytes) throw opts.tooLarge(declared);
  return opts.spool.spool(req.body.open(), { maxBytes: opts.maxBodyBytes, tooLarge: opts.tooLarge });
}

function decodedLength(req: S3Request): number | undefined {
  const declared = lookup(req.headers, 'x-amz-decoded-content-length');
  if (declared === undefined) return undefined;
  const n = Number(declared.trim());
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new InvalidArgumentError('x-amz-decoded-content-length must be a non-negative integer.', { ArgumentName: 'x-amz-decoded-content-length' });
  }
  return n;
}

function openPayload(
  req: S3Request,
  mode: PayloadMode | { kind: 'undeclared' },
  declaredLength: number | undefined,
  limit: PayloadLimit,
  signatures: { readonly seed: string; readonly verifier: ChunkSignatureVerifier },
): CheckedBody {
  const checksum = limit.checksumHeadersNameObject ? undefined : planChecksum(req.headers);
  const contentMd5 = parseContentMd5(lookup(req.headers, 'content-md5'));
  if (declaredLength !== undefined && declaredLength > limit.maxBytes) throw limit.tooLarge(declaredLength);
  const base = {
    maxBytes: limit.maxBytes,
    tooLarge: limit.tooLarge,
    ...(declaredLength === undefined ? {} : { declaredLength }),
    ...(contentMd5 === undefined ? {} : { contentMd5 }),
    ...(checksum === undefined ? {} : { checksum }),
  };
  switch (mode.kind) {
    case 'spooled':
      return chain(mode.body.open(), [new CheckedBody(base)]);
    case 'unsigned':
    case 'undeclared':
      return chain(req.body.open(), [new CheckedBody(base)]);
    case 'sha256':
      return chain(req.body.open(), [new CheckedBody({ ...base, sha256Hex: mode.hex })]);
    case 'chunked': {
      const decoder = new AwsChunkedDecoder({
        trailerMode: mode.trailer,
        announcedTrailers: announcedTrailers(req.headers),
        ...(mode.signed ? { signatures: { seed: signatures.seed, verifier: signatures.verifier, signedTrailer: mode.trailer } } : {}),
      });
      return chain(req.body.open(), [decoder, new CheckedBody({ ...base, trailers: () => decoder.trailers() })]);
    }
  }
}

/** Each chunk's signature chains from the previous one, starting at the request's seed signature. */
function chunkVerifier(signer: SignatureV4, auth: AuthParams): ChunkSignatureVerifier {
  const scope = `${auth.scopeDate}/${auth.region}/${SERVICE}/aws4_request`;
  const signOptions = signingScope(auth);
  const mismatch = (what: string) =>
    new SignatureDoesNotMatchError(`The ${what} signature we calculated does not match the signature you provided.`, {
      AWSAccessKeyId: auth.accessKeyId,
    });
  return {
    verifyChunk: async (previous, dataSha256Hex, provided) => {
      const stringToSign = ['AWS4-HMAC-SHA256-PAYLOAD', auth.amzDate, scope, previous, EMPTY_SHA256, dataSha256Hex].join('\n');
      const expected = await signer.sign(stringToSign, signOptions);
      if (provided === undefined || !signaturesEqual(expected, provided)) throw mismatch('chunk');
    },
    verifyTrailer: async (previous, trailerText, provided) => {
      const hex = createHash('sha256').update(trailerText, 'utf8').digest('hex');
      const stringToSign = ['AWS4-HMAC-SHA256-TRAILER', auth.amzDate, scope, previous, hex].join('\n');
      const expected = await signer.sign(stringToSign, signOptions);
      if (provided === undefined || !signaturesEqual(expected, provided)) throw mismatch('trailer');
    },
  };
}

/** S3's canonical URI: every segment of the decoded path percent-encoded (RFC 3986 unreserved kept), '/' kept. */
export function s3EncodePath(path: string): string {
  return path.split('/').map(encodeSegment).join('/');
}

function encodeSegment(segment: string): string {
  let out = '';
  // Buffer.from never throws, even on lone surrogates (encodeURIComponent would).
  for (const byte of Buffer.from(segment, 'utf8')) {
    const ch = String.fromCharCode(byte);
    out += /[A-Za-z0-9\-_.~]/.test(ch) ? ch : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

function checkRegion(auth: AuthParams, region: string): void {
  if (auth.region === region) return;
  const why = `the region '${auth.region}' is wrong; expecting '${region}'`;
  if (auth.form === 'header') {
    throw new AuthorizationHeaderMalformedError(`The authorization header is malformed; ${why}`, { Region: region });
  }
  throw new AuthorizationQueryParametersError(`Error parsing the X-Amz-Credential parameter; ${why}`, { Region: region });
}

function checkTime(auth: AuthParams, now: Date): void {
  const signedAt = auth.signingDate.getTime();
  const serverTime = formatAmzDate(now);
  if (auth.form === 'header') {
    if (Math.abs(now.getTime() - signedAt) > MAX_SKEW_MS) {
      throw new RequestTimeTooSkewedError('The difference between the request time and the current time is too large.', {
        RequestTime: auth.dateSent,
        ServerTime: serverTime,
        MaxAllowedSkewMilliseconds: String(MAX_SKEW_MS),
      });
    }
    return;
  }
  if (signedAt - now.getTime() > MAX_SKEW_MS) throw new AccessDeniedError('Request is not valid yet');
  const expiresAt = signedAt + (auth.expires ?? 0) * 1000;
  // X-Amz-Expires=0 expires at the very second it was signed for: S3 answers it 'Request has expired' too.
  if (now.getTime() >= expiresAt) {
    throw new AccessDeniedError('Request has expired', {
      'X-Amz-Expires': String(auth.expires),
      Expires: isoSeconds(new Date(expiresAt)),
      ServerTime: isoSeconds(now),
    });
  }
}

/** S3's Expires and ServerTime: ISO 8601 to the second. */
function isoSeconds(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Every signed header must be present, and S3 refuses x-amz-* headers that were sent but not signed. */
function checkSignedHeaders(req: S3Request, auth: AuthParams): void {
  const unsigned = unsignedAmzHeaders(req, auth.signedHeaders);
  if (unsigned.length > 0) {
    throw new AccessDeniedError('There were headers present in the request which were not signed', {
      HeadersNotSigned: unsigned.join(', '),
    });
  }
  const missing = auth.signedHeaders.filter((name) => lookup(req.headers, name) === undefined);
  if (missing.length > 0) {
    throw new SignatureDoesNotMatchError(`Signed headers are missing from the request: ${missing.join(', ')}`, {
      AWSAccessKeyId: auth.accessKeyId,
    });
  }
}

function signedHeaderBag(req: S3Request, auth: AuthParams): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const name of auth.signedHeaders) headers[name] = lookup(req.headers, name) ?? '';
  return headers;
}

/**
 * The SDK signer re-signs exactly the signed headers at the client's date; the Authorization it writes holds the
 * signature. `bodyHash` is the hash of a spooled body, for a request that declares none: the signer takes the
 * payload hash from an x-amz-content-sha256 entry, which is then kept out of the canonical headers.
 */
async function expectedHeaderSignature(signer: SignatureV4, req: S3Request, auth: AuthParams, path: string, bodyHash: string | undefined): Promise<string> {
  if (auth.dateFromHeader === 'date' || auth.signedHeaders.includes('date')) {
    return dateHeaderSignature(signer, req, auth, path, bodyHash ?? auth.contentSha256 ?? '');
  }
  const headers = signedHeaderBag(req, auth);
  if (bodyHash !== undefined) headers[SHA256_HEADER] = bodyHash;
  // The signer writes its own x-amz-date (and, for a spooled body, x-amz-content-sha256) into what it signs; one the
  // client did not sign (a Date-only request) is kept out of the canonical headers.
  const unsignable = [...(bodyHash !== undefined ? [SHA256_HEADER] : []), ...(auth.signedHeaders.includes('x-amz-date') ? [] : ['x-amz-date'])];
  const signed = await signer.sign(signable(req, path, headers), {
    ...signingScope(auth),
    signableHeaders: new Set(auth.signedHeaders),
    ...(unsignable.length > 0 ? { unsignableHeaders: new Set(unsignable) } : {}),
  });
  const authorization = String(signed.headers.authorization ?? '');
  return /Signature=([0-9a-f]+)$/.exec(authorization)?.[1] ?? '';
}

/**
 * A request that signed its Date header (dated by it, or beside x-amz-date). The SDK signer drops a Date header and
 * writes its own x-amz-date, so the canonical request is put together here from the signer's own pieces (canonical headers and
 * query), in SigV4's layout; the string to sign carries the time in ISO 8601 basic form and the signer signs it.
 */
async function dateHeaderSignature(signer: SignatureV4, req: S3Request, auth: AuthParams, path: string, payloadHash: string): Promise<string> {
  const request = signable(req, path, signedHeaderBag(req, auth));
  const canonicalHeaders = getCanonicalHeaders(request, undefined, new Set(auth.signedHeaders));
  const names = Object.keys(canonicalHeaders).sort();
  const canonicalRequest = [
    req.method,
    path,
    getCanonicalQuery(request),
    ...names.map((name) => `${name}:${canonicalHeaders[name] ?? ''}`),
    '',
    names.join(';'),
    payloadHash,
  ].join('\n');
  const scope = `${auth.scopeDate}/${auth.region}/${SERVICE}/aws4_request`;
  const stringToSign = [ALGORITHM, auth.amzDate, scope, createHash('sha256').update(canonicalRequest, 'utf8').digest('hex')].join('\n');
  return signer.sign(stringToSign, signingScope(auth));
}

/**
 * Presigning rewrites the X-Amz-* auth parameters from the same inputs, so they come out as the client sent them.
 * The payload hash is X-Amz-Content-Sha256 when the URL carries it (the SDK presigner adds it), else UNSIGNED-PAYLOAD.
 */
async function expectedPresignedSignature(signer: SignatureV4, req: S3Request, auth: AuthParams, path: string): Promise<string> {
  const headers = signedHeaderBag(req, auth);
  const contentSha256 = lookup(req.query, Q.contentSha256);
  // A header named like the query parameter is hoisted back onto it by presign; without one, a non-buffer body makes the
  // signer use UNSIGNED-PAYLOAD, which is what presigned S3 requests sign.
  if (contentSha256 !== undefined) headers[Q.contentSha256] = contentSha256;
  const presigned = await signer.presign(signable(req, path, headers, contentSha256 === undefined ? {} : undefined), {
    ...signingScope(auth),
    expiresIn: auth.expires ?? 0,
    signableHeaders: new Set(auth.signedHeaders),
    unhoistableHeaders: new Set(auth.signedHeaders.filter((name) => name.startsWith('x-amz-'))),
  });
  const signature = presigned.query?.[Q.signature];
  return typeof signature === 'string' ? signature : '';
}

/** The request as the SDK signer takes it: the client's method, host, path and query, with the headers it signed. */
function signable(req: S3Request, path: string, headers: Record<string, string>, body?: unknown): HttpRequest {
  return new HttpRequest({ method: req.method, hostname: lookup(req.headers, 'host') ?? 'localhost', path, query: { ...req.query }, headers, body });
}

/** The date, region and service the client signed for, as the SDK signer's options. */
function signingScope(auth: AuthParams): { signingDate: Date; signingRegion: string; signingService: string } {
  return { signingDate: auth.signingDate, signingRegion: auth.region, signingService: SERVICE };
}

function signaturesEqual(expected: string, provided: string): boolean {
  const a = Buffer.from(expected, 'utf8');
  const b = Buffer.from(provided, 'utf8');
  return a.length === b.length && a.length > 0 && timingSafeEqual(a, b);
}
