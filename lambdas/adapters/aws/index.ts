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

/** The ports over AWS; `defaultKeyId` is the ARN of SEALSTORE_KMS_KEY_ID. */
export type AwsBackend = StorePorts;

/**
 * Builds the ports from the environment. Resolves SEALSTORE_KMS_KEY_ID to its ARN once (one
 * DescribeKey) so the index records CMKs by ARN, the form KMS reports on every later call.
 */
export async function openAwsBackend(env: NodeJS.ProcessEnv = process.env, clients?: AwsClients): Promise<AwsBackend> {
  const ports = awsPortsUnresolved(env, clients);
  return { ...ports, defaultKeyId: await ports.vault.resolveKeyId(ports.defaultKeyId) };
}

/**
 * The same ports without resolving the default key: no KMS call at start, for a function that holds no KMS
 * right (housekeeping). `defaultKeyId` is then SEALSTORE_KMS_KEY_ID as written.
 */
export function awsPortsUnresolved(env: NodeJS.ProcessEnv = process.env, given?: AwsClients): AwsBackend & { readonly vault: KmsKeyVault } {
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
