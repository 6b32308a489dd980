// Specification of the REST API, the two functions and the rotation schedule.
import { Duration } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { only, synth, type Resource } from './synth';

describe('ObjectApi', () => {
  const { template } = synth({ throttlingRateLimit: 50, throttlingBurstLimit: 80, apiTimeout: Duration.minutes(10) });

  it('is a regional REST API passing every content type through as binary', () => {
    const [, api] = only(template, 'AWS::ApiGateway::RestApi');
    expect(api.Properties).toMatchObject({ BinaryMediaTypes: ['*/*'], EndpointConfiguration: { Types: ['REGIONAL'] } });
  });

  it('proxies "/" and "/{proxy+}" with ANY to the API function, unauthenticated at the gateway (SigV4 is checked in the function)', () => {
    template.hasResourceProperties('AWS::ApiGateway::Resource', { PathPart: '{proxy+}' });
    const methods = Object.values(template.findResources('AWS::ApiGateway::Method')) as Resource[];
    expect(methods).toHaveLength(2);
    for (const m of methods) {
      expect(m.Properties).toMatchObject({ HttpMethod: 'ANY', AuthorizationType: 'NONE' });
      const integration = m.Properties['Integration'] as Record<string, unknown>;
      expect(integration).toMatchObject({ Type: 'AWS_PROXY', IntegrationHttpMethod: 'POST', ResponseTransferMode: 'STREAM', TimeoutInMillis: 600_000 });
      // Streaming integrations call InvokeWithResponseStream.
      expect(JSON.stringify(integration['Uri'])).toMatch(/ApiFunction[0-9A-F]{8}.*response-streaming-invocations/);
    }
  });

  it('throttles the stage and writes JSON access logs, with execution logs at ERROR and no data tracing', () => {
    const [, stage] = only(template, 'AWS::ApiGateway::Stage');
    expect(stage.Properties).toMatchObject({
      StageName: 'prod',
      AccessLogSetting: { Format: expect.stringContaining('"status"') },
      MethodSettings: [
        expect.objectContaining({ HttpMethod: '*', ResourcePath: '/*', ThrottlingRateLimit: 50, ThrottlingBurstLimit: 80, LoggingLevel: 'ERROR', DataTraceEnabled: false }),
      ],
    });
    expect(JSON.stringify((stage.Properties['AccessLogSetting'] as Record<string, unknown>)['DestinationArn'])).toMatch(/ApiAccessLogs[0-9A-F]{8}/);
  });

  it('keeps access logs for the configured retention', () => {
    const retained = synth({ logRetentionDays: 90 }).template;
    const groups = Object.values(retained.findResources('AWS::Logs::LogGroup')) as Resource[];
    expect(groups).toHaveLength(4); // three functions + the API access log
    for (const g of groups) expect(g.Properties['RetentionInDays']).toBe(90);
  });

  it('sets the account logging role unless told the account has one', () => {
    template.resourceCountIs('AWS::ApiGateway::Account', 1);
    synth({ manageApiGatewayAccountRole: false }).template.resourceCountIs('AWS::ApiGateway::Account', 0);
  });

  it('associates a WAF web ACL only when given one', () => {
    template.resourceCountIs('AWS::WAFv2::WebACLAssociation', 0);
    const arn = 'arn:aws:wafv2:eu-west-1:111122223333:regional/webacl/sealstore/abc';
    synth({ webAclArn: arn }).template.hasResourceProperties('AWS::WAFv2::WebACLAssociation', { WebACLArn: arn });
  });

  it('lets only the API Gateway stage invoke the API function', () => {
    const perms = (Object.values(template.findResources('AWS::Lambda::Permission')) as Resource[]).filter((p) =>
      JSON.stringify(p.Properties['FunctionName']).includes('ApiFunction'),
    );
    expect(perms).toHaveLength(2);
    for (const p of perms) {
      expect(p.Properties).toMatchObject({ Action: 'lambda:InvokeFunction', Principal: 'apigateway.amazonaws.com' });
      expect(JSON.stringify(p.Properties['SourceArn'])).toMatch(/ApiDeploymentStageprod[0-9A-F]{8}/);
    }
  });
});

describe('functions', () => {
  const { template } = synth();
  const functions = Object.entries(template.findResources('AWS::Lambda::Function')) as Array<[string, Resource]>;
  const fn = (prefix: string) => functions.find(([id]) => id.startsWith(prefix))![1];

  it('are exactly the API, rotation and housekeeping functions', () => {
    expect(functions.map(([id]) => id.replace(/[0-9A-F]{8}$/, '')).sort()).toEqual(['ApiFunction', 'HousekeepingFunction', 'RotationFunction']);
  });

  it('run nodejs22.x on arm64 with JSON logs into their own log group', () => {
    for (const [, f] of functions) {
      expect(f.Properties).toMatchObject({ Runtime: 'nodejs22.x', Architectures: ['arm64'], LoggingConfig: { LogFormat: 'JSON' } });
      expect(JSON.stringify(f.Properties['LoggingConfig'])).toMatch(/(Api|Rotation|Housekeeping)FunctionLogs/);
    }
  });

  it('size the API function for streaming: 1024 MB, 5 minutes', () => {
    expect(fn('ApiFunction').Properties).toMatchObject({ MemorySize: 1024, Timeout: 300 });
    expect(fn('RotationFunction').Properties).toMatchObject({ MemorySize: 512, Timeout: 900 });
    expect(fn('HousekeepingFunction').Properties).toMatchObject({ MemorySize: 256, Timeout: 900 });
  });

  it('receive the configuration contract in their environment', () => {
    for (const [id, f] of functions) {
      const vars = (f.Properties['Environment'] as { Variables: Record<string, unknown> }).Variables;
      // Each function gets exactly what its handler reads (lambdas/core/deployment-names.ts; test/cdk/deployment-names.test.ts).
      const shared = ['SEALSTORE_BLOB_BUCKET', 'SEALSTORE_KMS_KEY_ID', 'SEALSTORE_TABLE_NAME', 'SEALSTORE_TRUSTED_KEY_IDS'];
      const lifecycle = ['SEALSTORE_ROTATION_PERIOD_DAYS', 'SEALSTORE_PENDING_WINDOW_DAYS'];
      const own = id.startsWith('HousekeepingFunction')
        ? ['SEALSTORE_PENDING_GRACE_SECONDS', 'SEALSTORE_UPLOAD_MAX_AGE_DAYS']
        : id.startsWith('RotationFunction')
          ? lifecycle
          : [...lifecycle, 'SEALSTORE_REGION', 'SEALSTORE_ROOT_CREDENTIALS_SECRET_ARN'];
      expect(Object.keys(vars).sort()).toEqual(['NODE_OPTIONS', ...shared, ...own].sort());
      const expected: Record<string, unknown> = {
        NODE_OPTIONS: '--enable-source-maps',
        SEALSTORE_TABLE_NAME: { Ref: expect.stringMatching(/^IndexTable/) },
        SEALSTORE_BLOB_BUCKET: { Ref: expect.stringMatching(/^Blobs[0-9A-F]{8}$/) },
        SEALSTORE_KMS_KEY_ID: { 'Fn::GetAtt': [expect.stringMatching(/^KeysKey/), 'Arn'] },
        SEALSTORE_TRUSTED_KEY_IDS: { 'Fn::GetAtt': [expect.stringMatching(/^KeysKey/), 'Arn'] },
        SEALSTORE_ROOT_CREDENTIALS_SECRET_ARN: { Ref: expect.stringMatching(/^RootCredentialsSecret/) },
        SEALSTORE_REGION: { Ref: 'AWS::Region' },
        SEALSTORE_ROTATION_PERIOD_DAYS: '365',
        SEALSTORE_PENDING_WINDOW_DAYS: '30',
      };
      expect(vars).toMatchObject(Object.fromEntries(Object.keys(vars).filter((k) => k in expected).map((k) => [k, expected[k]])));
    }
  });
});

describe('ScheduledJob (rotation)', () => {
  it('runs the rotation function daily by default, with bounded retries', () => {
    const { template } = synth();
    const rules = Object.values(template.findResources('AWS::Events::Rule')) as Resource[];
    const rule = rules.find((r) => JSON.stringify(r.Properties['Targets']).includes('RotationFunction'));
    expect(rule?.Properties).toMatchObject({
      ScheduleExpression: 'rate(1 day)',
      State: 'ENABLED',
      Targets: [expect.objectContaining({ Arn: { 'Fn::GetAtt': [expect.stringMatching(/^RotationFunction/), 'Arn'] }, RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 7200 } })],
    });
  });

  it('takes a configured schedule', () => {
    synth({ rotationSchedule: 'cron(0 3 * * ? *)' }).template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'cron(0 3 * * ? *)' });
  });

  it('rejects something that is not a schedule expression', () => {
    expect(() => synth({ rotationSchedule: 'daily' })).toThrow(/rotation schedule must be/);
  });
});

describe('housekeeping schedule', () => {
  it('runs housekeeping hourly by default, with the pending grace beyond the API timeout', () => {
    const { template } = synth();
    const rules = Object.values(template.findResources('AWS::Events::Rule')) as Resource[];
    const rule = rules.find((r) => JSON.stringify(r.Properties['Targets']).includes('HousekeepingFunction'));
    expect(rule?.Properties).toMatchObject({ ScheduleExpression: 'rate(1 hour)', State: 'ENABLED' });
    const [, fn] = Object.entries(template.findResources('AWS::Lambda::Function')).find(([id]) => id.startsWith('HousekeepingFunction')) as [string, Resource];
    const vars = (fn.Properties['Environment'] as { Variables: Record<string, string> }).Variables;
    expect(Number(vars['SEALSTORE_PENDING_GRACE_SECONDS'])).toBeGreaterThanOrEqual(300 + 15 * 60);
    expect(vars['SEALSTORE_UPLOAD_MAX_AGE_DAYS']).toBe('7');
  });

  it('takes a configured schedule', () => {
    synth({ housekeepingSchedule: 'rate(15 minutes)' }).template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(15 minutes)' });
  });
});

describe('outputs', () => {
  it('publish the endpoint, bucket, table, key and secret', () => {
    const { template } = synth();
    const outputs = template.findOutputs('*');
    for (const name of ['ApiEndpoint', 'BlobBucketName', 'BlobBucketArn', 'TableName', 'TableArn', 'KmsKeyArn', 'TrustedKeyArns', 'RootCredentialsSecretArn']) {
      expect(outputs[name]).toBeDefined();
    }
    template.hasOutput('KmsKeyArn', { Value: { 'Fn::GetAtt': [Match.stringLikeRegexp('^KeysKey'), 'Arn'] } });
    template.hasOutput('ApiEndpoint', { Value: Match.objectLike({ 'Fn::Join': Match.anyValue() }) });
    expect(outputs['KeyPolicyStatementsForOwner']).toBeUndefined();
  });
});
