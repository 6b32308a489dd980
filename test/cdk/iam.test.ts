// Specification of least privilege: each function's role allows exactly the calls its code makes, on its own resources.
import { actionsOf, synth, type Resource, type Statement } from './synth';

/** Every action in every policy attached to the role whose logical id starts with `rolePrefix`. */
function roleActions(rolePrefix: string, template: ReturnType<typeof synth>['template']): { actions: Set<string>; statements: Statement[] } {
  const roles = Object.entries(template.findResources('AWS::IAM::Role')) as Array<[string, Resource]>;
  const match = roles.filter(([id]) => id.startsWith(rolePrefix));
  if (match.length !== 1) throw new Error(`expected one role ${rolePrefix}, found ${match.length}`);
  const [roleId, role] = match[0]!;
  expect(role.Properties['ManagedPolicyArns']).toBeUndefined();
  expect(role.Properties['Policies']).toBeUndefined();
  const policies = Object.values(template.findResources('AWS::IAM::Policy')) as Resource[];
  const attached = policies.filter((p) => JSON.stringify(p.Properties['Roles']) === JSON.stringify([{ Ref: roleId }]));
  const statements = attached.flatMap((p) => (p.Properties['PolicyDocument'] as { Statement: Statement[] }).Statement);
  for (const s of statements) expect(s.Effect).toBe('Allow');
  return { actions: new Set(statements.flatMap(actionsOf)), statements };
}

/** The encryption-context keys each statement that allows kms:Decrypt is conditioned on. */
function decryptContexts(statements: Statement[]): unknown[] {
  return statements.filter((s) => actionsOf(s).includes('kms:Decrypt')).map((s) => s.Condition?.['ForAllValues:StringEquals']?.['kms:EncryptionContextKeys']);
}

describe('API function role', () => {
  const { template } = synth();
  const { actions, statements } = roleActions('ApiFunctionRole', template);

  it('allows exactly what the API code calls', () => {
    expect([...actions].sort()).toEqual(
      [
        'logs:CreateLogStream',
        'logs:PutLogEvents',
        'kms:GenerateDataKey',
        'kms:Decrypt',
        'kms:Encrypt',
        'kms:ReEncryptFrom',
        'kms:ReEncryptTo',
        'kms:DescribeKey',
        'kms:DisableKey',
        'kms:EnableKey',
        'kms:ScheduleKeyDeletion',
        'kms:CancelKeyDeletion',
        'kms:EnableKeyRotation',
        'kms:GetKeyRotationStatus',
        'kms:RotateKeyOnDemand',
        'kms:ListAliases',
        's3:GetObject',
        's3:PutObject',
        's3:DeleteObject',
        's3:ListBucket',
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'dynamodb:DeleteItem',
        'dynamodb:UpdateItem',
        'dynamodb:Query',
        'dynamodb:ConditionCheckItem',
        'secretsmanager:GetSecretValue',
      ].sort(),
    );
  });

  it('never holds kms:CreateKey, wildcard actions or Scan', () => {
    expect(actions).not.toContain('kms:CreateKey');
    expect(actions).not.toContain('dynamodb:Scan');
    for (const a of actions) expect(a).not.toMatch(/\*/);
  });

  it('uses Resource "*" only for the account-level kms:ListAliases', () => {
    for (const s of statements) {
      if (s.Resource === '*' || (Array.isArray(s.Resource) && s.Resource.includes('*'))) expect(actionsOf(s)).toEqual(['kms:ListAliases']);
    }
  });

  it('conditions every context-carrying KMS call on a sealstore encryption context', () => {
    const contextual = statements.filter((s) => actionsOf(s).some((a) => ['kms:GenerateDataKey', 'kms:Decrypt', 'kms:Encrypt', 'kms:ReEncryptFrom', 'kms:ReEncryptTo'].includes(a)));
    expect(contextual).toHaveLength(3);
    for (const s of contextual) {
      expect(s.Condition?.['Null']).toEqual({ 'kms:EncryptionContextKeys': 'false' });
      expect(s.Condition?.['ForAllValues:StringEquals']).toBeDefined();
    }
  });

  it('reads only the root credentials secret', () => {
    const secret = statements.find((s) => actionsOf(s).includes('secretsmanager:GetSecretValue'));
    expect(JSON.stringify(secret?.Resource)).toMatch(/^\{"Ref":"RootCredentialsSecret[0-9A-F]{8}"\}$/);
  });

  it('queries the table and GSI1 by exact ARN, never index/*', () => {
    const query = statements.find((s) => actionsOf(s).includes('dynamodb:Query'));
    const text = JSON.stringify(query?.Resource);
    expect(text).toContain('/index/gsi1');
    expect(text).not.toContain('/index/*');
  });
});

describe('rotation function role', () => {
  const { template } = synth();
  const { actions, statements } = roleActions('RotationFunctionRole', template);

  it('allows exactly what the rotation code calls', () => {
    expect([...actions].sort()).toEqual(
      [
        'logs:CreateLogStream',
        'logs:PutLogEvents',
        'kms:DescribeKey',
        'kms:ReEncryptFrom',
        'kms:ReEncryptTo',
        'kms:Decrypt',
        'kms:EnableKeyRotation',
        'kms:GetKeyRotationStatus',
        'kms:RotateKeyOnDemand',
        'kms:ScheduleKeyDeletion',
        'kms:CancelKeyDeletion',
        'kms:EnableKey',
        's3:GetObject',
        's3:PutObject',
        's3:ListBucket',
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'dynamodb:UpdateItem',
        'dynamodb:DeleteItem',
        'dynamodb:Query',
        'dynamodb:ConditionCheckItem',
      ].sort(),
    );
  });

  it('can never see a plaintext data key or read the root credentials', () => {
    for (const a of ['kms:GenerateDataKey', 'kms:Encrypt', 'secretsmanager:GetSecretValue', 's3:DeleteObject']) expect(actions).not.toContain(a);
    // Decrypt only under the index key's encryption context: KMS refuses it for any data key's wrapped blob.
    expect(decryptContexts(statements)).toEqual([['sealstore:index-key']]);
  });

  it('has no Resource "*" at all', () => {
    for (const s of statements) expect(JSON.stringify(s.Resource)).not.toBe('"*"');
  });
});

describe('housekeeping function role', () => {
  const { template } = synth();
  const { actions, statements } = roleActions('HousekeepingFunctionRole', template);

  it('allows exactly what the housekeeping code calls', () => {
    expect([...actions].sort()).toEqual(
      [
        'logs:CreateLogStream',
        'logs:PutLogEvents',
        'kms:Decrypt',
        's3:DeleteObject',
        's3:ListBucket',
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'dynamodb:UpdateItem',
        'dynamodb:DeleteItem',
        'dynamodb:Query',
        'dynamodb:ConditionCheckItem',
      ].sort(),
    );
  });

  it('holds no KMS right but Decrypt of the index key, and cannot read ciphertext', () => {
    for (const a of actions) if (a !== 'kms:Decrypt') expect(a).not.toMatch(/^kms:/);
    expect(decryptContexts(statements)).toEqual([['sealstore:index-key']]);
    expect(actions).not.toContain('s3:GetObject');
    expect(actions).not.toContain('secretsmanager:GetSecretValue');
  });

  it('has no Resource "*" at all', () => {
    for (const s of statements) expect(JSON.stringify(s.Resource)).not.toBe('"*"');
  });
});
