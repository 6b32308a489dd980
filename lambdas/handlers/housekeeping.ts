// The housekeeping Lambda: EventBridge invokes it on a schedule to abort idle multipart uploads and delete
// blobs that no object references (writers that died before their commit, replaced and deleted objects).
// It holds no KMS rights at all: nothing here needs a key.
import type { ScheduledEvent } from 'aws-lambda';
import { awsConfigFromEnv, createAwsClients, DynamoDbObjectIndex, KmsKeyVault, S3BlobStore } from '../adapters/aws';
import { housekeepingConfigFromEnv, runHousekeeping, type HousekeepingConfig, type HousekeepingReport } from '../core/housekeeping';
import { ObjectService } from '../core/object-service';
import { lambdaLogger } from './lambda-logger';

export interface HousekeepingHandlerDeps {
  service(): Promise<ObjectService>;
  readonly config: HousekeepingConfig;
  readonly logger: { info(message: string, fields?: Record<string, unknown>): void };
}

export function makeHousekeepingHandler(deps: HousekeepingHandlerDeps): (event: ScheduledEvent) => Promise<HousekeepingReport> {
  let ready: Promise<ObjectService> | undefined;
  return async (event) => {
    ready ??= deps.service().catch((e: unknown) => {
      ready = undefined;
      throw e;
    });
    const report = await runHousekeeping(await ready, deps.config);
    deps.logger.info('housekeeping run', { trigger: event.resources?.[0] ?? event.id, scheduledAt: event.time, ...report });
    return report;
  };
}

/** The S3 and DynamoDB adapters only: unlike openAwsBackend, no DescribeKey at start (this role has no KMS rights). */
async function awsService(env: NodeJS.ProcessEnv): Promise<ObjectService> {
  const config = awsConfigFromEnv(env);
  const clients = createAwsClients({}, env);
  return new ObjectService({
    // Present because the service's type needs one; housekeeping makes no key call, and IAM would refuse it.
    vault: new KmsKeyVault({ client: clients.kms }),
    blobs: new S3BlobStore({ client: clients.s3, bucket: config.bucket }),
    index: new DynamoDbObjectIndex({ client: clients.dynamodb, tableName: config.tableName }),
    keys: { activeKeyId: async () => config.keyId },
    logger: lambdaLogger,
  });
}

const config = housekeepingConfigFromEnv(process.env);

export const handler = makeHousekeepingHandler({ service: () => awsService(process.env), config, logger: lambdaLogger });
