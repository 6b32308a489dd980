// Maps a path-style S3 request (method, path, subresources) to the operation it names, validating names on the way.
import {
  InvalidArgumentError,
  InvalidBucketNameError,
  InvalidRequestError,
  KeyTooLongError,
  MethodNotAllowedError,
  NotImplementedError,
} from '../core/errors';
import { lookup, type S3Request } from './request';

export type S3Op =
  | 'ListBuckets'
  | 'CreateBucket'
  | 'HeadBucket'
  | 'DeleteBucket'
  | 'GetBucketLocation'
  | 'ListObjectsV2'
  | 'ListObjects'
  | 'PutObject'
  | 'CopyObject'
  | 'GetObject'
  | 'HeadObject'
  | 'GetObjectAttributes'
  | 'DeleteObject'
  | 'DeleteObjects'
  | 'CreateMultipartUpload'
  | 'UploadPart'
  | 'UploadPartCopy'
  | 'CompleteMultipartUpload'
  | 'AbortMultipartUpload'
  | 'ListParts'
  | 'ListMultipartUploads'
  | 'GetBucketEncryption'
  | 'PutBucketEncryption'
  | 'DeleteBucketEncryption'
  | 'GetBucketAcl'
  | 'PutBucketAcl'
  | 'GetObjectAcl'
  | 'PutObjectAcl'
  | 'GetBucketOwnershipControls'
  | 'GetBucketVersioning'
  | 'PutBucketVersioning'
  | 'ListObjectVersions';

export interface CopySource {
  readonly bucket: string;
  readonly key: string;
  readonly versionId?: string;
}

export type S3Route =
  | {
      readonly op: S3Op;
      readonly bucket?: string;
      readonly key?: string;
      readonly uploadId?: string;
      /** 1..10000, validated. */
      readonly partNumber?: number;
      /** Parsed x-amz-copy-source of CopyObject / UploadPartCopy. */
      readonly copySource?: CopySource;
      /** ?versionId of GetObject, HeadObject, DeleteObject (and the ACL and attribute reads). */
      readonly versionId?: string;
      readonly adminPath?: undefined;
    }
  | { readonly op: 'Admin'; readonly adminPath: string; readonly bucket?: undefined; readonly key?: undefined };

/** No S3 bucket can be named this (bucket names cannot contain '_'), so the admin API cannot shadow a bucket. */
export const ADMIN_PREFIX = '/_sealstore';

// One definition each: S3's key limit (core/limits) and the format's part-number range.
export { MAX_KEY_BYTES } from '../core/limits';
export { MAX_PART_NUMBER } from '../core/format';
import { MAX_KEY_BYTES } from '../core/limits';
import { MAX_PART_NUMBER } from '../core/format';

/**
 * Subresources S3 defines that this store does not implement. Any other unknown parameter is ignored,
 * as S3 ignores it.
 */
const UNSUPPORTED_SUBRESOURCES = new Set([
  'accelerate', 'analytics', 'cors', 'intelligent-tiering', 'inventory',
  'legal-hold', 'lifecycle', 'logging', 'metadataConfiguration', 'metadataTable', 'metrics', 'notification',
  'object-lock', 'policy', 'policyStatus', 'publicAccessBlock', 'renameObject',
  'replication', 'requestPayment', 'restore', 'retention', 'select', 'session', 'tagging', 'torrent',
  'website',
]);

export function routeS3(req: S3Request): S3Route {
  const { method, path, query } = req;
  if (path === ADMIN_PREFIX || path.startsWith(`${ADMIN_PREFIX}/`)) {
    return { op: 'Admin', adminPath: path.slice(ADMIN_PREFIX.length) || '/' };
  }
  if (!path.startsWith('/')) throw new InvalidArgumentError('The request path must begin with "/".');
  rejectUnsupported(query);

  const rest = path.slice(1);
  const slash = rest.indexOf('/');
  const bucket = slash < 0 ? rest : rest.slice(0, slash);
  const key = slash < 0 ? '' : rest.slice(slash + 1);

  if (bucket === '') {
    if (method === 'GET') return { op: 'ListBuckets' };
    throw notAllowed(method);
  }
  validateBucketName(bucket);
  if (key === '') return routeBucket(method, bucket, query);
  validateKey(key);
  return routeObject(req, bucket, key);
}

/**
 * Bucket subresources this store answers, by method. ACLs and ownership controls are answered as S3 answers a bucket
 * with ACLs disabled; a method not listed is not implemented (e.g. DELETE ?ownershipControls: it is always enforced).
 */
const BUCKET_SUBRESOURCES: Readonly<Record<string, Readonly<Record<string, S3Op>>>> = {
  encryption: { GET: 'GetBucketEncryption', PUT: 'PutBucketEncryption', DELETE: 'DeleteBucketEncryption' },
  acl: { GET: 'GetBucketAcl', PUT: 'PutBucketAcl' },
  ownershipControls: { GET: 'GetBucketOwnershipControls' },
  versioning: { GET: 'GetBucketVersioning', PUT: 'PutBucketVersioning' },
  versions: { GET: 'ListObjectVersions' },
};
const OBJECT_SUBRESOURCES: Readonly<Record<string, Readonly<Record<string, S3Op>>>> = {
  acl: { GET: 'GetObjectAcl', PUT: 'PutObjectAcl' },
};

function routeSubresource(table: Readonly<Record<string, Readonly<Record<string, S3Op>>>>, method: string, query: Readonly<Record<string, string>>): S3Op | undefined {
  for (const [name, byMethod] of Object.entries(table)) {
    if (lookup(query, name) === undefined) continue;
    const op = Object.prototype.hasOwnProperty.call(byMethod, method) ? byMethod[method] : undefined;
    if (op === undefined) throw new NotImplementedError(`${method} of the ${name} subresource is not implemented.`);
    return op;
  }
  return undefined;
}

function routeBucket(method: string, bucket: string, query: Readonly<Record<string, string>>): S3Route {
  const has = (name: string) => lookup(query, name) !== undefined;
  const sub = routeSubresource(BUCKET_SUBRESOURCES, method, query);
  if (sub !== undefined) return { op: sub, bucket };
  switch (method) {
    case 'GET':
      if (has('location')) return { op: 'GetBucketLocation', bucket };
      if (has('uploads')) return { op: 'ListMultipartUploads', bucket };
      if (lookup(query, 'list-type') === '2') return { op: 'ListObjectsV2', bucket };
      if (has('list-type') && lookup(query, 'list-type') !== '1') {
        throw new InvalidArgumentError('Invalid List Type specified.', { ArgumentName: 'list-type' });
      }
      return { op: 'ListObjects', bucket };
    case 'HEAD':
      return { op: 'HeadBucket', bucket };
    case 'PUT':
      return { op: 'CreateBucket', bucket };
    case 'DELETE':
      return { op: 'DeleteBucket', bucket };
    case 'POST':
      if (has('delete')) return { op: 'DeleteObjects', bucket };
      // Browser-form POST uploads are an S3 feature this store does not offer.
      throw new NotImplementedError('POST object uploads are not implemented.');
    default:
      throw notAllowed(method);
  }
}

function routeObject(req: S3Request, bucket: string, key: string): S3Route {
  const { method, query } = req;
  const versionId = lookup(query, 'versionId');
  const sub = routeSubresource(OBJECT_SUBRESOURCES, method, query);
  // Bucket subresources only: on an object they name nothing S3 offers.
  for (const name of ['versioning', 'versions']) {
    if (sub === undefined && lookup(query, name) !== undefined) throw new NotImplementedError(`The ${name} subresource of an object is not implemented.`);
  }
  const route: S3Route = sub !== undefined ? { op: sub, bucket, key } : routeObjectOp(req, bucket, key);
  if (versionId === undefined || route.op === 'Admin') return route;
  // A version id is honoured by the operations that read or remove one version; anywhere else it is refused rather
  // than ignored (a PUT ?versionId= would otherwise overwrite the latest version), as S3 refuses it.
  if (!VERSIONED_OPS.has(route.op)) {
    throw new InvalidArgumentError(`${route.op} does not accept a version id; send the request without versionId.`, { ArgumentName: 'versionId', ArgumentValue: versionId });
  }
  return withVersion(route, versionId);
}

/** The object operations that act on the version a versionId names. */
const VERSIONED_OPS: ReadonlySet<S3Op | 'Admin'> = new Set<S3Op | 'Admin'>(['GetObject', 'HeadObject', 'DeleteObject', 'GetObjectAttributes', 'GetObjectAcl', 'PutObjectAcl']);

function withVersion(route: S3Route, versionId: string): S3Route {
  return route.op === 'Admin' ? route : { ...route, versionId };
}

function routeObjectOp(req: S3Request, bucket: string, key: string): S3Route {
  const { method, query } = req;
  const uploadId = lookup(query, 'uploadId');
  const partNumberText = lookup(query, 'partNumber');
  const copySourceHeader = lookup(req.headers, 'x-amz-copy-source');
  switch (method) {
    case 'PUT': {
      if (uploadId !== undefined || partNumberText !== undefined) {
        if (uploadId === undefined || partNumberText === undefined) {
          throw new InvalidRequestError('UploadPart needs both partNumber and uploadId.');
        }
        const partNumber = parsePartNumber(partNumberText);
        if (copySourceHeader !== undefined) {
          return { op: 'UploadPartCopy', bucket, key, uploadId, partNumber, copySource: parseCopySource(copySourceHeader) };
        }
        return { op: 'UploadPart', bucket, key, uploadId, partNumber };
      }
      if (copySourceHeader !== undefined) {
        return { op: 'CopyObject', bucket, key, copySource: parseCopySource(copySourceHeader) };
      }
      return { op: 'PutObject', bucket, key };
    }
    case 'GET':
      if (uploadId !== undefined) return { op: 'ListParts', bucket, key, uploadId };
      if (lookup(query, 'attributes') !== undefined) return { op: 'GetObjectAttributes', bucket, key };
      if (partNumberText !== undefined) return { op: 'GetObject', bucket, key, partNumber: parsePartNumber(partNumberText) };
      return { op: 'GetObject', bucket, key };
    case 'HEAD':
      if (partNumberText !== undefined) return { op: 'HeadObject', bucket, key, partNumber: parsePartNumber(partNumberText) };
      return { op: 'HeadObject', bucket, key };
    case 'DELETE':
      if (uploadId !== undefined) return { op: 'AbortMultipartUpload', bucket, key, uploadId };
      return { op: 'DeleteObject', bucket, key };
    case 'POST':
      if (lookup(query, 'uploads') !== undefined) return { op: 'CreateMultipartUpload', bucket, key };
      if (uploadId !== undefined) return { op: 'CompleteMultipartUpload', bucket, key, uploadId };
      throw notAllowed(method);
    default:
      throw notAllowed(method);
  }
}

function rejectUnsupported(query: Readonly<Record<string, string>>): void {
  for (const name of Object.keys(query)) {
    if (UNSUPPORTED_SUBRESOURCES.has(name)) {
      throw new NotImplementedError(`The ${name} subresource is not implemented.`);
    }
  }
}

function notAllowed(method: string): MethodNotAllowedError {
  return new MethodNotAllowedError('The specified method is not allowed against this resource.', {
    Method: method,
    ResourceType: 'OBJECT',
  });
}

function parsePartNumber(text: string): number {
  if (!/^[0-9]{1,5}$/.test(text) || Number(text) < 1 || Number(text) > MAX_PART_NUMBER) {
    throw new InvalidArgumentError(`Part number must be an integer between 1 and ${MAX_PART_NUMBER}, inclusive`, {
      ArgumentName: 'partNumber',
      ArgumentValue: text,
    });
  }
  return Number(text);
}

/** x-amz-copy-source is '[/]bucket/key[?versionId=id]' with the key URL-encoded. */
export function parseCopySource(header: string): CopySource {
  const invalid = () =>
    new InvalidArgumentError('Invalid copy source object key', { ArgumentName: 'x-amz-copy-source', ArgumentValue: header });
  const [pathPart = '', queryPart] = splitOnce(header, '?');
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathPart);
  } catch {
    throw invalid();
  }
  const trimmed = decoded.startsWith('/') ? decoded.slice(1) : decoded;
  const slash = trimmed.indexOf('/');
  if (slash <= 0 || slash === trimmed.length - 1) throw invalid();
  const bucket = trimmed.slice(0, slash);
  const key = trimmed.slice(slash + 1);
  validateBucketName(bucket);
  validateKey(key);
  let versionId: string | undefined;
  if (queryPart !== undefined) {
    const params = new URLSearchParams(queryPart);
    versionId = params.get('versionId') ?? undefined;
  }
  return versionId === undefined ? { bucket, key } : { bucket, key, versionId };
}

function splitOnce(text: string, separator: string): [string, string | undefined] {
  const at = text.indexOf(separator);
  return at < 0 ? [text, undefined] : [text.slice(0, at), text.slice(at + 1)];
}

const RESERVED_PREFIXES = ['xn--', 'sthree-', 'amzn-s3-demo-'];
const RESERVED_SUFFIXES = ['-s3alias', '--ol-s3', '.mrap', '--x-s3', '--table-s3'];

const oneOf = (items: readonly string[]) => `${items.slice(0, -1).join(', ')} or ${items.at(-1) ?? ''}`;

/** The rules in one sentence, after the one a name breaks: a person fixing a name wants to see them all. */
export const BUCKET_NAME_RULES =
  'Bucket names are 3 to 63 characters of lowercase letters, digits, hyphens and dots, begin and end with a letter or digit, ' +
  `have no two adjacent dots, are not IP addresses, and neither begin with ${oneOf(RESERVED_PREFIXES)} nor end with ${oneOf(RESERVED_SUFFIXES)}.`;

/** Which of S3's general-purpose bucket naming rules `name` breaks, or undefined when it keeps them all. */
export function bucketNameProblem(name: string): string | undefined {
  if (name.length < 3 || name.length > 63) return `it is ${name.length} characters long`;
  const bad = /[^a-z0-9.-]/.exec(name);
  if (bad) return /[A-Z]/.test(bad[0]) ? `it has an uppercase letter (${JSON.stringify(bad[0])})` : `it has the character ${JSON.stringify(bad[0])}`;
  if (!/^[a-z0-9]/.test(name)) return `it begins with ${JSON.stringify(name[0])}`;
  if (!/[a-z0-9]$/.test(name)) return `it ends with ${JSON.stringify(name[name.length - 1])}`;
  if (name.includes('..')) return 'it has two adjacent dots';
  if (/^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(name)) return 'it is formatted as an IP address';
  const prefix = RESERVED_PREFIXES.find((p) => name.startsWith(p));
  if (prefix) return `it begins with the reserved prefix ${prefix}`;
  const suffix = RESERVED_SUFFIXES.find((x) => name.endsWith(x));
  if (suffix) return `it ends with the reserved suffix ${suffix}`;
  return undefined;
}

/** S3's general-purpose bucket naming rules; S3's code and first sentence, then the rule broken and all the rules. */
export function validateBucketName(name: string): void {
  const problem = bucketNameProblem(name);
  if (problem !== undefined) {
    throw new InvalidBucketNameError(`The specified bucket is not valid: ${problem}. ${BUCKET_NAME_RULES}`, { BucketName: name });
  }
}

export function validateKey(key: string): void {
  if (Buffer.byteLength(key, 'utf8') > MAX_KEY_BYTES) {
    throw new KeyTooLongError('Your key is too long', {
      Size: String(Buffer.byteLength(key, 'utf8')),
      MaxSizeAllowed: String(MAX_KEY_BYTES),
    });
  }
}
