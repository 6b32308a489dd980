// Verifies an S3 request's AWS Signature Version 4 with the SDK's own signer, and yields the decoded, checked payload.
import { createHash, timingSafeEqual } from 'node:crypto';
import { Hash } from '@smithy/hash-node';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import {
  AccessDeniedError,
  AuthorizationHeaderMalformedError,
  IncompleteBodyError,
  InvalidAccessKeyIdError,
  InvalidArgumentError,
  InvalidRequestError,
  RequestTimeTooSkewedError,
  SignatureDoesNotMatchError,
} from '../core/errors';
import { decodeAwsChunked } from './aws-chunked';
import { type Checksum, checksumHeaderAlgorithm, verifyChecksums } from './checksums';
import { AuthorizationQueryParametersError, XAmzContentSHA256MismatchError } from './errors';
import { lookup, type S3Request } from './request';
import { type AuthParams, extractAuth, formatAmzDate, Q, SERVICE, unsignedAmzHeaders } from './sigv4-auth';

export interface VerifyOptions {
  /** The region this endpoint serves; a credential scoped to another is refused and told which to use. */
  readonly region: string;
  readonly now: Date;
  lookupSecret(accessKeyId: string): Promise<string | undefined>;
  /** The URI path exactly as the client signed it, when a proxy changed it (API Gateway stage prefix). */
  readonly canonicalPath?: string;
}

export interface VerifiedRequest {
  readonly accessKeyId: string;
  /** The object bytes: the body with any aws-chunked framing removed, every signature and checksum verified. */
  readonly payload: Buffer;
  readonly presigned: boolean;
  /** The flexible checksum the client sent and that was verified, for storing and echoing. */
  readonly checksum?: Checksum;
}

export const MAX_SKEW_MS = 15 * 60 * 1000;
const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD';
const STREAMING_SIGNED = 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD';
const STREAMING_SIGNED_TRAILER = 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER';
const STREAMING_UNSIGNED_TRAILER = 'STREAMING-UNSIGNED-PAYLOAD-TRAILER';

export async function verifyRequest(req: S3Request, opts: VerifyOptions): Promise<VerifiedRequest> {
  const auth = extractAuth(req);
  checkRegion(auth, opts.region);
  checkTime(auth, opts.now);
  checkSignedHeaders(req, auth);

  const secret = await opts.lookupSecret(auth.accessKeyId);
  if (secret === undefined) {
    throw new InvalidAccessKeyIdError('The AWS Access Key Id you provided does not exist in our records.', {
      AWSAccessKeyId: auth.accessKeyId,
    });
  }
  const signer = new SignatureV4({
    credentials: { accessKeyId: auth.accessKeyId, secretAccessKey: secret },
    region: auth.region,
    service: SERVICE,
    sha256: Hash.bind(null, 'sha256'),
    // S3 signs the path once-encoded, as sent; every other service double-encodes.
    uriEscapePath: false,
    applyChecksum: false,
  });
  const canonicalPath = opts.canonicalPath ?? s3EncodePath(req.path);
  const expected =
    auth.form === 'header' ? await expectedHeaderSignature(signer, req, auth, canonicalPath) : await expectedPresignedSignature(signer, req, auth, canonicalPath);
  if (!signaturesEqual(expected, auth.signature)) {
    throw new SignatureDoesNotMatchError(
      'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
      { AWSAccessKeyId: auth.accessKeyId, SignatureProvided: auth.signature },
    );
  }

  const { payload, trailers } = await decodePayload(req, auth, signer);
  const checksum = verifyChecksums(req.headers, trailers, payload);
  return checksum === undefined
    ? { accessKeyId: auth.accessKeyId, payload, presigned: auth.form === 'presigned' }
    : { accessKeyId: auth.accessKeyId, payload, presigned: auth.form === 'presigned', checksum };
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
        RequestTime: auth.amzDate,
        ServerTime: serverTime,
        MaxAllowedSkewMilliseconds: String(MAX_SKEW_MS),
      });
    }
    return;
  }
  if (signedAt - now.getTime() > MAX_SKEW_MS) throw new AccessDeniedError('Request is not valid yet');
  const expiresAt = signedAt + (auth.expires ?? 0) * 1000;
  if (now.getTime() > expiresAt) {
    throw new AccessDeniedError('Request has expired', {
      'X-Amz-Expires': String(auth.expires),
      Expires: new Date(expiresAt).toISOString(),
      ServerTime: now.toISOString(),
    });
  }
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

/** The SDK signer re-signs exactly the signed headers at the client's date; the Authorization it writes holds the signature. */
async function expectedHeaderSignature(signer: SignatureV4, req: S3Request, auth: AuthParams, path: string): Promise<string> {
  const request = new HttpRequest({
    method: req.method,
    hostname: lookup(req.headers, 'host') ?? 'localhost',
    path,
    query: { ...req.query },
    headers: signedHeaderBag(req, auth),
    // Without x-amz-content-sha256 the signer hashes the body itself, as the client did.
    body: lookup(req.headers, 'x-amz-content-sha256') === undefined ? req.body : undefined,
  });
  const signed = await signer.sign(request, {
    signingDate: auth.signingDate,
    signingRegion: auth.region,
    signingService: SERVICE,
    signableHeaders: new Set(auth.signedHeaders),
  });
  const authorization = String(signed.headers.authorization ?? '');
  return /Signature=([0-9a-f]+)$/.exec(authorization)?.[1] ?? '';
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
  const request = new HttpRequest({
    method: req.method,
    hostname: lookup(req.headers, 'host') ?? 'localhost',
    path,
    query: { ...req.query },
    headers,
    body: contentSha256 === undefined ? {} : undefined,
  });
  const presigned = await signer.presign(request, {
    signingDate: auth.signingDate,
    signingRegion: auth.region,
    signingService: SERVICE,
    expiresIn: auth.expires ?? 0,
    signableHeaders: new Set(auth.signedHeaders),
    unhoistableHeaders: new Set(auth.signedHeaders.filter((name) => name.startsWith('x-amz-'))),
  });
  const signature = presigned.query?.[Q.signature];
  return typeof signature === 'string' ? signature : '';
}

function signaturesEqual(expected: string, provided: string): boolean {
  const a = Buffer.from(expected, 'utf8');
  const b = Buffer.from(provided, 'utf8');
  return a.length === b.length && a.length > 0 && timingSafeEqual(a, b);
}

function sha256Hex(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

interface DecodedPayload {
  readonly payload: Buffer;
  readonly trailers: Readonly<Record<string, string>>;
}

async function decodePayload(req: S3Request, auth: AuthParams, signer: SignatureV4): Promise<DecodedPayload> {
  const mode = auth.contentSha256 ?? UNSIGNED_PAYLOAD;
  if (mode === UNSIGNED_PAYLOAD) return { payload: req.body, trailers: {} };
  if (/^[0-9a-f]{64}$/.test(mode)) {
    const actual = sha256Hex(req.body);
    if (actual !== mode) {
      throw new XAmzContentSHA256MismatchError("The provided 'x-amz-content-sha256' header does not match what was computed.", {
        ClientComputedContentSHA256: mode,
        S3ComputedContentSHA256: actual,
      });
    }
    return { payload: req.body, trailers: {} };
  }
  if (mode !== STREAMING_SIGNED && mode !== STREAMING_SIGNED_TRAILER && mode !== STREAMING_UNSIGNED_TRAILER) {
    throw new InvalidArgumentError(
      'x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER or a valid sha256 value.',
      { ArgumentName: 'x-amz-content-sha256', ArgumentValue: mode },
    );
  }

  const decoded = decodeAwsChunked(req.body);
  const payload = Buffer.concat(decoded.chunks.map((chunk) => chunk.data));
  if (mode !== STREAMING_UNSIGNED_TRAILER) await verifyChunkSignatures(decoded, auth, signer, mode === STREAMING_SIGNED_TRAILER);

  const declared = lookup(req.headers, 'x-amz-decoded-content-length');
  if (declared !== undefined && declared.trim() !== String(payload.length)) {
    throw new IncompleteBodyError('You did not provide the number of bytes specified by the x-amz-decoded-content-length header', {
      ExpectedLength: declared,
      ReceivedLength: String(payload.length),
    });
  }
  return { payload, trailers: checkedTrailers(req, decoded.trailers, mode !== STREAMING_SIGNED) };
}

/** Each chunk's signature chains from the previous one, starting at the request's seed signature. */
async function verifyChunkSignatures(
  decoded: ReturnType<typeof decodeAwsChunked>,
  auth: AuthParams,
  signer: SignatureV4,
  withTrailer: boolean,
): Promise<void> {
  const scope = `${auth.scopeDate}/${auth.region}/${SERVICE}/aws4_request`;
  const signOptions = { signingDate: auth.signingDate, signingRegion: auth.region, signingService: SERVICE };
  const mismatch = (what: string) =>
    new SignatureDoesNotMatchError(`The ${what} signature we calculated does not match the signature you provided.`, {
      AWSAccessKeyId: auth.accessKeyId,
    });
  let previous = auth.signature;
  for (const chunk of decoded.chunks) {
    const stringToSign = ['AWS4-HMAC-SHA256-PAYLOAD', auth.amzDate, scope, previous, EMPTY_SHA256, sha256Hex(chunk.data)].join('\n');
    const expected = await signer.sign(stringToSign, signOptions);
    if (chunk.signature === undefined || !signaturesEqual(expected, chunk.signature)) throw mismatch('chunk');
    previous = chunk.signature;
  }
  if (!withTrailer) return;
  const trailerText = decoded.trailers.map(([name, value]) => `${name}:${value}\n`).join('');
  const stringToSign = ['AWS4-HMAC-SHA256-TRAILER', auth.amzDate, scope, previous, sha256Hex(trailerText)].join('\n');
  const expected = await signer.sign(stringToSign, signOptions);
  if (decoded.trailerSignature === undefined || !signaturesEqual(expected, decoded.trailerSignature)) throw mismatch('trailer');
}

/** Trailers must be the ones x-amz-trailer announced; only checksum trailers mean anything to S3. */
function checkedTrailers(
  req: S3Request,
  trailers: ReadonlyArray<readonly [string, string]>,
  trailerMode: boolean,
): Record<string, string> {
  const announced = (lookup(req.headers, 'x-amz-trailer') ?? '')
    .split(',')
    .map((name) => name.trim().toLowerCase())
    .filter((name) => name !== '');
  if (!trailerMode && trailers.length > 0) throw new InvalidRequestError('Trailers are only allowed with a trailer payload mode.');
  const result: Record<string, string> = {};
  for (const [name, value] of trailers) {
    if (!announced.includes(name)) throw new InvalidRequestError(`The trailer ${name} was not announced in x-amz-trailer.`);
    if (checksumHeaderAlgorithm(name) !== undefined) result[name] = value;
  }
  for (const name of announced) {
    if (!trailers.some(([sent]) => sent === name)) throw new IncompleteBodyError(`The announced trailer ${name} is missing.`);
  }
  return result;
}
