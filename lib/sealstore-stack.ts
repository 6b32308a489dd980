// The sealstore stack: CMK, blob bucket, index table, root credentials, the API function behind a REST API,
// and the rotation and housekeeping functions on their schedules.
import { CfnOutput, Duration, Stack, Validations, type StackProps } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { ENV, FUNCTION_ENV, type EnvName } from '../lambdas/core/deployment-names';
import { BlobBucket, type BlobAccessLogging } from './blob-bucket';
import { grantApiFunction, grantHousekeepingFunction, grantRotationFunction, type StoreResources } from './function-permissions';
import { ObjectApi } from './object-api';
import { ObjectTable } from './object-table';
import { RootCredentials } from './root-credentials';
import { ScheduledJob } from './scheduled-job';
import { SealstoreFunction } from './sealstore-function';
import { StoreKeys } from './store-keys';

export interface SealstoreStackProps extends StackProps {
  /** @default `alias/sealstore/<stack name>` */
  readonly keyAlias?: string;
  /** Bring an existing CMK instead of creating one (see StoreKeysProps.existingKeyArn). @default create one */
  readonly existingKeyArn?: string;
  /** Older CMKs the store must still unwrap or rewrap. @default none */
  readonly additionalTrustedKeyArns?: readonly string[];
  /** IAM principal ARNs that administer the created key. @default the account root (IAM-delegated admin only) */
  readonly keyAdminArns?: readonly string[];
  /** @default 365 days */
  readonly keyRotationPeriod?: Duration;
  /** @default 30 days */
  readonly keyPendingWindow?: Duration;
  /** EventBridge expression for the rotation function. @default 'rate(1 day)' */
  readonly rotationSchedule?: string;
  /**
   * EventBridge expression for the housekeeping function (abort idle uploads, delete unreferenced blobs, which
   * includes the ciphertext of overwritten objects). @default 'rate(1 hour)'
   */
  readonly housekeepingSchedule?: string;
  /** Multipart uploads idle longer than this are aborted. @default Duration.days(7) */
  readonly uploadMaxAge?: Duration;
  /** Retention of function logs, API access logs and S3 access logs; a CloudWatch Logs retention value. @default 365 */
  readonly logRetentionDays?: number;
  /** @default 'server-access-logs' */
  readonly blobAccessLogging?: BlobAccessLogging;
  /** @default generated */
  readonly bucketName?: string;
  /** @default generated */
  readonly tableName?: string;
  /** @default 'prod' */
  readonly stageName?: string;
  /** @default 100 requests per second */
  readonly throttlingRateLimit?: number;
  /** @default 200 requests */
  readonly throttlingBurstLimit?: number;
  /** @default 1024 MB (AES-GCM and SigV4 hashing are CPU-bound; CPU scales with memory) */
  readonly apiMemorySize?: number;
  /** Lambda and integration timeout of the API; a streamed GET of a large object runs this long at most. @default 5 minutes */
  readonly apiTimeout?: Duration;
  /** @default 512 MB */
  readonly rotationMemorySize?: number;
  /** @default 15 minutes (the Lambda maximum: a rewrap pass resumes where the last run stopped) */
  readonly rotationTimeout?: Duration;
  /** false: inline stub code instead of esbuild bundles — synth-only tests; never deploy. @default true */
  readonly bundle?: boolean;
  /** @default true (see ObjectApiProps.manageAccountLoggingRole) */
  readonly manageApiGatewayAccountRole?: boolean;
  /** @default none */
  readonly webAclArn?: string;
  /** @default derived from the stack name */
  readonly rootAccessKeyId?: string;
}

const RETENTION_VALUES = new Set<number>(Object.values(logs.RetentionDays).filter((v): v is number => typeof v === 'number'));

export class SealstoreStack extends Stack {
  readonly keys: StoreKeys;
  readonly blobs: BlobBucket;
  readonly index: ObjectTable;
  readonly rootCredentials: RootCredentials;
  readonly apiFunction: SealstoreFunction;
  readonly rotationFunction: SealstoreFunction;
  readonly objectApi: ObjectApi;
  readonly rotation: ScheduledJob;
  readonly housekeepingFunction: SealstoreFunction;
  readonly housekeeping: ScheduledJob;

  constructor(scope: Construct, id: string, props: SealstoreStackProps = {}) {
    super(scope, id, props);
    const logRetentionDays = props.logRetentionDays ?? 365;
    if (!RETENTION_VALUES.has(logRetentionDays)) {
      throw new Error(`sealstore: logRetentionDays ${logRetentionDays} is not a CloudWatch Logs retention value (e.g. 30, 90, 365)`);
    }
    const logRetention = logRetentionDays as logs.RetentionDays;

    const rotationPeriod = props.keyRotationPeriod ?? Duration.days(365);
    const pendingWindow = props.keyPendingWindow ?? Duration.days(30);
    this.keys = new StoreKeys(this, 'Keys', {
      alias: props.keyAlias ?? `alias/sealstore/${this.stackName}`,
      rotationPeriod,
      pendingWindow,
      ...(props.keyAdminArns !== undefined && { admins: props.keyAdminArns.map((arn) => new iam.ArnPrincipal(arn)) }),
      ...(props.existingKeyArn !== undefined && { existingKeyArn: props.existingKeyArn }),
      ...(props.additionalTrustedKeyArns !== undefined && { additionalTrustedKeyArns: props.additionalTrustedKeyArns }),
    });
    this.blobs = new BlobBucket(this, 'Blobs', {
      ...(props.bucketName !== undefined && { bucketName: props.bucketName }),
      ...(props.blobAccessLogging !== undefined && { accessLogging: props.blobAccessLogging }),
      logRetentionDays,
    });
    this.index = new ObjectTable(this, 'Index', { ...(props.tableName !== undefined && { tableName: props.tableName }) });
    this.rootCredentials = new RootCredentials(this, 'RootCredentials', {
      ...(props.rootAccessKeyId !== undefined && { accessKeyId: props.rootAccessKeyId }),
    });

    // The contract between this stack and the handlers: every name from lambdas/core/deployment-names.ts, and each
    // function given exactly the variables its handler reads (FUNCTION_ENV; test/cdk/deployment-names.test.ts).
    const apiTimeout = props.apiTimeout ?? Duration.minutes(5);
    const values: Record<EnvName, string> = {
      [ENV.tableName]: this.index.table.tableName,
      [ENV.blobBucket]: this.blobs.bucket.bucketName,
      [ENV.kmsKeyId]: this.keys.key.keyArn,
      [ENV.trustedKeyIds]: this.keys.trustedKeyArns.join(','),
      [ENV.rootCredentialsSecretArn]: this.rootCredentials.secret.secretArn,
      [ENV.region]: this.region,
      // The key lifecycle (rotation job, admin API) keeps the CMK on the same schedule the key was created with.
      [ENV.rotationPeriodDays]: String(rotationPeriod.toDays()),
      [ENV.pendingWindowDays]: String(pendingWindow.toDays()),
      // Longer than the API function's longest request, so a write still in flight never loses its blob.
      [ENV.pendingGraceSeconds]: String(Math.max(20 * 60, apiTimeout.toSeconds() + 5 * 60)),
      [ENV.uploadMaxAgeDays]: String((props.uploadMaxAge ?? Duration.days(7)).toDays()),
    };
    // One function per job, all bundled the same way from lambdas/handlers/<entry>.ts.
    const handler = (id: string, entry: keyof typeof FUNCTION_ENV, description: string, memorySize: number, timeout: Duration) =>
      new SealstoreFunction(this, id, {
        entry: `lambdas/handlers/${entry}.ts`,
        description: `sealstore ${description}`,
        memorySize,
        timeout,
        environment: Object.fromEntries(FUNCTION_ENV[entry].map((name) => [name, values[name]])),
        logRetention,
        ...(props.bundle !== undefined && { bundle: props.bundle }),
      });
    this.apiFunction = handler('ApiFunction', 'api', 'API', props.apiMemorySize ?? 1024, apiTimeout);
    this.rotationFunction = handler('RotationFunction', 'rotation', 'key rotation', props.rotationMemorySize ?? 512, props.rotationTimeout ?? Duration.minutes(15));
    this.housekeepingFunction = handler('HousekeepingFunction', 'housekeeping', 'housekeeping', 256, Duration.minutes(15));
    const resources: StoreResources = {
      keys: this.keys,
      bucket: this.blobs.bucket,
      table: this.index,
      rootCredentials: this.rootCredentials.secret,
    };
    grantApiFunction(this.apiFunction, resources);
    grantRotationFunction(this.rotationFunction, resources);
    grantHousekeepingFunction(this.housekeepingFunction, resources);

    this.objectApi = new ObjectApi(this, 'Api', {
      handler: this.apiFunction.function,
      ...(props.stageName !== undefined && { stageName: props.stageName }),
      throttlingRateLimit: props.throttlingRateLimit ?? 100,
      throttlingBurstLimit: props.throttlingBurstLimit ?? 200,
      integrationTimeout: apiTimeout,
      logRetention,
      ...(props.manageApiGatewayAccountRole !== undefined && { manageAccountLoggingRole: props.manageApiGatewayAccountRole }),
      ...(props.webAclArn !== undefined && { webAclArn: props.webAclArn }),
    });
    this.rotation = new ScheduledJob(this, 'Rotation', {
      handler: this.rotationFunction.function,
      schedule: props.rotationSchedule ?? 'rate(1 day)',
      description: 'sealstore key rotation and rewrap',
      name: 'rotation',
    });

    this.housekeeping = new ScheduledJob(this, 'Housekeeping', {
      handler: this.housekeepingFunction.function,
      schedule: props.housekeepingSchedule ?? 'rate(1 hour)',
      description: 'sealstore housekeeping',
      name: 'housekeeping',
    });

    for (const fn of [this.apiFunction, this.rotationFunction, this.housekeepingFunction]) {
      Validations.of(fn.function).acknowledge({
        id: 'AwsSolutions-L1',
        reason: 'Pinned to nodejs22.x on purpose: the bundle targets node22 and the test suite runs on Node 20/22; move with both.',
      });
    }

    this.addOutputs();
  }

  private addOutputs(): void {
    new CfnOutput(this, 'ApiEndpoint', { description: 'S3 endpoint URL for clients (path-style)', value: this.objectApi.api.url });
    new CfnOutput(this, 'BlobBucketName', { value: this.blobs.bucket.bucketName });
    new CfnOutput(this, 'BlobBucketArn', { value: this.blobs.bucket.bucketArn });
    new CfnOutput(this, 'TableName', { value: this.index.table.tableName });
    new CfnOutput(this, 'TableArn', { value: this.index.table.tableArn });
    new CfnOutput(this, 'KmsKeyArn', { value: this.keys.key.keyArn });
    new CfnOutput(this, 'TrustedKeyArns', { value: this.keys.trustedKeyArns.join(',') });
    new CfnOutput(this, 'RootCredentialsSecretArn', { value: this.rootCredentials.secret.secretArn });
    new CfnOutput(this, 'ApiFunctionName', { value: this.apiFunction.function.functionName });
    new CfnOutput(this, 'RotationFunctionName', { value: this.rotationFunction.function.functionName });
    new CfnOutput(this, 'HousekeepingFunctionName', { value: this.housekeepingFunction.function.functionName });
    // The owner of a brought key adds these statements to its key policy (docs/DEPLOY.md): without them KMS denies
    // the functions unless the key policy delegates to IAM.
    const ownerStatements = () => this.toJsonString(this.keys.ownerStatements.map((s): unknown => s.toStatementJson()));
    if (!this.keys.created) {
      new CfnOutput(this, 'KeyPolicyStatementsForOwner', {
        description: 'Add these statements to the key policy of the existing CMK (and of every additional trusted key)',
        value: ownerStatements(),
      });
    }
    this.keys.additionalTrustedKeyArns.forEach((arn, i) => {
      new CfnOutput(this, `KeyPolicyStatementsForTrustedKey${i + 1}`, {
        description: `Add these statements to the key policy of the additional trusted key ${arn}`,
        value: ownerStatements(),
      });
    });
  }
}
