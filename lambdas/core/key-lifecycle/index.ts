// The key lifecycle: key-state records, the scheduled job (rotate, rewrap, retire) and the operator actions.
export { KeyLifecycle, type KeyLifecycleDeps, type KeyView, type ScheduledDeletion } from './lifecycle';
export { type DeletionImpactPage, type DeletionImpactTotals, type ImpactedObject, type ImpactedUpload } from './deletion-impact';
export { DEFAULT_LIFECYCLE_CONFIG, lifecycleConfigFromEnv, validateLifecycleConfig, type LifecycleConfig } from './config';
export { KeyStateStore, type KeyRole, type KeyStateRecord } from './key-state';
export { IndexedActiveKeySource, ensureBootstrapped } from './active-key';
export { RotationJob, type SealedSecrets } from './rotation-job';
export { rewrapObject, isCurrent, type RewrapHooks } from './rewrap';
export { metricsLine, type JobReport } from './report';
export { Lease } from './lease';
