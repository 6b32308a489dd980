import { StoreError } from '../../lambdas/core/errors';
import type { S3Op } from '../../lambdas/http/router';
import { refuseUnsupportedHeaders } from '../../lambdas/http/unsupported-headers';

/** What the refusal step answers: undefined when it lets the request through. */
function answer(op: S3Op, headers: Record<string, string>): { code: string; status: number } | undefined {
  try {
    refuseUnsupportedHeaders(op, headers);
    return undefined;
  } catch (e) {
    if (!(e instanceof StoreError)) throw e;
    return { code: e.code, status: e.statusCode };
  }
}

describe('refuseUnsupportedHeaders', () => {
  it.each<[S3Op, Record<string, string>, { code: string; status: number } | undefined]>([
    ['PutObject', { 'x-amz-object-lock-mode': 'COMPLIANCE' }, { code: 'InvalidRequest', status: 400 }],
    ['CopyObject', { 'x-amz-object-lock-retain-until-date': '2030-01-01T00:00:00Z' }, { code: 'InvalidRequest', status: 400 }],
    ['CreateMultipartUpload', { 'x-amz-object-lock-legal-hold': 'OFF' }, { code: 'InvalidRequest', status: 400 }],
    ['CreateBucket', { 'x-amz-bucket-object-lock-enabled': 'True' }, { code: 'NotImplemented', status: 501 }],
    ['CreateBucket', { 'x-amz-bucket-object-lock-enabled': 'false' }, undefined],
    ['CreateBucket', { 'x-amz-bucket-object-lock-enabled': 'yes' }, { code: 'InvalidArgument', status: 400 }],
    ['PutObject', { 'x-amz-tagging': 'a=b' }, { code: 'NotImplemented', status: 501 }],
    ['PutObject', { 'x-amz-tagging': '' }, undefined],
    ['CopyObject', { 'x-amz-tagging-directive': 'REPLACE' }, undefined],
    ['CopyObject', { 'x-amz-tagging-directive': 'MERGE' }, { code: 'InvalidArgument', status: 400 }],
    ['PutObject', { 'x-amz-storage-class': 'STANDARD' }, undefined],
    ['PutObject', { 'x-amz-storage-class': 'GLACIER' }, { code: 'InvalidStorageClass', status: 400 }],
    ['CreateMultipartUpload', { 'x-amz-storage-class': 'standard' }, { code: 'InvalidStorageClass', status: 400 }],
    ['PutObject', { 'x-amz-website-redirect-location': '/x' }, { code: 'NotImplemented', status: 501 }],
    ['PutObject', { 'x-amz-write-offset-bytes': '0' }, { code: 'NotImplemented', status: 501 }],
    ['CreateBucket', { 'x-amz-object-ownership': 'BucketOwnerEnforced' }, undefined],
    ['CreateBucket', { 'x-amz-object-ownership': 'ObjectWriter' }, { code: 'InvalidArgument', status: 400 }],
    ['AbortMultipartUpload', { 'x-amz-if-match-initiated-time': 'Wed, 02 Dec 2026 10:00:00 GMT' }, { code: 'NotImplemented', status: 501 }],
    // Headers an operation does not take are not its business (S3 ignores them there too).
    ['GetObject', { 'x-amz-object-lock-mode': 'COMPLIANCE', 'x-amz-storage-class': 'GLACIER' }, undefined],
    ['DeleteObject', { 'x-amz-bypass-governance-retention': 'true', 'x-amz-mfa': '1 2' }, undefined],
  ])('%s with %j answers %j', (op, headers, expected) => {
    expect(answer(op, headers)).toEqual(expected);
  });
});
