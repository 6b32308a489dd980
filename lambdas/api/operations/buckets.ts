// Bucket operations: ListBuckets, CreateBucket, HeadBucket, GetBucketLocation, DeleteBucket.
import { BucketAlreadyOwnedByYouError } from '../../core/errors';
import { checkAclHeaders } from '../../http/acl';
import * as xml from '../../http/xml';
import { respond, xmlResponse } from '../response';
import type { Operation } from './context';

export const ListBuckets: Operation = async (ctx) => {
  ctx.can('ListBuckets');
  const visible = (name: string) => ctx.principal.grants.some((g) => g.bucket === '*' || g.bucket === name);
  const buckets = (await ctx.service.listBuckets()).filter((b) => visible(b.name));
  return xmlResponse(ctx.requestId, xml.renderListBuckets({ id: ctx.principal.accessKeyId }, buckets.map((b) => ({ name: b.name, creationDate: b.createdAt }))));
};

/** The one region where S3 answers a CreateBucket of a bucket you already own with 200 (a legacy of us-east-1). */
const RECREATE_SUCCEEDS_IN = 'us-east-1';

export const CreateBucket: Operation = async (ctx) => {
  ctx.can('CreateBucket', ctx.bucket);
  // ACLs are disabled on every bucket (BucketOwnerEnforced): only a canned ACL meaning the owner's full control passes.
  checkAclHeaders(ctx.req.headers, 'bucket');
  try {
    await ctx.service.createBucket(ctx.bucket);
  } catch (e) {
    // As S3: 200 in us-east-1 (the bucket is left as it is), 409 BucketAlreadyOwnedByYou in every other region.
    if (!(e instanceof BucketAlreadyOwnedByYouError && ctx.region === RECREATE_SUCCEEDS_IN)) throw e;
  }
  return respond(200, { location: `/${ctx.bucket}`, 'x-amz-request-id': ctx.requestId });
};

export const HeadBucket: Operation = async (ctx) => {
  ctx.can('ReadBucket', ctx.bucket);
  await ctx.service.headBucket(ctx.bucket);
  return respond(200, { 'x-amz-bucket-region': ctx.region, 'x-amz-request-id': ctx.requestId });
};

export const GetBucketLocation: Operation = async (ctx) => {
  ctx.can('ReadBucket', ctx.bucket);
  await ctx.service.headBucket(ctx.bucket);
  return xmlResponse(ctx.requestId, xml.renderLocationConstraint(ctx.region));
};

export const DeleteBucket: Operation = async (ctx) => {
  ctx.can('DeleteBucket', ctx.bucket);
  await ctx.service.deleteBucket(ctx.bucket);
  return respond(204, { 'x-amz-request-id': ctx.requestId });
};
