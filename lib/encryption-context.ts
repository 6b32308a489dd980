// The KMS encryption-context keys sealstore binds to wrapped keys (defined once, beside the code that wraps with
// them); the key policy and IAM conditions are built from them.
import { ACCESS_KEY_CONTEXT_KEY, DATA_KEY_CONTEXT_KEYS, INDEX_KEY_CONTEXT_KEY } from '../lambdas/core/encryption-context';

export { DATA_KEY_CONTEXT_KEYS } from '../lambdas/core/encryption-context';
export const ACCESS_KEY_CONTEXT_KEYS = [ACCESS_KEY_CONTEXT_KEY] as const;
export const INDEX_KEY_CONTEXT_KEYS = [INDEX_KEY_CONTEXT_KEY] as const;

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
  { sid: 'IndexKey', keys: INDEX_KEY_CONTEXT_KEYS },
] as const;

