// The housekeeping Lambda: EventBridge invokes it on a schedule to abort idle multipart uploads and delete
// blobs that no object references (writers that died before their commit, replaced and deleted objects).
// Its one KMS right is Decrypt of the index key, which authenticates the rows it acts on; it opens no data key.
import type { ScheduledEvent } from 'aws-lambda';
import { openAwsBackend } from '../adapters/aws';
import { composeCore } from '../compose-store';
import { housekeepingConfigFromEnv, runHousekeeping, type HousekeepingConfig, type HousekeepingReport } from '../core/housekeeping';
import type { Logger } from '../core/logger';
import type { ObjectService } from '../core/object-service';
import { lambdaLogger } from './lambda-logger';

export interface HousekeepingHandlerDeps {
  service(): Promise<ObjectService>;
  readonly config: HousekeepingConfig;
  readonly logger: Logger;
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

/**
 * The API Lambda's wiring (composeCore) over the AWS ports (opened with no KMS call): this role's one KMS right is
 * Decrypt of the index key (to authenticate the ledger and upload rows it acts on); aborting uploads and
 * deleting unreferenced blobs need no data key.
 */
async function awsService(env: NodeJS.ProcessEnv): Promise<ObjectService> {
  return composeCore(await openAwsBackend(env), { logger: lambdaLogger }).service;
}

const config = housekeepingConfigFromEnv(process.env);

export const handler = makeHousekeepingHandler({ service: () => awsService(process.env), config, logger: lambdaLogger });
