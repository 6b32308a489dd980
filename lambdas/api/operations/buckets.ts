// Bucket operations: ListBuckets, CreateBucket, HeadBucket, GetBucketLocation, DeleteBucket.
import { canSeeBucket, ownerIdOf } from '../../core/access';
import { BucketAlreadyOwnedByYouError, InvalidArgumentError } from '../../core/errors';
import { checkAclHeaders } from '../../http/acl';
import { lookup } from '../../http/request';
import * as xml from '../../http/xml';
import { respond, xmlResponse } from '../response';
import type { Operation } from './context';

/** S3's bounds on max-buckets, and the page it serves when a paginating request names none. */
const MAX_BUCKETS = 10_000;

/**
 * The buckets the caller may see (access.ts canSeeBucket), by name. Paginated as S3 has done since 2024: with
 * max-buckets, continuation-token, prefix or bucket-region a page holds at most max-buckets (10,000 when absent)
 * and a ContinuationToken names the next; a request with none of them gets every bucket, as before.
 */
export const ListBuckets: Operation = async (ctx) => {
  ctx.can('ListBuckets');
  const q = ctx.req.query;
  const prefix = lookup(q, 'prefix');
  const region = lookup(q, 'bucket-region');
  const token = lookup(q, 'continuation-token');
  const maxText = lookup(q, 'max-buckets');
  const paginated = [prefix, region, token, maxText].some((v) => v !== undefined);
  const max = maxText === undefined ? MAX_BUCKETS : parseMaxBuckets(maxText);
  const after = token === undefined || token === '' ? undefined : decodeBucketToken(token);
  // One region per store: asking for another one finds nothing (S3 would answer it from that region's endpoint).
  const visible = (await ctx.service.listBuckets()).filter(
    (b) =>
      canSeeBucket(ctx.principal, b) &&
      (prefix === undefined || b.name.startsWith(prefix)) &&
      (region === undefined || region === ctx.region) &&
      (after === undefined || b.name > after),
  );
  const page = paginated ? visible.slice(0, max) : visible;
  const last = page[page.length - 1];
  const more = paginated && visible.length > page.length && last !== undefined;
  return xmlResponse(
    ctx.requestId,
    xml.renderListBuckets({
      owner: { id: ownerIdOf(ctx.principal) },
      buckets: page.map((b) => ({ name: b.name, creationDate: b.createdAt, region: ctx.region })),
      ...(more ? { continuationToken: encodeBucketToken(last.name) } : {}),
      ...(prefix === undefined ? {} : { prefix }),
    }),
  );
};

function parseMaxBuckets(text: string): number {
  const n = Number(text);
  if (!/^[0-9]+$/.test(text) || !Number.isSafeInteger(n) || n < 1 || n > MAX_BUCKETS) {
    throw new InvalidArgumentError(`max-buckets must be an integer between 1 and ${MAX_BUCKETS}.`, { ArgumentName: 'max-buckets', ArgumentValue: text });
  }
  return n;
}

/** Continuation tokens are opaque to clients: the last bucket name returned, base64url. */
function encodeBucketToken(name: string): string {
  return Buffer.from(name, 'utf8').toString('base64url');
}

function decodeBucketToken(token: string): string {
  const name = Buffer.from(token, 'base64url').toString('utf8');
  if (name === '' || encodeBucketToken(name) !== token.replace(/=+$/, '')) {
    throw new InvalidArgumentError('The continuation token provided is incorrect.', { ArgumentName: 'continuation-token', ArgumentValue: token });
  }
  return name;
}

/** The one region where S3 answers a CreateBucket of a bucket you already own with 200 (a legacy of us-east-1). */
const RECREATE_SUCCEEDS_IN = 'us-east-1';

export const CreateBucket: Operation = async (ctx) => {
  ctx.can('CreateBucket', ctx.bucket);
  // ACLs are disabled on every bucket (BucketOwnerEnforced): only a canned ACL meaning the owner's full control passes.
  checkAclHeaders(ctx.req.headers, 'bucket');
  try {
    await ctx.service.createBucket(ctx.bucket, ownerIdOf(ctx.principal));
  } catch (e) {
    // As S3: your own bucket again is 200 in us-east-1 (left as it is) and 409 BucketAlreadyOwnedByYou in every other
    // region; another owner's is 409 BucketAlreadyExists everywhere.
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
