// Checks recorded AWS calls against the permissions a synthesized template grants: each call becomes the IAM
// authorisation requests AWS would make for it (action, resource ARN, and for KMS the encryption context keys),
// and each request must be allowed by an Allow statement of the role's policies — and, for KMS, also by the key
// policy, which here delegates nothing to IAM. Statements are read from the template, never typed in by hand.
import type { CfnTemplate } from './cloud-assembly';
import type { RecordedCall } from './recording-proxy';
import { MOTO_ACCOUNT } from './template-resources';
import { motoRegion } from './moto';

export interface PolicyStatement {
  readonly Sid?: string;
  readonly Effect: 'Allow' | 'Deny';
  readonly Action?: string | string[];
  readonly Resource?: string | string[];
  readonly Principal?: unknown;
  readonly Condition?: Record<string, Record<string, unknown>>;
}

export interface Permission {
  readonly action: string;
  readonly resource: string;
  /** The encryption context a KMS request carries (kms:EncryptionContextKeys), when it carries one. */
  readonly encryptionContext?: Record<string, string>;
  /** The call that needs it, for failure messages. */
  readonly call: string;
}

const asArray = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/** IAM's glob: `*` any run of characters, `?` one; actions compare case-insensitively. */
function globMatch(pattern: string, value: string, ignoreCase = false): boolean {
  const re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, ignoreCase ? 'i' : '');
  return re.test(value);
}

/** Evaluates the condition operators the template uses; any other operator fails loudly rather than guess. */
function conditionHolds(condition: PolicyStatement['Condition'], p: Permission): boolean {
  if (condition === undefined) return true;
  const contextKeys = p.encryptionContext === undefined ? undefined : Object.keys(p.encryptionContext);
  const valueOf = (key: string): string[] | undefined => {
    if (key === 'kms:EncryptionContextKeys') return contextKeys !== undefined && contextKeys.length > 0 ? contextKeys : undefined;
    throw new Error(`condition key ${key} is not evaluated by this test helper`);
  };
  for (const [operator, entries] of Object.entries(condition)) {
    for (const [key, expected] of Object.entries(entries)) {
      const wanted = asArray(expected as string | string[]).map(String);
      const actual = valueOf(key);
      if (operator === 'Null') {
        const isNull = actual === undefined;
        if (String(isNull) !== wanted[0]) return false;
      } else if (operator === 'ForAllValues:StringEquals') {
        if (!(actual ?? []).every((v) => wanted.includes(v))) return false;
      } else if (operator === 'ForAnyValue:StringEquals') {
        if (!(actual ?? []).some((v) => wanted.includes(v))) return false;
      } else {
        throw new Error(`condition operator ${operator} is not evaluated by this test helper`);
      }
    }
  }
  return true;
}

function matches(s: PolicyStatement, p: Permission): boolean {
  if (!asArray(s.Action).some((a) => globMatch(a, p.action, true))) return false;
  if (!asArray(s.Resource).some((r) => globMatch(r, p.resource))) return false;
  return conditionHolds(s.Condition, p);
}

/** Allowed when some Allow statement matches and no Deny does (IAM's evaluation, without SCPs or boundaries). */
export function allowedBy(statements: readonly PolicyStatement[], p: Permission): PolicyStatement | undefined {
  if (statements.some((s) => s.Effect === 'Deny' && matches(s, p))) return undefined;
  return statements.find((s) => s.Effect === 'Allow' && matches(s, p));
}

/** Every statement of every policy the template attaches to the role (AWS::IAM::Policy and the role's inline policies). */
export function rolePolicyStatements(template: CfnTemplate, roleLogicalId: string, resolve: (v: unknown) => unknown): PolicyStatement[] {
  const role = template.Resources[roleLogicalId];
  if (role?.Type !== 'AWS::IAM::Role') throw new Error(`${roleLogicalId} is not an AWS::IAM::Role`);
  if (asArray(role.Properties?.['ManagedPolicyArns'] as unknown[] | undefined).length > 0) {
    throw new Error(`${roleLogicalId} has managed policies; this check reads only the template's own statements`);
  }
  const docs: unknown[] = [];
  for (const inline of asArray(role.Properties?.['Policies'] as Array<{ PolicyDocument: unknown }> | undefined)) docs.push(inline.PolicyDocument);
  for (const r of Object.values(template.Resources)) {
    if (r.Type !== 'AWS::IAM::Policy') continue;
    const roles = asArray(r.Properties?.['Roles'] as Array<{ Ref?: string }> | undefined);
    if (roles.some((x) => x.Ref === roleLogicalId)) docs.push(r.Properties?.['PolicyDocument']);
  }
  return docs.flatMap((d) => asArray((resolve(d) as { Statement: PolicyStatement | PolicyStatement[] }).Statement));
}

/** The statements of each KMS key policy in the template whose principal is the role, by the key's logical id. */
export function keyPolicyStatements(template: CfnTemplate, roleLogicalId: string, resolve: (v: unknown) => unknown): Map<string, PolicyStatement[]> {
  const out = new Map<string, PolicyStatement[]>();
  for (const [id, r] of Object.entries(template.Resources)) {
    if (r.Type !== 'AWS::KMS::Key') continue;
    const statements = asArray((r.Properties?.['KeyPolicy'] as { Statement: PolicyStatement[] } | undefined)?.Statement);
    const mine = statements.filter((s) => {
      const principals = asArray((s.Principal as { AWS?: unknown } | undefined)?.AWS);
      return principals.some((pr) => JSON.stringify(pr) === JSON.stringify({ 'Fn::GetAtt': [roleLogicalId, 'Arn'] }));
    });
    out.set(id, mine.map((s) => resolve(s) as PolicyStatement));
  }
  return out;
}

const tableArn = (table: string) => `arn:aws:dynamodb:${motoRegion}:${MOTO_ACCOUNT}:table/${table}`;
const DDB_TRANSACT: Record<string, string> = { Put: 'PutItem', Update: 'UpdateItem', Delete: 'DeleteItem', ConditionCheck: 'ConditionCheckItem', Get: 'GetItem' };
const S3_ACTION: Record<string, string> = {
  GetObject: 's3:GetObject',
  HeadObject: 's3:GetObject',
  PutObject: 's3:PutObject',
  CreateMultipartUpload: 's3:PutObject',
  UploadPart: 's3:PutObject',
  CompleteMultipartUpload: 's3:PutObject',
  AbortMultipartUpload: 's3:AbortMultipartUpload',
  ListParts: 's3:ListMultipartUploadParts',
  DeleteObject: 's3:DeleteObject',
  ListObjectsV2: 's3:ListBucket',
  ListObjects: 's3:ListBucket',
  HeadBucket: 's3:ListBucket',
  ListMultipartUploads: 's3:ListBucketMultipartUploads',
  GetBucketLocation: 's3:GetBucketLocation',
};

/**
 * The authorisation requests AWS makes for one call. `keyArn` resolves a KeyId as a caller wrote it (id, ARN or
 * alias) to the key's ARN; KMS answers name the key they used, which wins when present.
 */
export function permissionsFor(call: RecordedCall, keyArn: (keyId: string) => string): Permission[] {
  const label = `${call.service}:${call.operation}`;
  const req = call.request ?? {};
  const res = call.response ?? {};
  if (call.service === 'dynamodb') {
    if (call.operation === 'TransactWriteItems' || call.operation === 'TransactGetItems') {
      return (req['TransactItems'] as Array<Record<string, { TableName: string }>>).flatMap((item) =>
        Object.entries(item).map(([kind, body]) => ({ action: `dynamodb:${DDB_TRANSACT[kind] ?? kind}`, resource: tableArn(body.TableName), call: label })),
      );
    }
    if (call.operation === 'BatchWriteItem') {
      return Object.entries(req['RequestItems'] as Record<string, Array<Record<string, unknown>>>).flatMap(([table, writes]) =>
        writes.map((w) => ({ action: 'PutRequest' in w ? 'dynamodb:PutItem' : 'dynamodb:DeleteItem', resource: tableArn(table), call: label })),
      );
    }
    const table = String(req['TableName']);
    const index = req['IndexName'];
    return [{ action: `dynamodb:${call.operation}`, resource: typeof index === 'string' ? `${tableArn(table)}/index/${index}` : tableArn(table), call: label }];
  }
  if (call.service === 'kms') {
    const context = (v: unknown) => (v === undefined ? {} : { encryptionContext: v as Record<string, string> });
    const key = (answered: unknown, asked: unknown) =>
      typeof answered === 'string' ? answered : typeof asked === 'string' ? keyArn(asked) : 'unknown-key';
    switch (call.operation) {
      case 'ReEncrypt':
        return [
          { action: 'kms:ReEncryptFrom', resource: key(res['SourceKeyId'], req['SourceKeyId']), ...context(req['SourceEncryptionContext']), call: label },
          { action: 'kms:ReEncryptTo', resource: key(res['KeyId'], req['DestinationKeyId']), ...context(req['DestinationEncryptionContext']), call: label },
        ];
      case 'ListAliases':
      case 'ListKeys':
      case 'CreateKey':
        return [{ action: `kms:${call.operation}`, resource: '*', call: label }];
      case 'DescribeKey':
        return [{ action: 'kms:DescribeKey', resource: key((res['KeyMetadata'] as { Arn?: string } | undefined)?.Arn, req['KeyId']), call: label }];
      default:
        return [{ action: `kms:${call.operation}`, resource: key(res['KeyId'], req['KeyId']), ...context(req['EncryptionContext']), call: label }];
    }
  }
  if (call.service === 's3') {
    const object = (bucket: string, k: string) => `arn:aws:s3:::${bucket}/${k}`;
    const bucket = call.bucket ?? '';
    if (call.operation === 'CopyObject' || call.operation === 'UploadPartCopy') {
      const source = (call.copySource ?? '').replace(/^\//, '').split('?')[0]!;
      return [
        { action: 's3:PutObject', resource: object(bucket, call.key ?? ''), call: label },
        { action: 's3:GetObject', resource: `arn:aws:s3:::${source}`, call: label },
      ];
    }
    if (call.operation === 'DeleteObjects') return (call.deleteKeys ?? []).map((k) => ({ action: 's3:DeleteObject', resource: object(bucket, k), call: label }));
    const action = S3_ACTION[call.operation];
    if (action === undefined) throw new Error(`no IAM action known for S3 ${call.operation}`);
    return [{ action, resource: call.key === undefined ? `arn:aws:s3:::${bucket}` : object(bucket, call.key), call: label }];
  }
  // Secrets Manager and anything else: the action is the operation; the resource the secret's ARN.
  const secretId = req['SecretId'];
  return [{ action: `${call.service}:${call.operation}`, resource: typeof secretId === 'string' ? secretId : '*', call: label }];
}
