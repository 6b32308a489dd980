// Specification of the blob bucket, the index table and the root credentials secret.
import { Match } from 'aws-cdk-lib/assertions';
import { only, synth, type Resource, type Statement } from './synth';

function blobBucket(template: ReturnType<typeof synth>['template']): [string, Resource] {
  const found = (Object.entries(template.findResources('AWS::S3::Bucket')) as Array<[string, Resource]>).filter(([id]) => /^Blobs[0-9A-F]{8}$/.test(id));
  if (found.length !== 1) throw new Error('expected one blob bucket');
  return found[0]!;
}

describe('BlobBucket', () => {
  const { template } = synth();
  const [bucketId, bucket] = blobBucket(template);

  it('blocks all public access and enforces bucket-owner ownership', () => {
    expect(bucket.Properties).toMatchObject({
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
    });
  });

  it('denies every request without TLS, and TLS below 1.2', () => {
    const policies = Object.values(template.findResources('AWS::S3::BucketPolicy')) as Resource[];
    const mine = policies.find((p) => JSON.stringify(p.Properties['Bucket']) === JSON.stringify({ Ref: bucketId }));
    const statements = (mine?.Properties['PolicyDocument'] as { Statement: Statement[] }).Statement;
    expect(statements).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ Effect: 'Deny', Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        expect.objectContaining({ Effect: 'Deny', Action: 's3:*', Condition: { NumericLessThan: { 's3:TlsVersion': 1.2 } } }),
      ]),
    );
  });

  it('keeps versioning off (crypto-shredding) and aborts abandoned multipart uploads', () => {
    expect(bucket.Properties['VersioningConfiguration']).toBeUndefined();
    expect(bucket.Properties['LifecycleConfiguration']).toEqual({
      Rules: [{ Id: 'abort-incomplete-multipart', AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 }, Status: 'Enabled' }],
    });
  });

  it('is retained with the stack', () => {
    template.hasResource('AWS::S3::Bucket', { DeletionPolicy: 'Retain', Properties: Match.objectLike({ LoggingConfiguration: Match.anyValue() }) });
  });

  it('writes server access logs to a private, expiring log bucket by default', () => {
    expect(bucket.Properties['LoggingConfiguration']).toEqual({
      DestinationBucketName: { Ref: expect.stringMatching(/^BlobsAccessLogs[0-9A-F]{8}$/) },
      LogFilePrefix: 'blobs/',
    });
    template.hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: { Rules: [Match.objectLike({ ExpirationInDays: 365 })] },
      PublicAccessBlockConfiguration: Match.objectLike({ BlockPublicAcls: true }),
    });
    template.resourceCountIs('AWS::CloudTrail::Trail', 0);
  });

  it('records S3 data events in CloudTrail instead, when asked', () => {
    const trail = synth({ blobAccessLogging: 'cloudtrail-data-events' }).template;
    const [, b] = blobBucket(trail);
    expect(b.Properties['LoggingConfiguration']).toBeUndefined();
    const [, t] = only(trail, 'AWS::CloudTrail::Trail');
    expect(t.Properties).toMatchObject({ IsLogging: true, IsMultiRegionTrail: false, IncludeGlobalServiceEvents: false, EnableLogFileValidation: true });
    expect(JSON.stringify(t.Properties['EventSelectors'])).toContain('AWS::S3::Object');
  });

  it('can run without access logging', () => {
    const none = synth({ blobAccessLogging: 'none' }).template;
    expect(blobBucket(none)[1].Properties['LoggingConfiguration']).toBeUndefined();
    none.resourceCountIs('AWS::S3::Bucket', 1);
  });
});

describe('ObjectTable', () => {
  const { template } = synth({ tableName: 'sealstore-index' });
  const [, table] = only(template, 'AWS::DynamoDB::Table');

  it('is one table keyed pk/sk with GSI gsi1 (gsi1pk/gsi1sk, all attributes)', () => {
    expect(table.Properties).toMatchObject({
      TableName: 'sealstore-index',
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      GlobalSecondaryIndexes: [
        {
          IndexName: 'gsi1',
          KeySchema: [
            { AttributeName: 'gsi1pk', KeyType: 'HASH' },
            { AttributeName: 'gsi1sk', KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        },
      ],
    });
    expect(table.Properties['AttributeDefinitions']).toEqual(
      expect.arrayContaining(['pk', 'sk', 'gsi1pk', 'gsi1sk'].map((AttributeName) => ({ AttributeName, AttributeType: 'S' }))),
    );
  });

  it('is pay-per-request, with point-in-time recovery and deletion protection, and retained', () => {
    expect(table.Properties).toMatchObject({
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      DeletionProtectionEnabled: true,
    });
    template.hasResource('AWS::DynamoDB::Table', { DeletionPolicy: 'Retain' });
  });
});

describe('RootCredentials', () => {
  const { template, stack } = synth();

  it('generates {accessKeyId, secretAccessKey} with a 40-character secret, retained', () => {
    const [, secret] = only(template, 'AWS::SecretsManager::Secret');
    const gen = secret.Properties['GenerateSecretString'] as { SecretStringTemplate: string; GenerateStringKey: string; PasswordLength: number };
    expect(JSON.parse(gen.SecretStringTemplate)).toEqual({ accessKeyId: stack.rootCredentials.accessKeyId });
    expect(stack.rootCredentials.accessKeyId).toMatch(/^SEAL[0-9A-F]{16}$/);
    expect(gen.GenerateStringKey).toBe('secretAccessKey');
    expect(gen.PasswordLength).toBe(40);
    template.hasResource('AWS::SecretsManager::Secret', { DeletionPolicy: 'Retain' });
  });

  it('rejects a malformed root access key id', () => {
    expect(() => synth({ rootAccessKeyId: 'short' })).toThrow(/root access key id/);
  });
});
