// The library's record fields for a version-2 vector's plain-valued inputs (times as milliseconds).
import type { SealedRecordFields } from '../../lambdas/core/format';

export interface VectorRecord {
  readonly kind: 'object' | 'upload-part' | 'manifest';
  readonly keyChosen: boolean;
  readonly partCount: number;
  readonly createdAtMs: number;
  readonly writtenAtMs: number;
  readonly key: string;
  readonly versionId: string;
  readonly uploadId: string;
  readonly contentType: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly userMetadata: Readonly<Record<string, string>>;
  readonly checksum?: { readonly algorithm: string; readonly type: string; readonly value: string };
}

export function v2Fields(r: VectorRecord): SealedRecordFields {
  const { createdAtMs, writtenAtMs, ...rest } = r;
  return { ...rest, createdAt: new Date(createdAtMs), writtenAt: new Date(writtenAtMs) };
}
