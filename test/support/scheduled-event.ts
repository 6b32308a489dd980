// A verbatim EventBridge "Scheduled Event" (the payload a rate/cron rule hands its Lambda target).
import type { ScheduledEvent } from 'aws-lambda';

export function scheduledEvent(rule: string, time = '2026-01-01T00:00:00Z'): ScheduledEvent {
  return {
    version: '0',
    id: '53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa',
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    account: '123456789012',
    time,
    region: 'us-east-1',
    resources: [`arn:aws:events:us-east-1:123456789012:rule/${rule}`],
    detail: {},
  };
}
