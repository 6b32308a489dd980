// A Lambda run on an EventBridge schedule: the key lifecycle job and the housekeeping job each get one.
import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';

export interface ScheduledJobProps {
  readonly handler: lambda.IFunction;
  /** An EventBridge schedule expression: rate(…) or cron(…). */
  readonly schedule: string;
  /** The rule's description. */
  readonly description: string;
  /** Names the schedule in the error a bad expression raises, as the stack prop that set it (e.g. 'rotation'). */
  readonly name: string;
}

export class ScheduledJob extends Construct {
  readonly rule: events.Rule;

  constructor(scope: Construct, id: string, props: ScheduledJobProps) {
    super(scope, id);
    if (!/^(rate\(\d+ (minute|minutes|hour|hours|day|days)\)|cron\([^)]+\))$/.test(props.schedule)) {
      throw new Error(`sealstore: ${props.name} schedule must be rate(N unit) or cron(...) (got '${props.schedule}')`);
    }
    this.rule = new events.Rule(this, 'Rule', {
      description: props.description,
      schedule: events.Schedule.expression(props.schedule),
    });
    this.rule.addTarget(
      new targets.LambdaFunction(props.handler, {
        // Both jobs are idempotent and the next scheduled run catches up; two retries cover transient errors
        // without piling runs on top of each other.
        retryAttempts: 2,
        maxEventAge: Duration.hours(2),
      }),
    );
  }
}
