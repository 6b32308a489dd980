// Turns CDK context (cdk.json or `-c key=value`, always strings from the CLI) into SealstoreStackProps.
import { Duration } from 'aws-cdk-lib';
import type { Node } from 'constructs';
import { BLOB_ACCESS_LOGGING_MODES, type BlobAccessLogging } from './blob-bucket';
import type { SealstoreStackProps } from './sealstore-stack';

/** Every context key the app reads, with its meaning; docs/DEPLOY.md lists the same. */
export const CONTEXT_KEYS = {
  stackName: 'sealstore:stackName',
  keyAlias: 'sealstore:keyAlias',
  existingKeyArn: 'sealstore:existingKeyArn',
  additionalTrustedKeyArns: 'sealstore:additionalTrustedKeyArns',
  keyAdminArns: 'sealstore:keyAdminArns',
  keyRotationPeriodDays: 'sealstore:keyRotationPeriodDays',
  keyPendingWindowDays: 'sealstore:keyPendingWindowDays',
  rotationSchedule: 'sealstore:rotationSchedule',
  housekeepingSchedule: 'sealstore:housekeepingSchedule',
  uploadMaxAgeDays: 'sealstore:uploadMaxAgeDays',
  logRetentionDays: 'sealstore:logRetentionDays',
  blobAccessLogging: 'sealstore:blobAccessLogging',
  bucketName: 'sealstore:bucketName',
  tableName: 'sealstore:tableName',
  stageName: 'sealstore:stageName',
  throttlingRateLimit: 'sealstore:throttlingRateLimit',
  throttlingBurstLimit: 'sealstore:throttlingBurstLimit',
  apiMemorySize: 'sealstore:apiMemorySize',
  apiTimeoutSeconds: 'sealstore:apiTimeoutSeconds',
  bundle: 'sealstore:bundle',
  manageApiGatewayAccountRole: 'sealstore:manageApiGatewayAccountRole',
  webAclArn: 'sealstore:webAclArn',
  nag: 'sealstore:nag',
} as const;

type Raw = unknown;

function str(node: Node, key: string): string | undefined {
  const v: Raw = node.tryGetContext(key);
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') {
    throw new Error(`sealstore: context ${key} must be a string, number or boolean`);
  }
  return String(v).trim();
}

function num(node: Node, key: string): number | undefined {
  const s = str(node, key);
  if (s === undefined) return undefined;
  const n = Number(s);
  if (!Number.isFinite(n) || !Number.isInteger(n) || n <= 0) throw new Error(`sealstore: context ${key} must be a positive integer (got '${s}')`);
  return n;
}

/** Reads a boolean context flag; `undefined` when absent. */
export function flag(node: Node, key: string): boolean | undefined {
  const s = str(node, key);
  if (s === undefined) return undefined;
  if (s === 'true') return true;
  if (s === 'false') return false;
  throw new Error(`sealstore: context ${key} must be true or false (got '${s}')`);
}

function list(node: Node, key: string): string[] | undefined {
  const v: Raw = node.tryGetContext(key);
  if (Array.isArray(v)) return v.map((x) => String(x).trim()).filter((x) => x !== '');
  const s = str(node, key);
  return s === undefined ? undefined : s.split(',').map((x) => x.trim()).filter((x) => x !== '');
}

export function stackNameFromContext(node: Node): string {
  return str(node, CONTEXT_KEYS.stackName) ?? 'Sealstore';
}

export function stackPropsFromContext(node: Node): SealstoreStackProps {
  const K = CONTEXT_KEYS;
  const logging = str(node, K.blobAccessLogging);
  if (logging !== undefined && !(BLOB_ACCESS_LOGGING_MODES as readonly string[]).includes(logging)) {
    throw new Error(`sealstore: context ${K.blobAccessLogging} must be one of ${BLOB_ACCESS_LOGGING_MODES.join(', ')} (got '${logging}')`);
  }
  const rotationDays = num(node, K.keyRotationPeriodDays);
  const pendingDays = num(node, K.keyPendingWindowDays);
  const apiTimeout = num(node, K.apiTimeoutSeconds);
  const uploadDays = num(node, K.uploadMaxAgeDays);
  const values: { [P in keyof SealstoreStackProps]: SealstoreStackProps[P] | undefined } = {
    keyAlias: str(node, K.keyAlias),
    existingKeyArn: str(node, K.existingKeyArn),
    additionalTrustedKeyArns: list(node, K.additionalTrustedKeyArns),
    keyAdminArns: list(node, K.keyAdminArns),
    keyRotationPeriod: rotationDays === undefined ? undefined : Duration.days(rotationDays),
    keyPendingWindow: pendingDays === undefined ? undefined : Duration.days(pendingDays),
    rotationSchedule: str(node, K.rotationSchedule),
    housekeepingSchedule: str(node, K.housekeepingSchedule),
    uploadMaxAge: uploadDays === undefined ? undefined : Duration.days(uploadDays),
    logRetentionDays: num(node, K.logRetentionDays),
    blobAccessLogging: logging as BlobAccessLogging | undefined,
    bucketName: str(node, K.bucketName),
    tableName: str(node, K.tableName),
    stageName: str(node, K.stageName),
    throttlingRateLimit: num(node, K.throttlingRateLimit),
    throttlingBurstLimit: num(node, K.throttlingBurstLimit),
    apiMemorySize: num(node, K.apiMemorySize),
    apiTimeout: apiTimeout === undefined ? undefined : Duration.seconds(apiTimeout),
    bundle: flag(node, K.bundle),
    manageApiGatewayAccountRole: flag(node, K.manageApiGatewayAccountRole),
    webAclArn: str(node, K.webAclArn),
  };
  // Drop the unset keys so the stack's documented defaults apply (exactOptionalPropertyTypes-friendly).
  return Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined));
}
