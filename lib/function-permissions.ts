// What each function's code calls, and nothing more: one function per role, each call listed with the reason.
import { Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { ObjectTable } from './object-table';
import type { SealstoreFunction } from './sealstore-function';
import type { StoreKeys } from './store-keys';

export interface StoreResources {
  readonly keys: StoreKeys;
  readonly bucket: s3.IBucket;
  readonly table: ObjectTable;
  readonly rootCredentials: secretsmanager.ISecret;
}

/** The API function: the data path (PUT/GET/DELETE/rewrap) and the admin API's key lifecycle. */
export function grantApiFunction(fn: SealstoreFunction, res: StoreResources): void {
  res.keys.grantUse(fn.role, 'ApiFunction', {
    // GenerateDataKey: one per PUT. Decrypt: one per GET. ReEncryptFrom/To: rewrap without seeing the data key.
    // Encrypt: sealing the secrets of access keys the store issues, and the index key when the store is new.
    contextActions: ['kms:GenerateDataKey', 'kms:Decrypt', 'kms:Encrypt', 'kms:ReEncryptFrom', 'kms:ReEncryptTo'],
    // The admin API manages the store's own CMKs. kms:CreateKey is deliberately absent: new CMKs come from
    // the key owner (this stack, or the owner of a brought key), never from a request to the API.
    keyActions: [
      'kms:DescribeKey',
      'kms:DisableKey',
      'kms:EnableKey',
      'kms:ScheduleKeyDeletion',
      'kms:CancelKeyDeletion',
      'kms:EnableKeyRotation',
      'kms:GetKeyRotationStatus',
      'kms:RotateKeyOnDemand',
    ],
  });
  // ListAliases is an account-level call (no key resource exists for it); the admin API uses it to resolve
  // alias names. It reveals alias names and target key ids only.
  fn.role.addToPrincipalPolicy(new iam.PolicyStatement({ sid: 'KmsListAliases', actions: ['kms:ListAliases'], resources: ['*'] }));

  fn.role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      sid: 'BlobObjects',
      actions: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'],
      resources: [res.bucket.arnForObjects('*')],
    }),
  );
  // ListBucket: lets a missing blob answer 404 instead of 403, and supports the adapter's existence checks.
  fn.role.addToPrincipalPolicy(new iam.PolicyStatement({ sid: 'BlobBucket', actions: ['s3:ListBucket'], resources: [res.bucket.bucketArn] }));

  grantIndex(fn, res.table, ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:DeleteItem', 'dynamodb:UpdateItem', 'dynamodb:ConditionCheckItem']);

  // The root S3 credentials, read once per container. Only this function reads them.
  fn.role.addToPrincipalPolicy(
    new iam.PolicyStatement({ sid: 'RootCredentials', actions: ['secretsmanager:GetSecretValue'], resources: [res.rootCredentials.secretArn] }),
  );

  acknowledgeWildcards(fn, res.bucket, [
    { finding: 'Resource::*', reason: 'kms:ListAliases is an account-level call: IAM offers no resource to scope it to. It reveals alias names and key ids only.' },
  ]);
}

/**
 * The rotation function: keeps rotation on, rotates on schedule, rewraps data keys with ReEncrypt, and
 * schedules deletion of CMKs nothing needs. kms:Decrypt only of the index key (to authenticate the index rows
 * it reads and writes), never of a data key: it rewraps without seeing a plaintext data key, and holds no right
 * to read objects.
 */
export function grantRotationFunction(fn: SealstoreFunction, res: StoreResources): void {
  res.keys.grantUse(fn.role, 'RotationFunction', {
    contextActions: ['kms:ReEncryptFrom', 'kms:ReEncryptTo'],
    indexKeyActions: ['kms:Decrypt'],
    // CancelKeyDeletion/EnableKey: if an object ever turns up under a retired CMK, the job brings the key back
    // and moves the object off it instead of letting the deletion shred it.
    keyActions: [
      'kms:DescribeKey',
      'kms:EnableKeyRotation',
      'kms:GetKeyRotationStatus',
      'kms:RotateKeyOnDemand',
      'kms:ScheduleKeyDeletion',
      'kms:CancelKeyDeletion',
      'kms:EnableKey',
    ],
  });
  // The wrapped data key travels with the blob: a rewrap rewrites the blob's metadata in place with
  // CopyObject, which needs GetObject on the source and PutObject on the destination.
  fn.role.addToPrincipalPolicy(
    new iam.PolicyStatement({ sid: 'BlobRewrap', actions: ['s3:GetObject', 's3:PutObject'], resources: [res.bucket.arnForObjects('*')] }),
  );
  // ListBucket: a missing blob answers 404 (not 403), so the job can tell "gone" from "forbidden".
  fn.role.addToPrincipalPolicy(new iam.PolicyStatement({ sid: 'BlobBucket', actions: ['s3:ListBucket'], resources: [res.bucket.bucketArn] }));
  grantIndex(fn, res.table, ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:ConditionCheckItem']);
  acknowledgeWildcards(fn, res.bucket, []);
}

/**
 * The housekeeping function: aborts idle uploads and deletes blobs the ledger marks unreferenced. One KMS right:
 * kms:Decrypt of the index key alone, so it acts only on ledger rows that authenticate (a forged "garbage" row
 * must never get a live blob deleted). No data key, and no GetObject (it never reads ciphertext).
 */
export function grantHousekeepingFunction(fn: SealstoreFunction, res: StoreResources): void {
  res.keys.grantUse(fn.role, 'HousekeepingFunction', { contextActions: [], indexKeyActions: ['kms:Decrypt'], keyActions: [] });
  fn.role.addToPrincipalPolicy(
    new iam.PolicyStatement({ sid: 'BlobDelete', actions: ['s3:DeleteObject'], resources: [res.bucket.arnForObjects('*')] }),
  );
  fn.role.addToPrincipalPolicy(new iam.PolicyStatement({ sid: 'BlobBucket', actions: ['s3:ListBucket'], resources: [res.bucket.bucketArn] }));
  grantIndex(fn, res.table, ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:ConditionCheckItem']);
  acknowledgeWildcards(fn, res.bucket, []);
}

/**
 * Item calls on the table; Query on the table and on GSI1 by its exact ARN. TransactWriteItems needs no
 * action of its own: DynamoDB authorises each item in the transaction by its Put/Update/Delete/ConditionCheck.
 */
function grantIndex(fn: SealstoreFunction, table: ObjectTable, itemActions: string[]): void {
  fn.role.addToPrincipalPolicy(new iam.PolicyStatement({ sid: 'IndexItems', actions: itemActions, resources: [table.table.tableArn] }));
  fn.role.addToPrincipalPolicy(
    new iam.PolicyStatement({ sid: 'IndexQuery', actions: ['dynamodb:Query'], resources: [table.table.tableArn, table.gsi1Arn] }),
  );
}

/**
 * cdk-nag 3 acknowledges each IAM5 finding by its exact text, so name the one wildcard the S3 grant needs:
 * `<blob bucket ARN>/*` (object keys come from S3 clients at run time; the bucket is the store's own).
 */
function acknowledgeWildcards(fn: SealstoreFunction, bucket: s3.IBucket, extra: Array<{ finding: string; reason: string }>): void {
  const cfnBucket = bucket.node.defaultChild as s3.CfnBucket;
  const stack = Stack.of(fn);
  const bucketLogicalId = stack.resolve(stack.getLogicalId(cfnBucket)) as string;
  const findings = [
    {
      finding: `Resource::<${bucketLogicalId}.Arn>/*`,
      reason: "Object-level S3 calls name their object at run time (keys come from S3 clients): <blob bucket ARN>/* is the store's own bucket and nothing else.",
    },
    ...extra,
  ];
  for (const { finding, reason } of findings) {
    Validations.of(fn.role).acknowledge({ id: `AwsSolutions-IAM5[${finding}]`, reason });
  }
}
