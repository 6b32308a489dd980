// Reads the AWS backend's configuration from the environment and builds the SDK clients once.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KMSClient } from '@aws-sdk/client-kms';
import { S3Client } from '@aws-sdk/client-s3';
import { ENV } from '../../core/deployment-names';

export interface AwsConfig {
  readonly tableName: string;
  readonly bucket: string;
  /** The CMK new objects are sealed under: key id, key ARN, alias name or alias ARN. */
  readonly keyId: string;
  /** Key ARNs whose data keys this store will unwrap; undefined means "whatever IAM allows". */
  readonly trustedKeyIds?: readonly string[];
}

export interface AwsClients {
  readonly kms: KMSClient;
  readonly s3: S3Client;
  readonly dynamodb: DynamoDBClient;
}

/** For tests and tools that must not depend on process.env; production passes nothing. */
export interface AwsClientOverrides {
  readonly endpoint?: string;
  readonly region?: string;
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string };
  readonly timeouts?: Partial<AwsTimeouts>;
}

export interface AwsTimeouts {
  /** TCP connect. */
  readonly connectMs: number;
  /** Whole request and response, for KMS and DynamoDB (small JSON bodies). */
  readonly requestMs: number;
  /** Idle socket, for S3: a blob body streams for as long as it keeps moving. */
  readonly s3IdleMs: number;
}

/**
 * The SDK's default is no timeout at all: a hung KMS call would hold the Lambda until it is killed.
 * These turn a stall into a TimeoutError the SDK retries and we report as 503 ServiceUnavailable.
 */
export const DEFAULT_TIMEOUTS: AwsTimeouts = { connectMs: 3_000, requestMs: 10_000, s3IdleMs: 30_000 };

const REQUIRED = {
  tableName: ENV.tableName,
  bucket: ENV.blobBucket,
  keyId: ENV.kmsKeyId,
} as const;
const TRUSTED = ENV.trustedKeyIds;

/** Throws at cold start, naming every missing variable at once, rather than failing on first use. */
export function awsConfigFromEnv(env: NodeJS.ProcessEnv = process.env): AwsConfig {
  const read = (name: string) => env[name]?.trim() ?? '';
  const missing = Object.values(REQUIRED).filter((name) => read(name) === '');
  if (missing.length > 0) {
    throw new Error(`sealstore AWS backend: missing environment variable(s) ${missing.join(', ')}`);
  }
  const trusted = read(TRUSTED)
    .split(',')
    .map((id) => id.trim())
    .filter((id) => id !== '');
  return {
    tableName: read(REQUIRED.tableName),
    bucket: read(REQUIRED.bucket),
    keyId: read(REQUIRED.keyId),
    ...(trusted.length > 0 && { trustedKeyIds: trusted }),
  };
}

/**
 * One client per service, to be created once per container. Endpoints, region and credentials come
 * from the SDK's standard environment (AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_KMS/_S3/_DYNAMODB,
 * AWS_REGION, AWS_PROFILE…), so real AWS, LocalStack and moto need no code change. S3 switches to
 * path-style addressing under a custom endpoint: "bucket.127.0.0.1" does not resolve.
 */
export function createAwsClients(overrides: AwsClientOverrides = {}, env: NodeJS.ProcessEnv = process.env): AwsClients {
  const customEndpoint =
    overrides.endpoint !== undefined || Boolean(env.AWS_ENDPOINT_URL) || Boolean(env.AWS_ENDPOINT_URL_S3);
  const common = {
    ...(overrides.endpoint !== undefined && { endpoint: overrides.endpoint }),
    ...(overrides.region !== undefined && { region: overrides.region }),
    ...(overrides.credentials !== undefined && { credentials: { ...overrides.credentials } }),
  };
  const timeouts = { ...DEFAULT_TIMEOUTS, ...overrides.timeouts };
  const jsonHandler = {
    connectionTimeout: timeouts.connectMs,
    requestTimeout: timeouts.requestMs,
    // Without this the SDK only logs a warning when requestTimeout passes, and keeps waiting.
    throwOnRequestTimeout: true,
  };
  return {
    kms: new KMSClient({ ...common, requestHandler: jsonHandler }),
    s3: new S3Client({
      ...common,
      forcePathStyle: customEndpoint,
      requestHandler: { connectionTimeout: timeouts.connectMs, socketTimeout: timeouts.s3IdleMs },
    }),
    dynamodb: new DynamoDBClient({ ...common, requestHandler: jsonHandler }),
  };
}
