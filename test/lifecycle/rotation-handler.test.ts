// The rotation Lambda's handler, invoked with the payload EventBridge delivers for a schedule rule.
import type { ScheduledEvent } from 'aws-lambda';
import { makeRotationHandler } from '../../lambdas/handlers/rotation';
import { expectAllReadable, openHarness, putMany, type Harness } from './harness';
import { scheduledEvent as makeScheduledEvent } from '../support/scheduled-event';

const scheduledEvent = makeScheduledEvent('sealstore-Rotation', '2026-01-01T00:00:00Z');

describe('rotation handler', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await openHarness();
  });
  afterEach(async () => {
    await h.close();
  });

  it('runs one lifecycle pass per scheduled event and reports it as a log line and EMF metrics', async () => {
    const keys = await putMany(h, 'sched', 5);
    await h.lifecycle.rotate();
    const logs: Array<[string, Record<string, unknown> | undefined]> = [];
    const metrics: string[] = [];
    const handler = makeRotationHandler({
      lifecycle: async () => h.lifecycle,
      logger: { info: (m, f) => logs.push([m, f]), warn: (m, f) => logs.push([m, f]), error: (m, f) => logs.push([m, f]) },
      writeMetrics: (line) => metrics.push(line),
    });

    const report = await handler(JSON.parse(JSON.stringify(scheduledEvent)) as ScheduledEvent);
    expect(report).toMatchObject({ rewrapped: 5, remaining: 0, errors: 0 });
    await expectAllReadable(h, 'sched', keys);

    const line = logs.find(([m]) => m === 'key lifecycle run')?.[1];
    expect(line).toMatchObject({ trigger: scheduledEvent.resources[0], rewrapped: 5, remaining: 0, errors: 0 });
    const emf = JSON.parse(metrics[0] ?? '{}') as Record<string, unknown> & { _aws: { CloudWatchMetrics: Array<{ Namespace: string; Metrics: Array<{ Name: string }> }> } };
    expect(emf._aws.CloudWatchMetrics[0]?.Namespace).toBe('Sealstore');
    expect(emf._aws.CloudWatchMetrics[0]?.Metrics.map((m) => m.Name)).toEqual(['ObjectsRewrapped', 'ObjectsRemaining', 'RewrapErrors', 'KeysRetired']);
    expect(emf).toMatchObject({ ObjectsRewrapped: 5, ObjectsRemaining: 0, RewrapErrors: 0 });

    // The schedule fires again: idempotent, nothing left to do.
    expect(await handler(scheduledEvent)).toMatchObject({ rewrapped: 0, remaining: 0 });
  });
});
