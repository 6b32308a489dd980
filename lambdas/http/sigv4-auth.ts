// Extracts and validates the SigV4 authentication parameters of a request, from the Authorization header or a presigned URL.
import {
  AccessDeniedError,
  AuthorizationHeaderMalformedError,
  InvalidArgumentError,
  InvalidRequestError,
} from '../core/errors';
import { AuthorizationQueryParametersError, PresignedExpiresError } from './errors';
import { lookup, type S3Request } from './request';

export const ALGORITHM = 'AWS4-HMAC-SHA256';
export const SERVICE = 's3';
const TERMINATOR = 'aws4_request';
export const MAX_PRESIGNED_EXPIRES = 604_800;

export interface AuthParams {
  readonly form: 'header' | 'presigned';
  readonly accessKeyId: string;
  /** YYYYMMDD from the credential scope. */
  readonly scopeDate: string;
  readonly region: string;
  readonly service: string;
  /** Lower case, in the order the client listed them. */
  readonly signedHeaders: readonly string[];
  readonly signature: string;
  /** YYYYMMDDTHHMMSSZ: the signing time as the string to sign carries it. */
  readonly amzDate: string;
  /** The date as the client sent it (x-amz-date, Date, or X-Amz-Date in a presigned URL). */
  readonly dateSent: string;
  /** Which header gave the date (header form); a Date-only request did not sign an x-amz-date. */
  readonly dateFromHeader?: 'x-amz-date' | 'date';
  readonly signingDate: Date;
  /** Seconds; presigned form only. */
  readonly expires?: number;
  /** The client's x-amz-content-sha256 (header form) or its query counterpart; undefined when absent. */
  readonly contentSha256?: string;
}

/** Query parameter names exactly as SigV4 presigning writes them. */
export const Q = {
  algorithm: 'X-Amz-Algorithm',
  credential: 'X-Amz-Credential',
  date: 'X-Amz-Date',
  expires: 'X-Amz-Expires',
  signedHeaders: 'X-Amz-SignedHeaders',
  signature: 'X-Amz-Signature',
  contentSha256: 'X-Amz-Content-Sha256',
} as const;

export function extractAuth(req: S3Request): AuthParams {
  const authorization = lookup(req.headers, 'authorization');
  const presigned = lookup(req.query, Q.algorithm) !== undefined || lookup(req.query, Q.signature) !== undefined;
  if (authorization !== undefined && presigned) {
    throw new InvalidArgumentError(
      'Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified',
      { ArgumentName: 'Authorization' },
    );
  }
  if (authorization !== undefined) return fromHeader(req, authorization);
  if (presigned) return fromQuery(req);
  throw new AccessDeniedError('Access Denied');
}

function fromHeader(req: S3Request, authorization: string): AuthParams {
  const malformed = (why: string, extra: Record<string, string> = {}) =>
    new AuthorizationHeaderMalformedError(`The authorization header is malformed; ${why}`, extra);
  const trimmed = authorization.trim();
  const space = trimmed.indexOf(' ');
  const algorithm = space < 0 ? trimmed : trimmed.slice(0, space);
  if (algorithm !== ALGORITHM) {
    throw new InvalidRequestError('The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.');
  }
  const fields = new Map<string, string>();
  for (const part of trimmed.slice(space + 1).split(',')) {
    const item = part.trim();
    if (item === '') continue;
    const eq = item.indexOf('=');
    if (eq <= 0) throw malformed(`the field "${item}" is not of the form name=value.`);
    const name = item.slice(0, eq);
    if (fields.has(name)) throw malformed(`the field ${name} appears more than once.`);
    fields.set(name, item.slice(eq + 1));
  }
  const credential = fields.get('Credential');
  const signedHeaders = fields.get('SignedHeaders');
  const signature = fields.get('Signature');
  if (credential === undefined || signedHeaders === undefined || signature === undefined) {
    throw malformed('the Credential, SignedHeaders and Signature fields are all required.');
  }
  // x-amz-date when sent (readable or not), else Date in HTTP's form: SigV4 takes either, as S3 does. The string to
  // sign carries the time in ISO 8601 basic form whichever header gave it.
  const amzHeader = lookup(req.headers, 'x-amz-date');
  const dateSent = amzHeader ?? lookup(req.headers, 'date');
  const signingDate = amzHeader !== undefined ? parseAmzDate(amzHeader) : dateSent === undefined ? undefined : parseHttpDate(dateSent);
  if (dateSent === undefined || signingDate === undefined) throw new AccessDeniedError('AWS authentication requires a valid Date or x-amz-date header');
  const amzDate = formatAmzDate(signingDate);
  const scope = parseCredential(credential, (why) => malformed(why));
  // S3 insists on x-amz-content-sha256; curl's --aws-sigv4 does not send it. Without it the signature is
  // checked over the hash of the body actually received (the signer's default), which binds the body at
  // least as tightly, so such requests are accepted rather than refused.
  const contentSha256 = lookup(req.headers, 'x-amz-content-sha256');
  if (scope.scopeDate !== amzDate.slice(0, 8)) {
    throw malformed('Invalid credential date. Date is not the same as X-Amz-Date.');
  }
  return {
    form: 'header',
    ...scope,
    signedHeaders: parseSignedHeaders(signedHeaders, (why) => malformed(why)),
    signature,
    amzDate,
    dateSent,
    dateFromHeader: amzHeader === undefined ? 'date' : 'x-amz-date',
    signingDate,
    contentSha256,
  };
}

function fromQuery(req: S3Request): AuthParams {
  const bad = (why: string, extra: Record<string, string> = {}) => new AuthorizationQueryParametersError(why, extra);
  const q = (name: string) => lookup(req.query, name);
  const algorithm = q(Q.algorithm);
  const credential = q(Q.credential);
  const amzDate = q(Q.date);
  const expiresText = q(Q.expires);
  const signedHeaders = q(Q.signedHeaders);
  const signature = q(Q.signature);
  if (algorithm !== ALGORITHM) {
    throw bad('X-Amz-Algorithm only supports "AWS4-HMAC-SHA256"');
  }
  if (credential === undefined || amzDate === undefined || expiresText === undefined || signedHeaders === undefined || signature === undefined) {
    throw bad(
      'Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.',
    );
  }
  const signingDate = parseAmzDate(amzDate);
  if (signingDate === undefined) throw bad('X-Amz-Date must be in the ISO8601 Long Format "yyyyMMdd\'T\'HHmmss\'Z\'"');
  const expires = parseExpires(expiresText);
  const scope = parseCredential(credential, (why, extra) => bad(`Error parsing the X-Amz-Credential parameter; ${why}`, extra));
  if (scope.scopeDate !== amzDate.slice(0, 8)) {
    throw bad('Error parsing the X-Amz-Credential parameter; Invalid credential date. Date is not the same as X-Amz-Date.');
  }
  const contentSha256 = q(Q.contentSha256);
  return {
    form: 'presigned',
    ...scope,
    signedHeaders: parseSignedHeaders(signedHeaders, (why) => bad(`Error parsing the X-Amz-SignedHeaders parameter; ${why}`)),
    signature,
    amzDate,
    dateSent: amzDate,
    signingDate,
    expires,
    ...(contentSha256 === undefined ? {} : { contentSha256 }),
  };
}

/**
 * X-Amz-Expires as S3 reads it (a signed decimal integer) and bounds it: 0 is read and then expires at once
 * ('Request has expired'); a negative value or one past a week is refused with S3's own words.
 */
function parseExpires(text: string): number {
  if (!/^[+-]?[0-9]{1,19}$/.test(text)) throw new PresignedExpiresError('X-Amz-Expires should be a number');
  const seconds = Number(text);
  if (seconds < 0) throw new PresignedExpiresError('X-Amz-Expires must be non-negative');
  if (seconds > MAX_PRESIGNED_EXPIRES) {
    throw new PresignedExpiresError(
      `X-Amz-Expires must be less than a week (in seconds); that is, the given X-Amz-Expires must be less than ${MAX_PRESIGNED_EXPIRES} seconds`,
    );
  }
  return seconds;
}

type Fail = (why: string, extra?: Record<string, string>) => Error;

function parseCredential(credential: string, fail: Fail) {
  const parts = credential.split('/');
  if (parts.length !== 5) {
    throw fail('the Credential is mal-formed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".');
  }
  const [accessKeyId = '', scopeDate = '', region = '', service = '', terminator = ''] = parts;
  if (accessKeyId === '') throw fail('the Credential is missing the access key id.');
  if (!/^[0-9]{8}$/.test(scopeDate)) throw fail(`incorrect date format "${scopeDate}". This date in the credential must be in the format "yyyyMMdd".`);
  if (service !== SERVICE) throw fail(`incorrect service "${service}". This endpoint belongs to "s3".`);
  if (terminator !== TERMINATOR) throw fail(`incorrect terminal "${terminator}". This endpoint uses "aws4_request".`);
  return { accessKeyId, scopeDate, region, service };
}

function parseSignedHeaders(list: string, fail: Fail): string[] {
  const names = list.split(';');
  if (names.some((name) => !/^[a-z0-9!#$%&'*+.^_`|~-]+$/.test(name))) throw fail('SignedHeaders must be lower-case header names separated by ";".');
  if (!names.includes('host')) throw fail('the host header must be signed.');
  return names;
}

/** Strict YYYYMMDDTHHMMSSZ that round-trips: the signer re-renders the date, so any other spelling cannot match. */
export function parseAmzDate(text: string): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(text);
  if (!m) return undefined;
  const date = new Date(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}Z`);
  if (Number.isNaN(date.getTime())) return undefined;
  return formatAmzDate(date) === text ? date : undefined;
}

/**
 * An HTTP date in RFC 1123 form ('Sun, 06 Nov 1994 08:49:37 GMT'), strictly: it must round-trip, so the weekday
 * and every field are checked.
 */
export function parseHttpDate(text: string): Date | undefined {
  if (!/^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/.test(text)) return undefined;
  const date = new Date(text);
  if (Number.isNaN(date.getTime())) return undefined;
  return date.toUTCString() === text ? date : undefined;
}

export function formatAmzDate(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z').replace(/[-:]/g, '');
}

/** Headers S3 requires to be signed when present; x-amz-cf-id is added by CloudFront in front of API Gateway. */
export function unsignedAmzHeaders(req: S3Request, signed: readonly string[]): string[] {
  return Object.keys(req.headers).filter(
    (name) => name.startsWith('x-amz-') && name !== 'x-amz-cf-id' && !signed.includes(name),
  );
}
