// Bucket operations: ListBuckets, CreateBucket, HeadBucket, GetBucketLocation, DeleteBucket.
import * as xml from '../../http/xml';
import { respond, xmlResponse } from '../response';
import type { Operation } from './context';

export const ListBuckets: Operation = async (ctx) => {
  ctx.can('ListBuckets');
  const visible = (name: string) => ctx.principal.grants.some((g) => g.bucket === '*' || g.bucket === name);
  const buckets = (await ctx.service.listBuckets()).filter((b) => visible(b.name));
  return xmlResponse(ctx.requestId, xml.renderListBuckets({ id: ctx.principal.accessKeyId }, buckets.map((b) => ({ name: b.name, creationDate: b.createdAt }))));
};

export const CreateBucket: Operation = async (ctx) => {
  ctx.can('CreateBucket', ctx.bucket);
  await ctx.service.createBucket(ctx.bucket);
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
