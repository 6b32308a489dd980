// The EventBridge rule that runs the key-rotation function on a schedule (daily unless configured).
import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';

export const DEFAULT_ROTATION_SCHEDULE = 'rate(1 day)';

export interface RotationScheduleProps {
  readonly handler: lambda.IFunction;
  /** An EventBridge schedule expression: rate(…) or cron(…). @default 'rate(1 day)' */
  readonly schedule?: string;
  /** @default 'sealstore key rotation and rewrap' */
  readonly description?: string;
}

export class RotationSchedule extends Construct {
  readonly rule: events.Rule;

  constructor(scope: Construct, id: string, props: RotationScheduleProps) {
    super(scope, id);
    const expression = props.schedule ?? DEFAULT_ROTATION_SCHEDULE;
    if (!/^(rate\(\d+ (minute|minutes|hour|hours|day|days)\)|cron\([^)]+\))$/.test(expression)) {
      throw new Error(`sealstore: ${props.description ?? 'rotation'} schedule must be rate(N unit) or cron(...) (got '${expression}')`);
    }
    this.rule = new events.Rule(this, 'Rule', {
      description: props.description ?? 'sealstore key rotation and rewrap',
      schedule: events.Schedule.expression(expression),
    });
    this.rule.addTarget(
      new targets.LambdaFunction(props.handler, {
        // The job is idempotent and the next scheduled run catches up; two retries cover transient errors
        // without piling runs on top of each other.
        retryAttempts: 2,
        maxEventAge: Duration.hours(2),
      }),
    );
  }
}
