// The library's record fields for a version-2 vector's plain-valued inputs (times as milliseconds).
import type { SealedRecordFields } from '../../lambdas/core/format';
import type { ReferenceRecord } from './reference';

/** A vector's record inputs are exactly what the independent reference seals (reference.ts). */
export type VectorRecord = ReferenceRecord;

export function v2Fields(r: VectorRecord): SealedRecordFields {
  const { createdAtMs, writtenAtMs, ...rest } = r;
  return { ...rest, createdAt: new Date(createdAtMs), writtenAt: new Date(writtenAtMs) };
}
