import { BUCKET_NAME_RULES, routeS3 } from '../../lambdas/http/router';
import { bufferBody, type S3Request } from '../../lambdas/http/request';
import { StoreError } from '../../lambdas/core/errors';

const req = (method: string, path: string, query: Record<string, string> = {}, headers: Record<string, string> = {}): S3Request => ({
  method,
  path,
  query,
  headers,
  body: bufferBody(Buffer.alloc(0)),
});

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof StoreError) return e.code;
    throw e;
  }
  return 'no error';
}

describe('routeS3', () => {
  it.each([
    ['GET', '/', {}, {}, { op: 'ListBuckets' }],
    ['PUT', '/photos', {}, {}, { op: 'CreateBucket', bucket: 'photos' }],
    ['PUT', '/photos/', {}, {}, { op: 'CreateBucket', bucket: 'photos' }],
    ['HEAD', '/photos', {}, {}, { op: 'HeadBucket', bucket: 'photos' }],
    ['DELETE', '/photos', {}, {}, { op: 'DeleteBucket', bucket: 'photos' }],
    ['GET', '/photos', { location: '' }, {}, { op: 'GetBucketLocation', bucket: 'photos' }],
    ['GET', '/photos', { 'list-type': '2', prefix: 'a/' }, {}, { op: 'ListObjectsV2', bucket: 'photos' }],
    ['GET', '/photos', { prefix: 'a/' }, {}, { op: 'ListObjects', bucket: 'photos' }],
    ['GET', '/photos', { uploads: '' }, {}, { op: 'ListMultipartUploads', bucket: 'photos' }],
    ['POST', '/photos', { delete: '' }, {}, { op: 'DeleteObjects', bucket: 'photos' }],
    ['PUT', '/photos/a b/ü.txt', {}, {}, { op: 'PutObject', bucket: 'photos', key: 'a b/ü.txt' }],
    ['PUT', '/photos/dir/', {}, {}, { op: 'PutObject', bucket: 'photos', key: 'dir/' }],
    ['PUT', '/photos//lead', {}, {}, { op: 'PutObject', bucket: 'photos', key: '/lead' }],
    ['GET', '/photos/k', { 'response-content-type': 'text/plain' }, {}, { op: 'GetObject', bucket: 'photos', key: 'k' }],
    ['GET', '/photos/k', { partNumber: '2' }, {}, { op: 'GetObject', bucket: 'photos', key: 'k', partNumber: 2 }],
    ['HEAD', '/photos/k', {}, {}, { op: 'HeadObject', bucket: 'photos', key: 'k' }],
    ['DELETE', '/photos/k', {}, {}, { op: 'DeleteObject', bucket: 'photos', key: 'k' }],
    ['POST', '/photos/k', { uploads: '' }, {}, { op: 'CreateMultipartUpload', bucket: 'photos', key: 'k' }],
    ['PUT', '/photos/k', { partNumber: '7', uploadId: 'u1' }, {}, { op: 'UploadPart', bucket: 'photos', key: 'k', uploadId: 'u1', partNumber: 7 }],
    ['POST', '/photos/k', { uploadId: 'u1' }, {}, { op: 'CompleteMultipartUpload', bucket: 'photos', key: 'k', uploadId: 'u1' }],
    ['DELETE', '/photos/k', { uploadId: 'u1' }, {}, { op: 'AbortMultipartUpload', bucket: 'photos', key: 'k', uploadId: 'u1' }],
    ['GET', '/photos/k', { uploadId: 'u1' }, {}, { op: 'ListParts', bucket: 'photos', key: 'k', uploadId: 'u1' }],
    ['GET', '/photos/k', { versionId: 'null' }, {}, { op: 'GetObject', bucket: 'photos', key: 'k', versionId: 'null' }],
    ['HEAD', '/photos/k', { versionId: 'v2' }, {}, { op: 'HeadObject', bucket: 'photos', key: 'k', versionId: 'v2' }],
    ['DELETE', '/photos/k', { versionId: 'v2' }, {}, { op: 'DeleteObject', bucket: 'photos', key: 'k', versionId: 'v2' }],
    ['GET', '/photos', { versioning: '' }, {}, { op: 'GetBucketVersioning', bucket: 'photos' }],
    ['PUT', '/photos', { versioning: '' }, {}, { op: 'PutBucketVersioning', bucket: 'photos' }],
    ['GET', '/photos', { versions: '' }, {}, { op: 'ListObjectVersions', bucket: 'photos' }],
    [
      'PUT', '/photos/k', {}, { 'x-amz-copy-source': '/src-bucket/a%20b/%C3%BC.txt' },
      { op: 'CopyObject', bucket: 'photos', key: 'k', copySource: { bucket: 'src-bucket', key: 'a b/ü.txt' } },
    ],
    [
      'PUT', '/photos/k', { partNumber: '1', uploadId: 'u' }, { 'x-amz-copy-source': 'src-bucket/x?versionId=null' },
      { op: 'UploadPartCopy', bucket: 'photos', key: 'k', uploadId: 'u', partNumber: 1, copySource: { bucket: 'src-bucket', key: 'x', versionId: 'null' } },
    ],
  ])('routes %s %s %j', (method, path, query, headers, expected) => {
    expect(routeS3(req(method, path, query, headers))).toEqual(expected);
  });

  it('routes the admin prefix, which no bucket name can take, to the admin API', () => {
    expect(routeS3(req('POST', '/_sealstore/keys/rotate'))).toEqual({ op: 'Admin', adminPath: '/keys/rotate' });
    expect(routeS3(req('GET', '/_sealstore'))).toEqual({ op: 'Admin', adminPath: '/' });
    expect(codeOf(() => routeS3(req('GET', '/_sealstorex/k')))).toBe('InvalidBucketName');
  });

  it('routes ACL, default-encryption and ownership subresources to their operations, and their other methods to NotImplemented', () => {
    expect(routeS3(req('GET', '/photos', { acl: '' }))).toEqual({ op: 'GetBucketAcl', bucket: 'photos' });
    expect(routeS3(req('PUT', '/photos/k', { acl: '' }))).toEqual({ op: 'PutObjectAcl', bucket: 'photos', key: 'k' });
    expect(routeS3(req('DELETE', '/photos', { encryption: '' }))).toEqual({ op: 'DeleteBucketEncryption', bucket: 'photos' });
    expect(routeS3(req('GET', '/photos', { ownershipControls: '' }))).toEqual({ op: 'GetBucketOwnershipControls', bucket: 'photos' });
    expect(codeOf(() => routeS3(req('DELETE', '/photos', { acl: '' })))).toBe('NotImplemented');
    expect(codeOf(() => routeS3(req('PUT', '/photos', { ownershipControls: '' })))).toBe('NotImplemented');
  });

  it.each(['policy', 'tagging', 'lifecycle', 'cors', 'website', 'object-lock'])(
    'answers the %s subresource with NotImplemented',
    (sub) => {
      expect(codeOf(() => routeS3(req('GET', '/photos', { [sub]: '' })))).toBe('NotImplemented');
      expect(codeOf(() => routeS3(req('PUT', '/photos/k', { [sub]: '' })))).toBe('NotImplemented');
    },
  );

  it('refuses the versioning subresources on an object, and methods they do not take on a bucket', () => {
    expect(codeOf(() => routeS3(req('PUT', '/photos/k', { versioning: '' })))).toBe('NotImplemented');
    expect(codeOf(() => routeS3(req('GET', '/photos/k', { versions: '' })))).toBe('NotImplemented');
    expect(codeOf(() => routeS3(req('DELETE', '/photos', { versioning: '' })))).toBe('NotImplemented');
  });

  it('takes a version id in a copy source', () => {
    expect(routeS3(req('PUT', '/photos/k', {}, { 'x-amz-copy-source': 'src-bucket/x?versionId=abc' }))).toMatchObject({ op: 'CopyObject', copySource: { bucket: 'src-bucket', key: 'x', versionId: 'abc' } });
  });

  it.each([
    ['POST', '/'],
    ['PATCH', '/photos'],
    ['POST', '/photos/k'],
    ['OPTIONS', '/photos/k'],
    ['DELETE', '/'],
  ])('answers %s %s with MethodNotAllowed', (method, path) => {
    expect(codeOf(() => routeS3(req(method, path)))).toBe('MethodNotAllowed');
  });

  it.each(['ab', 'a'.repeat(64), 'Photos', 'my_bucket', '-abc', 'abc-', 'a..b', '192.168.1.1', 'xn--abc', 'sthree-x', 'abc-s3alias', 'abc--ol-s3', 'bad!name'])(
    'rejects the bucket name %j',
    (name) => {
      expect(codeOf(() => routeS3(req('GET', `/${name}`)))).toBe('InvalidBucketName');
    },
  );

  it.each([
    ['ab', 'it is 2 characters long'],
    ['a'.repeat(64), 'it is 64 characters long'],
    ['Photos', 'it has an uppercase letter ("P")'],
    ['my_bucket', 'it has the character "_"'],
    ['-abc', 'it begins with "-"'],
    ['abc.', 'it ends with "."'],
    ['a..b', 'it has two adjacent dots'],
    ['192.168.1.1', 'it is formatted as an IP address'],
    ['xn--abc', 'it begins with the reserved prefix xn--'],
    ['abc-s3alias', 'it ends with the reserved suffix -s3alias'],
  ])('says which rule the bucket name %j breaks: %s', (name, problem) => {
    let message = '';
    try {
      routeS3(req('GET', `/${name}`));
    } catch (e) {
      message = e instanceof StoreError ? e.message : String(e);
    }
    expect(message).toBe(`The specified bucket is not valid: ${problem}. ${BUCKET_NAME_RULES}`);
  });

  it('states the bucket naming rules in one sentence', () => {
    expect(BUCKET_NAME_RULES).toBe(
      'Bucket names are 3 to 63 characters of lowercase letters, digits, hyphens and dots, begin and end with a letter or digit, have no two adjacent dots, are not IP addresses, ' +
        'and neither begin with xn--, sthree- or amzn-s3-demo- nor end with -s3alias, --ol-s3, .mrap, --x-s3 or --table-s3.',
    );
  });

  it.each(['abc', 'a'.repeat(63), 'my.bucket-1', '1-2.example'])('accepts the bucket name %j', (name) => {
    expect(routeS3(req('HEAD', `/${name}`))).toEqual({ op: 'HeadBucket', bucket: name });
  });

  it('rejects keys longer than 1024 UTF-8 bytes, counting bytes not characters', () => {
    expect(routeS3(req('PUT', `/photos/${'k'.repeat(1024)}`)).op).toBe('PutObject');
    expect(codeOf(() => routeS3(req('PUT', `/photos/${'k'.repeat(1025)}`)))).toBe('KeyTooLongError');
    expect(codeOf(() => routeS3(req('PUT', `/photos/${'ü'.repeat(513)}`)))).toBe('KeyTooLongError');
  });

  it('rejects part numbers outside 1..10000 and a part without its upload id', () => {
    for (const partNumber of ['0', '10001', 'x', '1.5', '']) {
      expect(codeOf(() => routeS3(req('PUT', '/photos/k', { partNumber, uploadId: 'u' })))).toBe('InvalidArgument');
    }
    expect(codeOf(() => routeS3(req('PUT', '/photos/k', { partNumber: '1' })))).toBe('InvalidRequest');
  });

  it('rejects a malformed copy source', () => {
    for (const source of ['nobucket', '/bucket-only/', '/UPPER/k', '%E0%A4%A']) {
      expect(codeOf(() => routeS3(req('PUT', '/photos/k', {}, { 'x-amz-copy-source': source })))).not.toBe('no error');
    }
  });
});
