// The KMS encryption-context keys of every kind of secret the store wraps under its CMKs. One definition: the
// code that wraps and unwraps (core) and the key policy and IAM conditions that admit those calls (lib/) both
// read it from here, so the two cannot drift apart (a drift would make KMS refuse every call).

/** Data keys of objects: {'sealstore:bucket': bucket, 'sealstore:object': objectId}. */
export const DATA_KEY_CONTEXT_KEYS = ['sealstore:bucket', 'sealstore:object'] as const;

/** Secrets of the S3 access keys the store issues: {'sealstore:access-key': accessKeyId}. */
export const ACCESS_KEY_CONTEXT_KEY = 'sealstore:access-key';

/** The index key, which every index row's MAC is keyed from: {'sealstore:index-key': 'v1'}. */
export const INDEX_KEY_CONTEXT_KEY = 'sealstore:index-key';
