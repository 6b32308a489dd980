// Creates what the AWS backend needs (table, blob bucket, CMK + alias) when missing; safe to run twice.
import {
  CreateTableCommand,
  DescribeTableCommand,
  ResourceInUseException,
  ResourceNotFoundException,
  waitUntilTableExists,
  type CreateTableCommandInput,
} from '@aws-sdk/client-dynamodb';
import {
  BucketAlreadyOwnedByYou,
  CreateBucketCommand,
  HeadBucketCommand,
  NotFound,
  NoSuchBucket,
  type BucketLocationConstraint,
} from '@aws-sdk/client-s3';
import { TABLE } from '../../core/deployment-names';
import { KmsNotFoundError } from '../../core/errors';
import type { AwsClients } from './config';
import { KmsKeyVault } from './kms-key-vault';

/** The single-table layout of docs/TABLE-DESIGN.md; the CDK stack and the tests build the same table. */
export function tableDefinition(tableName: string): CreateTableCommandInput {
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [
      { AttributeName: TABLE.partitionKey, AttributeType: 'S' },
      { AttributeName: TABLE.sortKey, AttributeType: 'S' },
      { AttributeName: TABLE.gsi1.partitionKey, AttributeType: 'S' },
      { AttributeName: TABLE.gsi1.sortKey, AttributeType: 'S' },
    ],
    KeySchema: [
      { AttributeName: TABLE.partitionKey, KeyType: 'HASH' },
      { AttributeName: TABLE.sortKey, KeyType: 'RANGE' },
    ],
    GlobalSecondaryIndexes: [
      {
        IndexName: TABLE.gsi1.indexName,
        KeySchema: [
          { AttributeName: TABLE.gsi1.partitionKey, KeyType: 'HASH' },
          { AttributeName: TABLE.gsi1.sortKey, KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
      },
    ],
  };
}

async function ensureTable(clients: AwsClients, tableName: string): Promise<void> {
  try {
    await clients.dynamodb.send(new DescribeTableCommand({ TableName: tableName }));
    return;
  } catch (error) {
    if (!(error instanceof ResourceNotFoundException)) throw error;
  }
  try {
    await clients.dynamodb.send(new CreateTableCommand(tableDefinition(tableName)));
  } catch (error) {
    // Another initialiser won the race: the table exists, which is all we wanted.
    if (!(error instanceof ResourceInUseException)) throw error;
  }
  await waitUntilTableExists({ client: clients.dynamodb, maxWaitTime: 300 }, { TableName: tableName });
}

async function ensureBucket(clients: AwsClients, bucket: string): Promise<void> {
  try {
    await clients.s3.send(new HeadBucketCommand({ Bucket: bucket }));
    return;
  } catch (error) {
    if (!(error instanceof NotFound || error instanceof NoSuchBucket)) throw error;
  }
  const region = await clients.s3.config.region();
  try {
    await clients.s3.send(
      new CreateBucketCommand({
        Bucket: bucket,
        // us-east-1 is the one region that rejects an explicit LocationConstraint.
        ...(region !== 'us-east-1' && { CreateBucketConfiguration: { LocationConstraint: region as BucketLocationConstraint } }),
      }),
    );
  } catch (error) {
    if (!(error instanceof BucketAlreadyOwnedByYou)) throw error;
  }
}

const isAlias = (ref: string) => ref.startsWith('alias/') || /^arn:[^:]+:kms:[^:]*:[^:]*:alias\//.test(ref);

/**
 * An alias that names no key yet gets a fresh CMK; a key id or key ARN must already exist (KMS
 * cannot create a key with a chosen id). Returns the key ARN.
 */
async function ensureKey(clients: AwsClients, keyAlias: string): Promise<string> {
  const kms = new KmsKeyVault({ client: clients.kms });
  try {
    return await kms.resolveKeyId(keyAlias);
  } catch (error) {
    if (!(error instanceof KmsNotFoundError) || !isAlias(keyAlias)) throw error;
  }
  const aliasName = keyAlias.slice(keyAlias.indexOf('alias/'));
  return (await kms.createKey({ alias: aliasName, description: `sealstore data keys (${aliasName})` })).arn;
}

export async function initAwsResources(
  clients: AwsClients,
  names: { readonly tableName: string; readonly bucket: string; readonly keyAlias: string },
): Promise<{ keyId: string }> {
  await ensureTable(clients, names.tableName);
  await ensureBucket(clients, names.bucket);
  return { keyId: await ensureKey(clients, names.keyAlias) };
}
