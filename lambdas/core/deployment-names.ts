// The names the CDK stack (lib/) and the handlers (lambdas/) must agree on: the environment each function is given
// and the index table's key schema. One definition, imported by both; test/cdk/deployment-names.test.ts checks the
// synthesized template against it and against what the handlers actually read. (The KMS encryption-context keys,
// the third such contract, live beside the code that wraps with them: encryption-context.ts.)
// Dependency-free on purpose: lib/ may import it (test/architecture/imports.test.ts).

/** Environment variables the stack sets on the functions. */
export const ENV = {
  /** The DynamoDB table of the index. */
  tableName: 'SEALSTORE_TABLE_NAME',
  /** The S3 bucket of the sealed blobs. */
  blobBucket: 'SEALSTORE_BLOB_BUCKET',
  /** The CMK a new store starts with (read only until the store has an active key). */
  kmsKeyId: 'SEALSTORE_KMS_KEY_ID',
  /** Comma-separated key ARNs whose wrapped keys the store opens. */
  trustedKeyIds: 'SEALSTORE_TRUSTED_KEY_IDS',
  /** The Secrets Manager secret holding the root S3 credentials (API function only). */
  rootCredentialsSecretArn: 'SEALSTORE_ROOT_CREDENTIALS_SECRET_ARN',
  /** The region SigV4 requests are scoped to (API function only). */
  region: 'SEALSTORE_REGION',
  /** Key lifecycle: automatic rotation period, days. */
  rotationPeriodDays: 'SEALSTORE_ROTATION_PERIOD_DAYS',
  /** Key lifecycle: pending window of a scheduled key deletion, days. */
  pendingWindowDays: 'SEALSTORE_PENDING_WINDOW_DAYS',
  /** Housekeeping: how long a pending blob is left alone, seconds. */
  pendingGraceSeconds: 'SEALSTORE_PENDING_GRACE_SECONDS',
  /** Housekeeping: multipart uploads idle longer than this are aborted, days. */
  uploadMaxAgeDays: 'SEALSTORE_UPLOAD_MAX_AGE_DAYS',
} as const;

/**
 * Tuning variables the handlers read when present and the stack deliberately leaves unset (the code's defaults
 * apply); an operator may set them on a function by hand.
 */
export const OPTIONAL_ENV = {
  /** Key lifecycle: most data keys rewrapped per run. */
  rewrapBatchSize: 'SEALSTORE_REWRAP_BATCH_SIZE',
  /** Key lifecycle: how long a retiring CMK waits after its last object left, seconds. */
  retireGraceSeconds: 'SEALSTORE_RETIRE_GRACE_SECONDS',
} as const;

export type EnvName = (typeof ENV)[keyof typeof ENV];

/** What each function is given: the variables its handler reads (test/cdk/deployment-names.test.ts checks both ways). */
export const FUNCTION_ENV = {
  api: [ENV.tableName, ENV.blobBucket, ENV.kmsKeyId, ENV.trustedKeyIds, ENV.rootCredentialsSecretArn, ENV.region, ENV.rotationPeriodDays, ENV.pendingWindowDays],
  rotation: [ENV.tableName, ENV.blobBucket, ENV.kmsKeyId, ENV.trustedKeyIds, ENV.rotationPeriodDays, ENV.pendingWindowDays],
  housekeeping: [ENV.tableName, ENV.blobBucket, ENV.kmsKeyId, ENV.trustedKeyIds, ENV.pendingGraceSeconds, ENV.uploadMaxAgeDays],
} as const satisfies Record<string, readonly EnvName[]>;

/** The index table: partition and sort key, and the one global secondary index (docs/TABLE-DESIGN.md). */
export const TABLE = {
  partitionKey: 'pk',
  sortKey: 'sk',
  gsi1: { indexName: 'gsi1', partitionKey: 'gsi1pk', sortKey: 'gsi1sk' },
} as const;
