// Specification of how CDK context (cdk.json, `-c key=value`) becomes stack props.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { stackNameFromContext, stackPropsFromContext } from '../../lib/context';

// Every App makes its output directory when constructed (a fresh cdk.out* in the temp folder unless told where).
const outdir = mkdtempSync(join(tmpdir(), 'sealstore-context-'));
afterAll(() => rmSync(outdir, { recursive: true, force: true }));
const app = (context?: Record<string, unknown>) => new App({ outdir, ...(context ? { context } : {}) });
const propsFrom = (context: Record<string, unknown>) => stackPropsFromContext(app(context).node);

describe('stackPropsFromContext', () => {
  it('leaves every prop unset when no context is given, so the documented defaults apply', () => {
    expect(propsFrom({})).toEqual({});
    expect(stackNameFromContext(app().node)).toBe('Sealstore');
  });

  it('parses strings as the CLI passes them', () => {
    const props = propsFrom({
      'sealstore:keyRotationPeriodDays': '180',
      'sealstore:keyPendingWindowDays': '7',
      'sealstore:rotationSchedule': 'rate(12 hours)',
      'sealstore:housekeepingSchedule': 'rate(30 minutes)',
      'sealstore:uploadMaxAgeDays': '3',
      'sealstore:logRetentionDays': '90',
      'sealstore:blobAccessLogging': 'none',
      'sealstore:additionalTrustedKeyArns': 'arn:a, arn:b',
      'sealstore:bundle': 'false',
      'sealstore:apiTimeoutSeconds': '120',
    });
    expect(props.keyRotationPeriod?.toDays()).toBe(180);
    expect(props.keyPendingWindow?.toDays()).toBe(7);
    expect(props.rotationSchedule).toBe('rate(12 hours)');
    expect(props.housekeepingSchedule).toBe('rate(30 minutes)');
    expect(props.uploadMaxAge?.toDays()).toBe(3);
    expect(props.logRetentionDays).toBe(90);
    expect(props.blobAccessLogging).toBe('none');
    expect(props.additionalTrustedKeyArns).toEqual(['arn:a', 'arn:b']);
    expect(props.bundle).toBe(false);
    expect(props.apiTimeout?.toSeconds()).toBe(120);
  });

  it('accepts native JSON types from cdk.json', () => {
    const props = propsFrom({ 'sealstore:throttlingRateLimit': 25, 'sealstore:manageApiGatewayAccountRole': false, 'sealstore:keyAdminArns': ['arn:x'] });
    expect(props).toMatchObject({ throttlingRateLimit: 25, manageApiGatewayAccountRole: false, keyAdminArns: ['arn:x'] });
  });

  it('rejects values it cannot read, naming the context key', () => {
    expect(() => propsFrom({ 'sealstore:keyPendingWindowDays': 'soon' })).toThrow(/sealstore:keyPendingWindowDays must be a positive integer/);
    expect(() => propsFrom({ 'sealstore:bundle': 'yes' })).toThrow(/sealstore:bundle must be true or false/);
    expect(() => propsFrom({ 'sealstore:blobAccessLogging': 'all' })).toThrow(/sealstore:blobAccessLogging must be one of/);
  });
});
