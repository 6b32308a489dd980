// Entry point of the AWS backend: configuration from the environment → the core's ports over AWS.
import type { StorePorts } from '../../core/ports';
import { awsConfigFromEnv, createAwsClients, type AwsClients } from './config';
import { DynamoDbRecordIndex } from './dynamodb-index';
import { KmsKeyVault } from './kms-key-vault';
import { initAwsResources } from './resources';
import { S3BlobStore } from './s3-blob-store';

export { awsConfigFromEnv, createAwsClients, type AwsClients, type AwsConfig, type AwsClientOverrides } from './config';
export { DynamoDbRecordIndex } from './dynamodb-index';
export { KmsKeyVault, UNNAMED_KEY_MATERIAL } from './kms-key-vault';
export { initAwsResources, tableDefinition } from './resources';
export { S3BlobStore } from './s3-blob-store';

/** The ports over AWS; `defaultKeyId` is SEALSTORE_KMS_KEY_ID as written (key id, key ARN or alias). */
export type AwsBackend = StorePorts;

/**
 * Builds the ports from the environment, with no AWS call: a cold start depends only on what the store needs
 * now. The CMK the stack was first deployed with (SEALSTORE_KMS_KEY_ID) is read only when the store is new (no
 * active key in its key-state records yet; the lifecycle records it by ARN then) or has no index key; afterwards
 * the store works from the active and trusted keys its own records name, so that CMK may be retired and deleted.
 */
export function openAwsBackend(env: NodeJS.ProcessEnv = process.env, given?: AwsClients): Promise<AwsBackend & { readonly vault: KmsKeyVault }> {
  return Promise.resolve(awsPorts(env, given));
}

function awsPorts(env: NodeJS.ProcessEnv, given: AwsClients | undefined): AwsBackend & { readonly vault: KmsKeyVault } {
  const config = awsConfigFromEnv(env);
  const clients = given ?? createAwsClients({}, env);
  const kms = new KmsKeyVault({
    client: clients.kms,
    ...(config.trustedKeyIds !== undefined && { trustedKeyIds: config.trustedKeyIds }),
  });
  return {
    vault: kms,
    admin: kms,
    blobs: new S3BlobStore({ client: clients.s3, bucket: config.bucket }),
    index: new DynamoDbRecordIndex({ client: clients.dynamodb, tableName: config.tableName }),
    defaultKeyId: config.keyId,
    // Clients the caller handed in are the caller's to destroy.
    close: async () => {
      if (given) return;
      clients.kms.destroy();
      clients.s3.destroy();
      clients.dynamodb.destroy();
    },
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
