// Looks behind a running AWS-on-moto target: the same table, bucket and KMS through the AWS adapters and raw SDK
// calls, so tests can check index records and blob metadata and run extra lifecycles over the same store.
import { ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { DescribeKeyCommand, type KeyMetadata } from '@aws-sdk/client-kms';
import { GetObjectCommand, HeadObjectCommand, ListBucketsCommand } from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';
import type { AwsClients } from '../../lambdas/adapters/aws/config';
import { DynamoDbRecordIndex } from '../../lambdas/adapters/aws/dynamodb-index';
import { KmsKeyVault } from '../../lambdas/adapters/aws/kms-key-vault';
import { S3BlobStore } from '../../lambdas/adapters/aws/s3-blob-store';
import { composeCore } from '../../lambdas/compose-store';
import { AuthenticatedIndex } from '../../lambdas/core/index-auth/authenticated-index';
import { IndexKey } from '../../lambdas/core/index-auth/index-key';
import type { RecordIndex } from '../../lambdas/core/ports';
import type { KeyLifecycle, LifecycleConfig, RewrapHooks } from '../../lambdas/core/key-lifecycle';
import { objectFromItem, objectsPk, type ObjectRecord } from '../../lambdas/core/records';
import type { AwsTarget } from '../support/aws-target';
import { motoClients } from './moto-clients';

export interface MotoStore {
  readonly clients: AwsClients;
  readonly tableName: string;
  readonly bucket: string;
  /** The alias the target was configured with (SEALSTORE_KMS_KEY_ID). */
  readonly keyAlias: string;
  readonly kms: KmsKeyVault;
  /** The raw table (rows as stored, MACs included). */
  readonly index: DynamoDbRecordIndex;
  /** The table as the store uses it: every row authenticated. */
  readonly authenticated: RecordIndex;
  readonly blobs: S3BlobStore;
  /** The index's record of one object (strongly consistent GetItem). */
  record(bucket: string, key: string): Promise<ObjectRecord>;
  /** S3 user metadata of one blob, read with a raw HeadObject on the moto bucket (no adapter in between). */
  blobMetadata(blobId: string): Promise<Record<string, string>>;
  /** SHA-256 of a blob's stored bytes: proves a rewrap left the ciphertext body alone. */
  blobDigest(blobId: string): Promise<string>;
  /** DescribeKey straight from moto's KMS. */
  describe(keyId: string): Promise<KeyMetadata>;
  /** Another lifecycle over the same store: a second runner, or one with crash hooks. */
  makeLifecycle(options?: { config?: Partial<LifecycleConfig>; hooks?: RewrapHooks }): KeyLifecycle;
  close(): void;
}

/** A fresh moto serves one target, so its one table and one bucket are the target's. */
export async function openMotoStore(target: AwsTarget, baseConfig: Partial<LifecycleConfig> = {}): Promise<MotoStore> {
  const clients = motoClients(target.endpoint);
  const tables = (await clients.dynamodb.send(new ListTablesCommand({}))).TableNames ?? [];
  const buckets = ((await clients.s3.send(new ListBucketsCommand({}))).Buckets ?? []).map((b) => b.Name ?? '');
  const [tableName, bucket] = [tables[0], buckets[0]];
  if (tables.length !== 1 || buckets.length !== 1 || tableName === undefined || bucket === undefined) {
    throw new Error(`expected one table and one bucket on this moto, found ${tables.join(',')} / ${buckets.join(',')}`);
  }
  const keyAlias = `alias/${tableName}`; // startAwsOnMoto names table and alias alike: sealstore-<suffix>
  const kms = new KmsKeyVault({ client: clients.kms });
  const index = new DynamoDbRecordIndex({ client: clients.dynamodb, tableName });
  const blobs = new S3BlobStore({ client: clients.s3, bucket });
  const defaultKeyId = await kms.resolveKeyId(keyAlias);
  const authenticated = new AuthenticatedIndex(index, new IndexKey({ index, vault: kms, defaultKeyId }));
  return {
    clients,
    tableName,
    bucket,
    keyAlias,
    kms,
    index,
    authenticated,
    blobs,
    record: async (b, key) => {
      const item = await index.get(objectsPk(b), key);
      if (!item) throw new Error(`the index has no ${b}/${key}`);
      return objectFromItem(item);
    },
    blobMetadata: async (blobId) => (await clients.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: blobId }))).Metadata ?? {},
    blobDigest: async (blobId) => {
      const got = await clients.s3.send(new GetObjectCommand({ Bucket: bucket, Key: blobId }));
      return createHash('sha256').update(await got.Body!.transformToByteArray()).digest('hex');
    },
    describe: async (keyId) => {
      const meta = (await clients.kms.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata;
      if (!meta) throw new Error(`moto described no key ${keyId}`);
      return meta;
    },
    makeLifecycle: (options = {}) => {
      const ports = { vault: kms, admin: kms, blobs, index, defaultKeyId, close: async () => undefined };
      return composeCore(ports, { lifecycleConfig: { ...baseConfig, ...options.config }, ...(options.hooks ? { rewrapHooks: options.hooks } : {}) }).lifecycle;
    },
    close: () => {
      clients.s3.destroy();
      clients.kms.destroy();
      clients.dynamodb.destroy();
    },
  };
}
