// Creates in moto the stateful resources a synthesized template describes (KMS keys and aliases, DynamoDB tables
// with their key schema and GSIs, S3 buckets, generated Secrets Manager secrets), with the properties the template
// gives them, and resolves the template's intrinsic functions (Ref, Fn::GetAtt, Fn::Join, Fn::Sub) against what was
// created: so a function's environment and its role's policy read as they would once deployed.
import { CreateTableCommand, type CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
import { CreateAliasCommand, CreateKeyCommand, EnableKeyRotationCommand } from '@aws-sdk/client-kms';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { randomBytes } from 'node:crypto';
import type { AwsClients } from '../../lambdas/adapters/aws/config';
import type { CfnTemplate, CfnValue } from './cloud-assembly';
import { motoCredentials, motoRegion } from './moto';

export const MOTO_ACCOUNT = '123456789012';

interface Created {
  readonly ref: string;
  readonly attributes: Record<string, string>;
}

export interface DeployedResources {
  /** Resolves a template value (intrinsics included); a resource this file did not create resolves to `unresolved:<id>`. */
  resolve(value: CfnValue): unknown;
  readonly byLogicalId: ReadonlyMap<string, Created>;
  /** The generated secret values, by the secret's logical id. */
  readonly secrets: ReadonlyMap<string, string>;
}

const props = (template: CfnTemplate, id: string): Record<string, CfnValue> => template.Resources[id]?.Properties ?? {};

export async function deployTemplateResources(template: CfnTemplate, clients: AwsClients, endpoint: string): Promise<DeployedResources> {
  const created = new Map<string, Created>();
  const secrets = new Map<string, string>();
  const suffix = randomBytes(3).toString('hex');
  const pseudo: Record<string, string> = {
    'AWS::Region': motoRegion,
    'AWS::AccountId': MOTO_ACCOUNT,
    'AWS::Partition': 'aws',
    'AWS::URLSuffix': 'amazonaws.com',
    'AWS::StackName': 'Sealstore',
  };

  const resolve = (value: CfnValue): unknown => {
    if (Array.isArray(value)) return value.map(resolve);
    if (value === null || typeof value !== 'object') return value;
    const o = value as Record<string, CfnValue>;
    const keys = Object.keys(o);
    if (keys.length === 1) {
      const [fn] = keys as [string];
      const arg = o[fn];
      if (fn === 'Ref') {
        const name = String(arg);
        return pseudo[name] ?? created.get(name)?.ref ?? `unresolved:${name}`;
      }
      if (fn === 'Fn::GetAtt') {
        const [id, attribute] = arg as [string, string];
        return created.get(id)?.attributes[attribute] ?? `unresolved:${id}.${attribute}`;
      }
      if (fn === 'Fn::Join') {
        const [sep, parts] = arg as [string, CfnValue[]];
        return parts.map((p) => String(resolve(p))).join(sep);
      }
      if (fn === 'Fn::Sub' && typeof arg === 'string') {
        return arg.replace(/\$\{([^}]+)\}/g, (_m, name: string) => {
          const [id, attribute] = name.split('.');
          return String(attribute === undefined ? resolve({ Ref: id }) : resolve({ 'Fn::GetAtt': [id, attribute] }));
        });
      }
      if (fn.startsWith('Fn::') || fn === 'Condition') throw new Error(`intrinsic ${fn} is not supported by this test helper`);
    }
    return Object.fromEntries(keys.map((k) => [k, resolve(o[k])]));
  };

  const ofType = (type: string) => Object.entries(template.Resources).filter(([, r]) => r.Type === type).map(([id]) => id);

  for (const id of ofType('AWS::KMS::Key')) {
    const p = props(template, id);
    const out = await clients.kms.send(
      new CreateKeyCommand({
        Description: typeof p['Description'] === 'string' ? p['Description'] : `sealstore test key ${id}`,
        KeySpec: (p['KeySpec'] as 'SYMMETRIC_DEFAULT' | undefined) ?? 'SYMMETRIC_DEFAULT',
        KeyUsage: (p['KeyUsage'] as 'ENCRYPT_DECRYPT' | undefined) ?? 'ENCRYPT_DECRYPT',
      }),
    );
    const meta = out.KeyMetadata!;
    if (p['EnableKeyRotation'] === true) {
      const period = p['RotationPeriodInDays'];
      await clients.kms.send(new EnableKeyRotationCommand({ KeyId: meta.KeyId, ...(typeof period === 'number' && { RotationPeriodInDays: period }) }));
    }
    created.set(id, { ref: meta.KeyId!, attributes: { Arn: meta.Arn!, KeyId: meta.KeyId! } });
  }
  for (const id of ofType('AWS::KMS::Alias')) {
    const p = props(template, id);
    const aliasName = String(resolve(p['AliasName']));
    await clients.kms.send(new CreateAliasCommand({ AliasName: aliasName, TargetKeyId: String(resolve(p['TargetKeyId'])) }));
    created.set(id, { ref: aliasName, attributes: {} });
  }
  for (const id of ofType('AWS::DynamoDB::Table')) {
    const p = props(template, id);
    const tableName = typeof p['TableName'] === 'string' ? p['TableName'] : `sealstore-${id.toLowerCase()}-${suffix}`;
    const input = {
      TableName: tableName,
      KeySchema: p['KeySchema'],
      AttributeDefinitions: p['AttributeDefinitions'],
      BillingMode: p['BillingMode'] ?? 'PROVISIONED',
      ...(p['GlobalSecondaryIndexes'] !== undefined && { GlobalSecondaryIndexes: p['GlobalSecondaryIndexes'] }),
      ...(p['LocalSecondaryIndexes'] !== undefined && { LocalSecondaryIndexes: p['LocalSecondaryIndexes'] }),
      ...(p['ProvisionedThroughput'] !== undefined && { ProvisionedThroughput: p['ProvisionedThroughput'] }),
    } as CreateTableCommandInput;
    const out = await clients.dynamodb.send(new CreateTableCommand(input));
    created.set(id, { ref: tableName, attributes: { Arn: out.TableDescription!.TableArn!, StreamArn: out.TableDescription!.LatestStreamArn ?? '' } });
  }
  for (const id of ofType('AWS::S3::Bucket')) {
    const p = props(template, id);
    const bucket = typeof p['BucketName'] === 'string' ? p['BucketName'] : `sealstore-${id.toLowerCase().slice(0, 30)}-${suffix}`;
    await clients.s3.send(new CreateBucketCommand({ Bucket: bucket }));
    created.set(id, { ref: bucket, attributes: { Arn: `arn:aws:s3:::${bucket}`, DomainName: `${bucket}.s3.amazonaws.com` } });
  }
  const secretsManager = new SecretsManagerClient({ endpoint, region: motoRegion, credentials: motoCredentials });
  try {
    for (const id of ofType('AWS::SecretsManager::Secret')) {
      const p = props(template, id);
      const generate = p['GenerateSecretString'] as
        | { SecretStringTemplate?: string; GenerateStringKey?: string; PasswordLength?: number; ExcludePunctuation?: boolean }
        | undefined;
      let secretString = typeof p['SecretString'] === 'string' ? p['SecretString'] : undefined;
      if (generate !== undefined) {
        const length = generate.PasswordLength ?? 32;
        // Letters and digits: what ExcludePunctuation with IncludeSpace false leaves.
        const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
        const password = Array.from(randomBytes(length), (b) => alphabet[b % alphabet.length]).join('');
        secretString =
          generate.SecretStringTemplate !== undefined && generate.GenerateStringKey !== undefined
            ? JSON.stringify({ ...(JSON.parse(generate.SecretStringTemplate) as object), [generate.GenerateStringKey]: password })
            : password;
      }
      const name = typeof p['Name'] === 'string' ? p['Name'] : `sealstore-${id}-${suffix}`;
      const out = await secretsManager.send(new CreateSecretCommand({ Name: name, SecretString: secretString }));
      created.set(id, { ref: out.ARN!, attributes: { Id: out.ARN! } });
      if (secretString !== undefined) secrets.set(id, secretString);
    }
  } finally {
    secretsManager.destroy();
  }
  return { resolve, byLogicalId: created, secrets };
}
