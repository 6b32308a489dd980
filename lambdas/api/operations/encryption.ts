// Bucket default encryption: PutBucketEncryption, GetBucketEncryption, DeleteBucketEncryption. A bucket can name the
// CMK its new objects are sealed under (per-tenant keys without a deployment each); every object is SSE-KMS.
import { InvalidArgumentError, NotImplementedError } from '../../core/errors';
import * as xml from '../../http/xml';
import { respond, xmlResponse } from '../response';
import type { Operation } from './context';

export const PutBucketEncryption: Operation = async (ctx) => {
  ctx.can('ConfigureBucket', ctx.bucket);
  await ctx.service.headBucket(ctx.bucket);
  const config = xml.parseServerSideEncryptionConfiguration(await ctx.document());
  if (config.sseAlgorithm === 'aws:kms:dsse') {
    throw new NotImplementedError('Dual-layer SSE-KMS (aws:kms:dsse) is not offered: objects get one layer, AES-256-GCM under a KMS data key. Use aws:kms.');
  }
  if (config.sseAlgorithm !== 'aws:kms' && config.sseAlgorithm !== 'AES256') {
    throw new InvalidArgumentError('The encryption method specified is not supported', { ArgumentName: 'SSEAlgorithm', ArgumentValue: config.sseAlgorithm });
  }
  if (config.sseAlgorithm === 'AES256' && config.kmsMasterKeyId !== undefined) {
    throw new InvalidArgumentError('KMSMasterKeyID is allowed only with SSEAlgorithm aws:kms', { ArgumentName: 'KMSMasterKeyID', ArgumentValue: config.kmsMasterKeyId });
  }
  // SSE-C is never allowed here: asking to unblock it (NONE) would be a setting without effect.
  if (config.blockedEncryptionTypes.some((t) => t !== 'SSE-C')) {
    throw new NotImplementedError('SSE-C stays blocked in this store (BlockedEncryptionTypes can only be SSE-C): customer-provided keys are not offered.');
  }
  // AES256 (SSE-S3) and aws:kms without a key both mean "the store's own key": the active CMK, which rotation moves.
  await ctx.service.setBucketDefaultKey(ctx.bucket, config.sseAlgorithm === 'aws:kms' ? config.kmsMasterKeyId : undefined);
  return respond(200, { 'x-amz-request-id': ctx.requestId });
};

/**
 * Always a configuration, as S3 answers since 2023 (every bucket is encrypted). Without a default of its own the
 * bucket's objects go under the store's active CMK, and that is what it says, as aws:kms: never AES256.
 */
export const GetBucketEncryption: Operation = async (ctx) => {
  ctx.can('ReadBucket', ctx.bucket);
  const bucket = await ctx.service.headBucket(ctx.bucket);
  const keyId = bucket.defaultKeyId ?? (await ctx.service.activeKeyId());
  return xmlResponse(ctx.requestId, xml.renderServerSideEncryptionConfiguration({ kmsMasterKeyId: keyId, bucketKeyEnabled: false, blockedEncryptionTypes: ['SSE-C'] }));
};

export const DeleteBucketEncryption: Operation = async (ctx) => {
  ctx.can('ConfigureBucket', ctx.bucket);
  await ctx.service.setBucketDefaultKey(ctx.bucket, undefined);
  return respond(204, { 'x-amz-request-id': ctx.requestId });
};
