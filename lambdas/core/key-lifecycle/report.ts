// What one lifecycle run did, as a log line and as CloudWatch metrics (Embedded Metric Format: a log line
// CloudWatch turns into metrics, so the job needs no metrics client).

export interface RetiredKey {
  readonly keyId: string;
  readonly deletionDate: string;
}

export interface JobReport {
  readonly startedAt: string;
  readonly finishedAt: string;
  /** Set when the run did nothing because another run holds the lease. */
  readonly skipped?: string;
  readonly activeKeyId?: string;
  /** CMKs whose material was rotated on demand by this run. */
  readonly rotated: readonly string[];
  readonly rewrapped: number;
  /** Objects still wrapped under old material or a retiring CMK after this run. */
  readonly remaining: number;
  /** True when `remaining` stopped at the count cap (a lower bound). */
  readonly remainingCapped: boolean;
  readonly errors: number;
  /** Access-key secrets and the index key moved to the active CMK's current material. */
  readonly sealedSecretsRewrapped: number;
  readonly retired: readonly RetiredKey[];
  /** Human-readable notes: errors (first few), keys waiting out their grace, safety-net actions. */
  readonly notes: readonly string[];
}

export const METRIC_NAMESPACE = 'Sealstore';

/** One EMF document: CloudWatch extracts ObjectsRewrapped, ObjectsRemaining and RewrapErrors from it. */
export function metricsLine(report: JobReport): string {
  return JSON.stringify({
    _aws: {
      Timestamp: Date.parse(report.finishedAt),
      CloudWatchMetrics: [
        {
          Namespace: METRIC_NAMESPACE,
          Dimensions: [['Job']],
          Metrics: [
            { Name: 'ObjectsRewrapped', Unit: 'Count' },
            { Name: 'ObjectsRemaining', Unit: 'Count' },
            { Name: 'RewrapErrors', Unit: 'Count' },
            { Name: 'KeysRetired', Unit: 'Count' },
          ],
        },
      ],
    },
    Job: 'key-lifecycle',
    ObjectsRewrapped: report.rewrapped,
    ObjectsRemaining: report.remaining,
    RewrapErrors: report.errors,
    KeysRetired: report.retired.length,
  });
}
