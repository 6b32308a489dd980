// Settings of the key lifecycle, with KMS's bounds; from the environment they fail at start naming the variable.
import { ENV as NAMES, OPTIONAL_ENV } from '../deployment-names';

export interface LifecycleConfig {
  /** Automatic rotation period kept on the active CMK, and the on-demand rotation period. KMS: 90..2560. @default 365 */
  readonly rotationPeriodDays: number;
  /** Pending window when a retired CMK's deletion is scheduled. KMS: 7..30. @default 30 */
  readonly pendingWindowDays: number;
  /** Most data keys rewrapped (KMS ReEncrypt calls) per run. @default 1000 */
  readonly batchSize: number;
  /** Index items read per page of a rewrap pass. @default 100 */
  readonly pageSize: number;
  /** Counting objects per CMK stops here; the figure is then a lower bound. @default 100000 */
  readonly countCap: number;
  /**
   * How long a CMK stays retiring after its last object left before it is retired. Covers a PUT that took
   * its data key from the old CMK just before the rollover (a request lives at most 15 minutes in Lambda) and
   * API containers whose cached active key is older than the rollover. @default 20 minutes
   */
  readonly retireGraceMs: number;
  /** Lifetime of the job's lease; renewed after every page. @default 5 minutes */
  readonly leaseTtlMs: number;
  /** How long API containers cache which CMK is active. @default 10 seconds */
  readonly activeKeyCacheMs: number;
}

/**
 * `keys ls` counts a CMK the lifecycle job has not counted yet (it runs hourly), so the list never shows a blank:
 * at most this many objects per CMK, a few index pages, then the figure shows as a lower bound.
 */
export const ON_DEMAND_COUNT_CAP = 10_000;

export const DEFAULT_LIFECYCLE_CONFIG: LifecycleConfig = {
  rotationPeriodDays: 365,
  pendingWindowDays: 30,
  batchSize: 1000,
  pageSize: 100,
  countCap: 100_000,
  retireGraceMs: 20 * 60 * 1000,
  leaseTtlMs: 5 * 60 * 1000,
  activeKeyCacheMs: 10 * 1000,
};

export function validateLifecycleConfig(c: LifecycleConfig): LifecycleConfig {
  const int = (name: string, v: number, min: number, max = Number.MAX_SAFE_INTEGER) => {
    if (!Number.isInteger(v) || v < min || v > max) throw new Error(`${name} must be an integer in ${min}..${max}, got ${v}`);
  };
  int('rotationPeriodDays', c.rotationPeriodDays, 90, 2560);
  // Never shorter than KMS's own minimum: a CMK must stay recoverable for at least a week.
  int('pendingWindowDays', c.pendingWindowDays, 7, 30);
  int('batchSize', c.batchSize, 1);
  int('pageSize', c.pageSize, 1, 1000);
  int('countCap', c.countCap, 1);
  int('retireGraceMs', c.retireGraceMs, 0);
  int('leaseTtlMs', c.leaseTtlMs, 1000);
  int('activeKeyCacheMs', c.activeKeyCacheMs, 0);
  return c;
}

const ENV: ReadonlyArray<[keyof LifecycleConfig, string, number]> = [
  ['rotationPeriodDays', NAMES.rotationPeriodDays, 1],
  ['pendingWindowDays', NAMES.pendingWindowDays, 1],
  ['batchSize', OPTIONAL_ENV.rewrapBatchSize, 1],
  ['retireGraceMs', OPTIONAL_ENV.retireGraceSeconds, 1000],
];

/** Reads SEALSTORE_ROTATION_PERIOD_DAYS, SEALSTORE_PENDING_WINDOW_DAYS, SEALSTORE_REWRAP_BATCH_SIZE, SEALSTORE_RETIRE_GRACE_SECONDS. */
export function lifecycleConfigFromEnv(env: NodeJS.ProcessEnv, base: LifecycleConfig = DEFAULT_LIFECYCLE_CONFIG): LifecycleConfig {
  const out: Record<keyof LifecycleConfig, number> = { ...base };
  for (const [field, name, scale] of ENV) {
    const raw = env[name];
    if (raw === undefined || raw === '') continue;
    const n = Number(raw);
    if (!Number.isFinite(n)) throw new Error(`${name} must be a number, got ${JSON.stringify(raw)}`);
    out[field] = n * scale;
  }
  try {
    return validateLifecycleConfig(out);
  } catch (e) {
    throw new Error(`invalid key lifecycle settings (${ENV.map((e2) => e2[1]).join(', ')}): ${(e as Error).message}`);
  }
}
