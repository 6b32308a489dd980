// Bucket versioning: PutBucketVersioning, GetBucketVersioning and ListObjectVersions (GET /?versions). Every version
// keeps its own data key; a DELETE with versionId crypto-shreds one (objects.ts).
import { MalformedXMLError, NotImplementedError } from '../../core/errors';
import { MAX_LIST_KEYS } from '../../core/limits';
import { isDeleteMarker, versionIdOf } from '../../core/records';
import { lookup } from '../../http/request';
import * as xml from '../../http/xml';
import { respond, xmlResponse } from '../response';
import type { Operation } from './context';
import { parseEncodingType, parseLimit } from './listing';

export const PutBucketVersioning: Operation = async (ctx) => {
  ctx.can('ConfigureBucket', ctx.bucket);
  await ctx.service.headBucket(ctx.bucket);
  const config = xml.parseVersioningConfiguration(await ctx.document());
  if (config.mfaDelete === 'Enabled') {
    throw new NotImplementedError('MFA delete is not offered by this store: send MfaDelete Disabled or leave it out.');
  }
  // S3 has no "unversioned" to go back to: the configuration names Enabled or Suspended.
  if (config.status === undefined) throw new MalformedXMLError('The versioning configuration must name a Status: Enabled or Suspended.');
  await ctx.service.setBucketVersioning(ctx.bucket, config.status);
  return respond(200, { 'x-amz-request-id': ctx.requestId });
};

export const GetBucketVersioning: Operation = async (ctx) => {
  ctx.can('ReadBucket', ctx.bucket);
  const bucket = await ctx.service.headBucket(ctx.bucket);
  return xmlResponse(ctx.requestId, xml.renderVersioningConfiguration(bucket.versioning));
};

export const ListObjectVersions: Operation = async (ctx) => {
  ctx.can('ReadBucket', ctx.bucket);
  const q = ctx.req.query;
  const encodingType = parseEncodingType(lookup(q, 'encoding-type'));
  const prefix = lookup(q, 'prefix') ?? '';
  const delimiter = lookup(q, 'delimiter') || undefined;
  const maxKeys = parseLimit(lookup(q, 'max-keys'), 'max-keys', MAX_LIST_KEYS);
  const keyMarker = lookup(q, 'key-marker') ?? '';
  const versionIdMarker = lookup(q, 'version-id-marker') ?? '';
  const result = await ctx.service.listObjectVersions({
    bucket: ctx.bucket,
    prefix,
    ...(delimiter !== undefined ? { delimiter } : {}),
    maxKeys,
    ...(keyMarker !== '' ? { keyMarker } : {}),
    ...(versionIdMarker !== '' ? { versionIdMarker } : {}),
  });
  const owner = { id: result.owner };
  return xmlResponse(
    ctx.requestId,
    xml.renderListVersions({
      bucket: ctx.bucket,
      prefix,
      delimiter,
      maxKeys,
      encodingType,
      keyMarker,
      versionIdMarker,
      isTruncated: result.isTruncated,
      ...(result.nextKeyMarker !== undefined ? { nextKeyMarker: result.nextKeyMarker } : {}),
      ...(result.nextVersionIdMarker !== undefined ? { nextVersionIdMarker: result.nextVersionIdMarker } : {}),
      commonPrefixes: result.commonPrefixes,
      entries: result.versions.map(({ version, isLatest }) => ({
        key: version.key,
        versionId: versionIdOf(version),
        isLatest,
        lastModified: version.lastModified,
        owner,
        ...(isDeleteMarker(version) ? {} : { object: { etag: version.etag, size: version.size } }),
      })),
    }),
  );
};
