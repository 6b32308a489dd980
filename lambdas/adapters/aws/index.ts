// Entry point of the AWS backend: configuration from the environment → the core's ports over AWS.
import type { KeyAdmin, KeyVault, BlobStore, ObjectIndex } from '../../core/ports';
import { awsConfigFromEnv, createAwsClients, type AwsClients } from './config';
import { DynamoDbObjectIndex } from './dynamodb-index';
import { KmsKeyVault } from './kms-key-vault';
import { initAwsResources } from './resources';
import { S3BlobStore } from './s3-blob-store';

export { awsConfigFromEnv, createAwsClients, type AwsClients, type AwsConfig, type AwsClientOverrides } from './config';
export { DynamoDbObjectIndex } from './dynamodb-index';
export { KmsKeyVault, UNNAMED_KEY_MATERIAL } from './kms-key-vault';
export { initAwsResources, tableDefinition } from './resources';
export { S3BlobStore, MAX_BLOB_BYTES } from './s3-blob-store';

export interface AwsBackend {
  readonly vault: KeyVault;
  readonly admin: KeyAdmin;
  readonly blobs: BlobStore;
  readonly index: ObjectIndex;
  /** ARN of the CMK new objects are sealed under (SEALSTORE_KMS_KEY_ID, resolved once). */
  readonly defaultKeyId: string;
}

/**
 * Builds the ports from the environment. Resolves SEALSTORE_KMS_KEY_ID to its ARN once (one
 * DescribeKey) so the index records CMKs by ARN, the form KMS reports on every later call.
 */
export async function openAwsBackend(
  env: NodeJS.ProcessEnv = process.env,
  clients: AwsClients = createAwsClients({}, env),
): Promise<AwsBackend> {
  const config = awsConfigFromEnv(env);
  const kms = new KmsKeyVault({
    client: clients.kms,
    ...(config.trustedKeyIds !== undefined && { trustedKeyIds: config.trustedKeyIds }),
  });
  return {
    vault: kms,
    admin: kms,
    blobs: new S3BlobStore({ client: clients.s3, bucket: config.bucket }),
    index: new DynamoDbObjectIndex({ client: clients.dynamodb, tableName: config.tableName }),
    defaultKeyId: await kms.resolveKeyId(config.keyId),
  };
}

/** `--init`: creates the table, bucket and CMK named by the environment when missing. */
export async function initFromEnv(
  env: NodeJS.ProcessEnv = process.env,
  clients: AwsClients = createAwsClients({}, env),
): Promise<{ tableName: string; bucket: string; keyId: string }> {
  const config = awsConfigFromEnv(env);
  const { keyId } = await initAwsResources(clients, {
    tableName: config.tableName,
    bucket: config.bucket,
    keyAlias: config.keyId,
  });
  return { tableName: config.tableName, bucket: config.bucket, keyId };
}
