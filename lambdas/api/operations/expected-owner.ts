// x-amz-expected-bucket-owner and x-amz-source-expected-bucket-owner, honoured: a request naming an owner the bucket
// does not have is refused with S3's 403 AccessDenied before anything is read or written. Owners are the ids
// access.ts ownerIdOf gives (what ListBuckets shows as Owner/ID), not AWS account ids.
import { holdsGrantOn, ownerIdOf, type Principal } from '../../core/access';
import { AccessDeniedError } from '../../core/errors';
import type { ObjectService } from '../../core/object-service';
import { lookup } from '../../http/request';
import type { OperationContext } from './context';

const EXPECTED = 'x-amz-expected-bucket-owner';
const SOURCE_EXPECTED = 'x-amz-source-expected-bucket-owner';

function mismatch(header: string, bucket: string): AccessDeniedError {
  return new AccessDeniedError(`Access Denied: bucket ${bucket} is not owned by the owner ${header} names. Owners here are the ids ListBuckets shows as Owner/ID (the access key id that created the bucket, or sealstore-root), not AWS account ids.`);
}

async function checkOwner(service: ObjectService, principal: Principal, bucket: string, header: string, expected: string): Promise<void> {
  // Only a caller who could act on the bucket learns anything from the answer (exists or not, whose it is): to any
  // other caller it is the AccessDenied the operation itself would give.
  // Without a grant on the bucket every operation on it is denied anyway.
  if (!holdsGrantOn(principal, bucket)) throw new AccessDeniedError(`Access key ${principal.accessKeyId} is not allowed to act on bucket ${bucket}; ask an admin for a key with the right role.`);
  const record = await service.headBucket(bucket);
  if (record.owner !== expected) throw mismatch(header, bucket);
}

/**
 * x-amz-expected-bucket-owner on any operation that names a bucket. CreateBucket compares it with the owner the
 * bucket would get (the caller), so nothing is created under an owner the caller did not expect. ListBuckets names no
 * bucket: there is nothing to compare, as in S3, where the operation does not take the header.
 */
export async function refuseUnexpectedOwner(ctx: OperationContext): Promise<void> {
  const expected = lookup(ctx.req.headers, EXPECTED);
  if (expected === undefined || ctx.route.bucket === undefined) return;
  if (ctx.route.op === 'CreateBucket') {
    if (ownerIdOf(ctx.principal) !== expected) throw mismatch(EXPECTED, ctx.bucket);
    return;
  }
  await checkOwner(ctx.service, ctx.principal, ctx.bucket, EXPECTED, expected);
}

/** x-amz-source-expected-bucket-owner of CopyObject / UploadPartCopy, against the source bucket. */
export async function refuseUnexpectedSourceOwner(ctx: OperationContext, sourceBucket: string): Promise<void> {
  const expected = lookup(ctx.req.headers, SOURCE_EXPECTED);
  if (expected === undefined) return;
  await checkOwner(ctx.service, ctx.principal, sourceBucket, SOURCE_EXPECTED, expected);
}
