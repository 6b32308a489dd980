// Specification of the store's CMK: key material, rotation, retention, and a key policy that separates duties.
import { Duration } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { actionsOf, only, synth, type Statement } from './synth';

const DATA_ACTIONS = ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey', 'kms:ReEncryptFrom', 'kms:ReEncryptTo', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:*'];

describe('StoreKeys (created CMK)', () => {
  const { template } = synth({ keyRotationPeriod: Duration.days(180), keyPendingWindow: Duration.days(14) });
  const [keyId, key] = only(template, 'AWS::KMS::Key');
  const statements = (key.Properties.KeyPolicy as { Statement: Statement[] }).Statement;

  it('is a symmetric encrypt/decrypt key with AWS-generated material, rotating on the configured period', () => {
    expect(key.Properties).toMatchObject({
      KeySpec: 'SYMMETRIC_DEFAULT',
      KeyUsage: 'ENCRYPT_DECRYPT',
      Origin: 'AWS_KMS',
      EnableKeyRotation: true,
      RotationPeriodInDays: 180,
      PendingWindowInDays: 14,
    });
  });

  it('is retained when the stack is deleted', () => {
    template.hasResource('AWS::KMS::Key', { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
  });

  it('has an alias named after the stack by default', () => {
    template.hasResourceProperties('AWS::KMS::Alias', { AliasName: 'alias/sealstore/Sealstore', TargetKeyId: { 'Fn::GetAtt': [keyId, 'Arn'] } });
  });

  it('lets administrators manage the key but never use it, nor grant its use', () => {
    const admin = statements.find((s) => s.Sid === 'KeyAdministration');
    expect(admin).toBeDefined();
    const actions = actionsOf(admin!);
    for (const a of ['kms:PutKeyPolicy', 'kms:ScheduleKeyDeletion', 'kms:EnableKeyRotation', 'kms:DisableKey']) expect(actions).toContain(a);
    for (const a of [...DATA_ACTIONS, 'kms:CreateGrant']) expect(actions).not.toContain(a);
    expect(actions.some((a) => a.includes('*'))).toBe(false);
  });

  it('never allows kms:* to anyone (no CDK default root policy)', () => {
    for (const s of statements) expect(actionsOf(s)).not.toContain('kms:*');
  });

  it('admits data use only by the functions’ roles, and only with a sealstore encryption context', () => {
    const using = statements.filter((s) => actionsOf(s).some((a) => DATA_ACTIONS.includes(a)));
    expect(using.length).toBeGreaterThan(0);
    for (const s of using) {
      expect(JSON.stringify(s.Principal)).toMatch(/(ApiFunction|RotationFunction|HousekeepingFunction)Role[0-9A-F]{8}/);
      expect(s.Condition?.['Null']).toEqual({ 'kms:EncryptionContextKeys': 'false' });
      const keys = s.Condition?.['ForAllValues:StringEquals']?.['kms:EncryptionContextKeys'];
      expect([['sealstore:bucket', 'sealstore:object'], ['sealstore:access-key'], ['sealstore:index-key']]).toContainEqual(keys);
    }
  });

  it('gives the rotation function rewrap rights, and Decrypt of the index key alone: never of a data key, never Encrypt or GenerateDataKey', () => {
    const rotation = statements.filter((s) => JSON.stringify(s.Principal).includes('RotationFunctionRole'));
    const actions = new Set(rotation.flatMap(actionsOf));
    expect(actions).toContain('kms:ReEncryptFrom');
    expect(actions).toContain('kms:ReEncryptTo');
    for (const a of ['kms:Encrypt', 'kms:GenerateDataKey']) expect(actions).not.toContain(a);
    const decrypting = rotation.filter((s) => actionsOf(s).includes('kms:Decrypt'));
    expect(decrypting).toHaveLength(1);
    expect(decrypting[0]?.Condition?.['ForAllValues:StringEquals']?.['kms:EncryptionContextKeys']).toEqual(['sealstore:index-key']);
  });

  it('lets the housekeeping function Decrypt the index key and nothing else', () => {
    const housekeeping = statements.filter((s) => JSON.stringify(s.Principal).includes('HousekeepingFunctionRole'));
    expect(housekeeping.flatMap(actionsOf)).toEqual(['kms:Decrypt']);
    expect(housekeeping[0]?.Condition?.['ForAllValues:StringEquals']?.['kms:EncryptionContextKeys']).toEqual(['sealstore:index-key']);
  });

  it('covers every context kind for the API function, so data keys, access-key secrets and the index key all work', () => {
    const sids = statements.map((s) => s.Sid);
    expect(sids).toEqual(
      expect.arrayContaining(['ApiFunctionDataKeys', 'ApiFunctionAccessKeySecrets', 'ApiFunctionIndexKey', 'RotationFunctionDataKeys', 'RotationFunctionIndexKey']),
    );
  });

  it('uses the default 365-day rotation and 30-day pending window when not configured', () => {
    const defaults = synth();
    defaults.template.hasResourceProperties('AWS::KMS::Key', { RotationPeriodInDays: 365, PendingWindowInDays: 30 });
  });
});

describe('StoreKeys (brought CMK)', () => {
  const existing = 'arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
  const older = 'arn:aws:kms:eu-west-1:111122223333:key/0000abcd-12ab-34cd-56ef-1234567890ab';
  const { template } = synth({ existingKeyArn: existing, additionalTrustedKeyArns: [older] });

  it('creates no key and no alias', () => {
    template.resourceCountIs('AWS::KMS::Key', 0);
    template.resourceCountIs('AWS::KMS::Alias', 0);
  });

  it('points both functions at the brought key and trusts the older one too', () => {
    template.allResourcesProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ SEALSTORE_KMS_KEY_ID: existing, SEALSTORE_TRUSTED_KEY_IDS: `${existing},${older}` }) },
    });
  });

  it('grants usage through IAM on exactly the trusted keys', () => {
    const policies = Object.values(template.findResources('AWS::IAM::Policy')) as Array<{ Properties: { PolicyDocument: { Statement: Statement[] } } }>;
    const kms = policies.flatMap((p) => p.Properties.PolicyDocument.Statement).filter((s) => actionsOf(s).some((a) => a.startsWith('kms:')));
    expect(kms.length).toBeGreaterThan(0);
    for (const s of kms) {
      if (s.Sid === 'KmsListAliases') expect(s.Resource).toBe('*');
      else expect([...(s.Resource as string[])].sort()).toEqual([existing, older].sort());
    }
  });

  it('publishes the key-policy statements the owner must add, naming the function roles', () => {
    const outputs = template.findOutputs('KeyPolicyStatementsForOwner');
    const text = JSON.stringify(outputs);
    expect(text).toContain('ApiFunctionDataKeys');
    expect(text).toContain('RotationFunctionDataKeys');
    expect(text).toContain('kms:EncryptionContextKeys');
    expect(text).toMatch(/ApiFunctionRole[0-9A-F]{8}/);
  });
});

describe('StoreKeys (created CMK and additional trusted keys)', () => {
  const older = ['arn:aws:kms:eu-west-1:111122223333:key/0000abcd-12ab-34cd-56ef-1234567890ab', 'arn:aws:kms:eu-west-1:111122223333:key/1111abcd-12ab-34cd-56ef-1234567890ab'];
  const { template } = synth({ additionalTrustedKeyArns: older });

  it('publishes, for each additional trusted key, the key-policy statements its owner must add, naming the key and the roles', () => {
    const outputs = template.findOutputs('*') as Record<string, { Description?: string; Value: unknown }>;
    const forTrusted = Object.entries(outputs).filter(([id]) => id.startsWith('KeyPolicyStatementsForTrustedKey'));
    expect(forTrusted.map(([id, o]) => [id, o.Description])).toEqual(
      older.map((arn, i) => [`KeyPolicyStatementsForTrustedKey${i + 1}`, `Add these statements to the key policy of the additional trusted key ${arn}`]),
    );
    for (const [, output] of forTrusted) {
      const text = JSON.stringify(output.Value);
      for (const sid of ['ApiFunctionDataKeys', 'ApiFunctionAccessKeySecrets', 'ApiFunctionIndexKey', 'RotationFunctionDataKeys', 'RotationFunctionIndexKey', 'HousekeepingFunctionIndexKey']) {
        expect(text).toContain(sid);
      }
      expect(text).toContain('kms:EncryptionContextKeys');
      expect(text).toMatch(/ApiFunctionRole[0-9A-F]{8}/);
      expect(text).not.toContain('KeyAdministration');
    }
    // The created key's own policy has the statements already: no owner output for it.
    expect(outputs['KeyPolicyStatementsForOwner']).toBeUndefined();
  });

  it('publishes no key-policy output when the created key is the only trusted one', () => {
    expect(Object.keys(synth().template.findOutputs('*')).filter((id) => id.startsWith('KeyPolicyStatements'))).toEqual([]);
  });
});

describe('StoreKeys validation', () => {
  it('rejects a pending window under 7 days', () => {
    expect(() => synth({ keyPendingWindow: Duration.days(6) })).toThrow(/pending window must be 7–30 days/);
  });
  it('rejects a rotation period KMS would refuse', () => {
    expect(() => synth({ keyRotationPeriod: Duration.days(30) })).toThrow(/rotation period must be 90–2560 days/);
  });
  it('rejects something that is not a key ARN', () => {
    expect(() => synth({ existingKeyArn: 'alias/mine' })).toThrow(/is not a KMS key ARN/);
  });
  it('rejects an alias in the reserved alias/aws/ namespace', () => {
    expect(() => synth({ keyAlias: 'alias/aws/s3' })).toThrow(/invalid key alias/);
  });
});
