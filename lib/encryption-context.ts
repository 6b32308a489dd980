// The KMS encryption-context keys sealstore binds to wrapped keys; the key policy and IAM conditions are built from them.

/** Data keys of objects: {'sealstore:bucket': bucket, 'sealstore:object': objectId}. */
export const DATA_KEY_CONTEXT_KEYS = ['sealstore:bucket', 'sealstore:object'] as const;

/** Secrets of S3 access keys the store issues: {'sealstore:access-key': accessKeyId}. */
export const ACCESS_KEY_CONTEXT_KEYS = ['sealstore:access-key'] as const;

/**
 * IAM condition blocks that admit a KMS call only when its encryption context uses exactly the keys of one
 * kind of wrapped secret. `ForAllValues` alone is satisfied by an empty context (an empty set is a subset
 * of anything), so `Null: false` additionally demands that a context be present. One condition block per
 * kind keeps a data-key context from being mixed with an access-key context in one call.
 */
export function contextConditions(keys: readonly string[]): Record<string, Record<string, unknown>> {
  return {
    'ForAllValues:StringEquals': { 'kms:EncryptionContextKeys': [...keys] },
    Null: { 'kms:EncryptionContextKeys': 'false' },
  };
}

/** Every kind of wrapped secret the store keeps under its CMKs. */
export const CONTEXT_KINDS = [
  { sid: 'DataKeys', keys: DATA_KEY_CONTEXT_KEYS },
  { sid: 'AccessKeySecrets', keys: ACCESS_KEY_CONTEXT_KEYS },
] as const;
