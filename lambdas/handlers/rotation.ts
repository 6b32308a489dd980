// The rotation Lambda: EventBridge invokes it on a schedule; each invocation is one key lifecycle run
// (keep rotation on, rotate when due, rewrap a bounded batch, retire unused CMKs), reported as a log line
// and as CloudWatch metrics (Embedded Metric Format).
import type { ScheduledEvent } from 'aws-lambda';
import { openAwsBackend } from '../adapters/aws';
import { composeCore } from '../compose-store';
import { lifecycleConfigFromEnv, metricsLine, type JobReport, type KeyLifecycle, type LifecycleConfig } from '../core/key-lifecycle';
import type { Logger } from '../core/logger';
import { lambdaLogger } from './lambda-logger';

export interface RotationHandlerDeps {
  /** Built once per container, on first use. */
  lifecycle(): Promise<KeyLifecycle>;
  readonly logger: Logger;
  /** Where the metrics document goes; stdout in Lambda, where CloudWatch picks EMF up. */
  writeMetrics(line: string): void;
}

export function makeRotationHandler(deps: RotationHandlerDeps): (event: ScheduledEvent) => Promise<JobReport> {
  let ready: Promise<KeyLifecycle> | undefined;
  return async (event) => {
    if (event.source !== 'aws.events' || event['detail-type'] !== 'Scheduled Event') {
      // Only the schedule should invoke this function; anything else is a wiring mistake worth seeing.
      deps.logger.warn('rotation handler invoked by an unexpected event; running anyway', { source: event.source, detailType: event['detail-type'] });
    }
    ready ??= deps.lifecycle().catch((e: unknown) => {
      ready = undefined;
      throw e;
    });
    const lifecycle = await ready;
    const report = await lifecycle.runJob();
    deps.logger.info('key lifecycle run', { trigger: event.resources?.[0] ?? event.id, scheduledAt: event.time, ...report });
    deps.writeMetrics(metricsLine(report));
    return report;
  };
}

/** The API Lambda's wiring (composeCore): the lifecycle with access keys, so their sealed secrets are rewrapped too. */
export async function awsLifecycle(env: NodeJS.ProcessEnv, config: LifecycleConfig): Promise<KeyLifecycle> {
  return composeCore(await openAwsBackend(env), { lifecycleConfig: config, logger: lambdaLogger }).lifecycle;
}

// Read at cold start so a bad setting fails the first invocation, naming the variable.
const config = lifecycleConfigFromEnv(process.env);

export const handler = makeRotationHandler({
  lifecycle: () => awsLifecycle(process.env, config),
  logger: lambdaLogger,
  writeMetrics: (line) => process.stdout.write(`${line}\n`),
});
