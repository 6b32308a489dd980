// Extracts and validates the SigV4 authentication parameters of a request, from the Authorization header or a presigned URL.
import {
  AccessDeniedError,
  AuthorizationHeaderMalformedError,
  InvalidArgumentError,
  InvalidRequestError,
} from '../core/errors';
import { AuthorizationQueryParametersError } from './errors';
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
  /** YYYYMMDDTHHMMSSZ, as sent. */
  readonly amzDate: string;
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
  const amzDate = lookup(req.headers, 'x-amz-date');
  if (amzDate === undefined) {
    // SDK clients always sign x-amz-date; a Date-header-only request is not supported.
    throw new AccessDeniedError('AWS authentication requires a valid Date or x-amz-date header');
  }
  const signingDate = parseAmzDate(amzDate);
  if (signingDate === undefined) throw new AccessDeniedError('AWS authentication requires a valid Date or x-amz-date header');
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
  if (!/^[0-9]{1,6}$/.test(expiresText) || Number(expiresText) < 1 || Number(expiresText) > MAX_PRESIGNED_EXPIRES) {
    throw bad(
      Number(expiresText) > MAX_PRESIGNED_EXPIRES
        ? 'X-Amz-Expires must be less than a week (in seconds) that is 604800'
        : 'X-Amz-Expires should be a number between 1 and 604800',
    );
  }
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
    signingDate,
    expires: Number(expiresText),
    ...(contentSha256 === undefined ? {} : { contentSha256 }),
  };
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

export function formatAmzDate(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z').replace(/[-:]/g, '');
}

/** Headers S3 requires to be signed when present; x-amz-cf-id is added by CloudFront in front of API Gateway. */
export function unsignedAmzHeaders(req: S3Request, signed: readonly string[]): string[] {
  return Object.keys(req.headers).filter(
    (name) => name.startsWith('x-amz-') && name !== 'x-amz-cf-id' && !signed.includes(name),
  );
}
