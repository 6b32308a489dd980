// ACLs as S3 answers them for buckets with ACLs disabled (Object Ownership BucketOwnerEnforced, its default since
// April 2023): GetBucketAcl, PutBucketAcl, GetObjectAcl, PutObjectAcl, GetBucketOwnershipControls.
import { checkAclHeaders, NOT_SUPPORTED } from '../../http/acl';
import { AccessControlListNotSupportedError } from '../../http/errors';
import * as xml from '../../http/xml';
import { respond, xmlResponse } from '../response';
import type { OperationContext, Operation } from './context';

/** The owner S3 names in ACLs: the bucket's (who created it, as ListBuckets shows it), who owns every object in it. */
async function ownerOf(ctx: OperationContext): Promise<xml.Owner> {
  const bucket = await ctx.service.headBucket(ctx.bucket);
  return { id: bucket.owner };
}

/**
 * A PutBucketAcl / PutObjectAcl: a canned ACL header that means the owner's full control, or a body granting the
 * owner FULL_CONTROL and nothing else. Anything more is refused, as S3 refuses it with ACLs disabled.
 */
async function checkAclRequest(ctx: OperationContext, target: 'bucket' | 'object'): Promise<void> {
  if (checkAclHeaders(ctx.req.headers, target)) return;
  const body = await ctx.document();
  if (body.length === 0) {
    throw new AccessControlListNotSupportedError(`${NOT_SUPPORTED}: send x-amz-acl: private or an AccessControlPolicy granting only the owner FULL_CONTROL.`);
  }
  const policy = xml.parseAccessControlPolicy(body);
  const owner = (await ownerOf(ctx)).id;
  const onlyOwner =
    policy.grants.length > 0 &&
    policy.grants.every((g) => g.permission === 'FULL_CONTROL' && g.granteeId === owner && g.granteeUri === undefined && g.granteeEmail === undefined);
  if (!onlyOwner || (policy.ownerId !== undefined && policy.ownerId !== owner)) {
    throw new AccessControlListNotSupportedError(`${NOT_SUPPORTED}: ACLs are disabled (Object Ownership BucketOwnerEnforced); a policy may only grant the owner (${owner}) FULL_CONTROL.`);
  }
}

export const GetBucketAcl: Operation = async (ctx) => {
  ctx.can('ReadBucket', ctx.bucket);
  return xmlResponse(ctx.requestId, xml.renderOwnerFullControlAcl(await ownerOf(ctx)));
};

export const PutBucketAcl: Operation = async (ctx) => {
  ctx.can('ConfigureBucket', ctx.bucket);
  await ctx.service.headBucket(ctx.bucket);
  await checkAclRequest(ctx, 'bucket');
  return respond(200, { 'x-amz-request-id': ctx.requestId });
};

export const GetObjectAcl: Operation = async (ctx) => {
  ctx.can('ReadObject', ctx.bucket);
  // The version named (?versionId=) must exist, as S3 answers NoSuchVersion otherwise.
  await ctx.service.headObject(ctx.bucket, ctx.key, ctx.route.versionId);
  return xmlResponse(ctx.requestId, xml.renderOwnerFullControlAcl(await ownerOf(ctx)));
};

export const PutObjectAcl: Operation = async (ctx) => {
  ctx.can('WriteObject', ctx.bucket);
  await ctx.service.headObject(ctx.bucket, ctx.key, ctx.route.versionId);
  await checkAclRequest(ctx, 'object');
  return respond(200, { 'x-amz-request-id': ctx.requestId });
};

export const GetBucketOwnershipControls: Operation = async (ctx) => {
  ctx.can('ReadBucket', ctx.bucket);
  await ctx.service.headBucket(ctx.bucket);
  return xmlResponse(ctx.requestId, xml.renderOwnershipControls());
};
