// Housekeeping: abort multipart uploads left idle, then delete every blob no object references.
import { ENV } from './deployment-names';
import type { SweepResult } from './ledger-sweep';
import type { UploadSweepResult } from './upload-cleanup';

/** What housekeeping needs of the store (ObjectService offers both). */
export interface Sweepable {
  sweepUploads(maxAgeMs: number): Promise<UploadSweepResult>;
  sweep(olderThanMs: number): Promise<SweepResult>;
}

export interface HousekeepingConfig {
  /**
   * A pending blob younger than this may belong to a write still in flight: keep it. Longer than the longest
   * request (a Lambda runs at most 15 minutes), so a live writer never loses its blob.
   */
  readonly pendingGraceMs: number;
  /** Multipart uploads idle longer than this are aborted (S3's lifecycle rule does the same). */
  readonly uploadMaxAgeMs: number;
}

/** The least pending grace a deployed configuration may set: the longest a Lambda request runs. */
const MIN_PENDING_GRACE_MS = 15 * 60 * 1000;

export const DEFAULT_HOUSEKEEPING: HousekeepingConfig = {
  pendingGraceMs: 20 * 60 * 1000,
  uploadMaxAgeMs: 7 * 24 * 60 * 60 * 1000,
};

export interface HousekeepingReport {
  readonly job: 'housekeeping';
  readonly uploadsAborted: number;
  readonly uploadsFinished: number;
  readonly blobsDeleted: number;
  readonly ledgerEntriesCleared: number;
  readonly durationMs: number;
}

/** Uploads first: aborting one turns its parts into garbage that the blob sweep then removes in the same run. */
export async function runHousekeeping(service: Sweepable, config: HousekeepingConfig = DEFAULT_HOUSEKEEPING): Promise<HousekeepingReport> {
  const started = Date.now();
  const uploads = await service.sweepUploads(config.uploadMaxAgeMs);
  const blobs: SweepResult = await service.sweep(config.pendingGraceMs);
  return {
    job: 'housekeeping',
    uploadsAborted: uploads.aborted,
    uploadsFinished: uploads.finished,
    blobsDeleted: blobs.blobsDeleted,
    ledgerEntriesCleared: blobs.ledgerEntriesCleared,
    durationMs: Date.now() - started,
  };
}

/**
 * Reads SEALSTORE_PENDING_GRACE_SECONDS (at least MIN_PENDING_GRACE_MS) and SEALSTORE_UPLOAD_MAX_AGE_DAYS (at
 * least an hour); a bad value names the variable.
 */
export function housekeepingConfigFromEnv(env: NodeJS.ProcessEnv): HousekeepingConfig {
  const read = (name: string, unitMs: number, fallbackMs: number, minMs: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallbackMs;
    const n = Number(raw);
    if (!Number.isFinite(n) || n * unitMs < minMs) throw new Error(`${name} must be a number ≥ ${minMs / unitMs}, not '${raw}'`);
    return n * unitMs;
  };
  return {
    pendingGraceMs: read(ENV.pendingGraceSeconds, 1000, DEFAULT_HOUSEKEEPING.pendingGraceMs, MIN_PENDING_GRACE_MS),
    uploadMaxAgeMs: read(ENV.uploadMaxAgeDays, 24 * 60 * 60 * 1000, DEFAULT_HOUSEKEEPING.uploadMaxAgeMs, 60 * 60 * 1000),
  };
}
