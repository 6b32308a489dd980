// Listing operations: ListObjects (v1) and ListObjectsV2, with S3's markers and opaque continuation tokens.
import { InvalidArgumentError } from '../../core/errors';
import { MAX_LIST_KEYS } from '../../core/limits';
import { lookup } from '../../http/request';
import * as xml from '../../http/xml';
import { xmlResponse } from '../response';
import type { Operation, OperationContext } from './context';

async function list(ctx: OperationContext, v2: boolean) {
  ctx.can('ReadBucket', ctx.bucket);
  const q = ctx.req.query;
  const encodingType = parseEncodingType(lookup(q, 'encoding-type'));
  // v1 names every object's owner; v2 only when asked (fetch-owner=true), as S3 does.
  const withOwner = !v2 || lookup(q, 'fetch-owner') === 'true';
  const prefix = lookup(q, 'prefix');
  const delimiter = lookup(q, 'delimiter') || undefined;
  const maxKeys = parseLimit(lookup(q, 'max-keys'), 'max-keys', MAX_LIST_KEYS);
  const continuationToken = v2 ? lookup(q, 'continuation-token') : undefined;
  const token = continuationToken ? decodeToken(continuationToken) : undefined;
  const marker = v2 ? lookup(q, 'start-after') : lookup(q, 'marker');
  const result = await ctx.service.listObjects({
    bucket: ctx.bucket,
    prefix,
    delimiter,
    maxKeys,
    // A marker may be a common prefix a previous page returned (NextMarker): treat it like a token.
    resumeAfter: token ?? (marker || undefined),
  });
  const common = {
    bucket: ctx.bucket,
    prefix: prefix ?? '',
    delimiter,
    maxKeys,
    encodingType,
    isTruncated: result.isTruncated,
    contents: result.objects.map((o) => ({
      key: o.key,
      lastModified: o.lastModified,
      etag: o.etag,
      size: o.size,
      ...(withOwner ? { owner: { id: result.owner } } : {}),
    })),
    commonPrefixes: result.commonPrefixes,
  };
  return { common, result, continuationToken, marker };
}

export const ListObjectsV2: Operation = async (ctx) => {
  const { common, result, continuationToken } = await list(ctx, true);
  return xmlResponse(
    ctx.requestId,
    xml.renderListObjectsV2({
      ...common,
      continuationToken,
      nextContinuationToken: result.isTruncated && result.lastReturned !== undefined ? encodeToken(result.lastReturned) : undefined,
      startAfter: lookup(ctx.req.query, 'start-after'),
    }),
  );
};

export const ListObjects: Operation = async (ctx) => {
  const { common, result, marker } = await list(ctx, false);
  return xmlResponse(
    ctx.requestId,
    xml.renderListObjectsV1({
      ...common,
      marker: marker ?? '',
      nextMarker: result.isTruncated && common.delimiter ? result.lastReturned : undefined,
    }),
  );
};

/** encoding-type: 'url' or absent; S3 refuses anything else rather than answer in an encoding not asked for. */
export function parseEncodingType(raw: string | undefined): 'url' | undefined {
  if (raw === undefined) return undefined;
  if (raw === 'url') return 'url';
  throw new InvalidArgumentError('Invalid Encoding Method specified in Request', { ArgumentName: 'encoding-type', ArgumentValue: raw });
}

/** A non-negative integer query parameter, capped as S3 caps it. */
export function parseLimit(raw: string | undefined, name: string, cap: number): number {
  if (raw === undefined || raw === '') return cap;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`${name} must be a non-negative integer.`, { ArgumentName: name, ArgumentValue: raw });
  return Math.min(n, cap);
}

/** Continuation tokens are opaque to clients: the last key returned, base64url. */
function encodeToken(lastKey: string): string {
  return Buffer.from(lastKey, 'utf8').toString('base64url');
}

function decodeToken(token: string): string {
  const key = Buffer.from(token, 'base64url').toString('utf8');
  if (encodeToken(key) !== token.replace(/=+$/, '')) {
    throw new InvalidArgumentError('The continuation token provided is incorrect.', { ArgumentName: 'continuation-token' });
  }
  return key;
}
