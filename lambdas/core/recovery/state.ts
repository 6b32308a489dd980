// Where an index rebuild keeps its own state in the index it rebuilds: a checkpoint, the report of every blob it
// could not restore, and the upload parts it has seen (to tell, at the end, which no completed object names). Every
// row is MAC'd like any other (index-auth), so a tampered checkpoint or report fails its read.
import { InternalError } from '../errors';
import type { AttrValue, IndexItem } from '../ports';

export const RECOVERY_PK = 'RC';
export const CHECKPOINT_SK = 'checkpoint';
/** One row per blob recovery did not restore, by blob id (re-reporting a blob overwrites its row: idempotent). */
export const REPORT_PK = 'RC#R';
/** One row per multipart part blob seen, by blob id; removed once judged in the last phase. */
export const STAGED_PARTS_PK = 'RC#P';

/**
 * Why a blob was not restored:
 * - `key-unavailable`: its CMK is disabled, pending deletion, deleted or not trusted (KMS refused the Decrypt);
 * - `tampered`: its wrapped key, header, record or manifest fails authentication, or a part its manifest names is
 *   missing or altered (the object is then not restored either);
 * - `no-record`: a format-1 blob (written before records) or a blob without sealstore metadata;
 * - `superseded`: an older write of a key that a newer one replaced (its blobs were garbage awaiting collection);
 *   its blobs are put back in the garbage ledger, so the sweep shreds them as it would have;
 * - `unfinished-upload`: a multipart part that no completed object names (an open, aborted or unused part).
 */
export type ReportReason = 'key-unavailable' | 'tampered' | 'no-record' | 'superseded' | 'unfinished-upload';
export const REPORT_REASONS: readonly ReportReason[] = ['key-unavailable', 'tampered', 'no-record', 'superseded', 'unfinished-upload'];

export interface ReportEntry {
  readonly blobId: string;
  readonly reason: ReportReason;
  readonly detail: string;
  /** As the blob's record names them when it opened, else as its (unauthenticated) store metadata does. */
  readonly bucket?: string;
  readonly key?: string;
  readonly objectId?: string;
}

export type Phase = 'scan' | 'parts' | 'done';

export interface Counters {
  /** Blobs listed and looked at. */
  scanned: number;
  /** Object versions restored, latest and noncurrent (recounted exactly when the run is done). */
  objects: number;
  /** Of them, multipart objects (from a completion manifest). */
  multipart: number;
  /** Of them, versions with an id (written while their bucket had versioning Enabled). */
  versions: number;
  /** Report entries by reason (recounted exactly when the run is done). */
  reported: Record<ReportReason, number>;
}

export interface Checkpoint {
  readonly phase: Phase;
  readonly startedAt: Date;
  readonly finishedAt?: Date;
  /** BlobStore.list cursor of the next scan batch; absent before the first. */
  readonly blobCursor?: string;
  /** Staged-part cursor of the next judging batch. */
  readonly partsCursor?: string;
  readonly counters: Counters;
  /** Bumped on every batch: the condition of the next one, so two runs never interleave batches. */
  readonly version: number;
}

export const emptyCounters = (): Counters => ({
  scanned: 0,
  objects: 0,
  multipart: 0,
  versions: 0,
  reported: Object.fromEntries(REPORT_REASONS.map((r) => [r, 0])) as Record<ReportReason, number>,
});

const num = (v: AttrValue | undefined): number => (typeof v === 'number' ? v : 0);
const optStr = (v: AttrValue | undefined): string | undefined => (typeof v === 'string' ? v : undefined);

export function checkpointItem(c: Checkpoint): IndexItem {
  return {
    pk: RECOVERY_PK,
    sk: CHECKPOINT_SK,
    attrs: {
      phase: c.phase,
      startedAt: c.startedAt.getTime(),
      ...(c.finishedAt ? { finishedAt: c.finishedAt.getTime() } : {}),
      ...(c.blobCursor !== undefined ? { blobCursor: c.blobCursor } : {}),
      ...(c.partsCursor !== undefined ? { partsCursor: c.partsCursor } : {}),
      scanned: c.counters.scanned,
      objects: c.counters.objects,
      multipart: c.counters.multipart,
      versions: c.counters.versions,
      reported: { ...c.counters.reported },
      version: c.version,
    },
  };
}

export function checkpointFromItem(item: IndexItem): Checkpoint {
  const a = item.attrs;
  const phase = a['phase'];
  if (phase !== 'scan' && phase !== 'parts' && phase !== 'done') throw new InternalError('recovery checkpoint has an unknown phase');
  const reported = a['reported'];
  const counts = emptyCounters();
  for (const r of REPORT_REASONS) counts.reported[r] = typeof reported === 'object' && reported !== null && !Array.isArray(reported) && !Buffer.isBuffer(reported) ? num(reported[r]) : 0;
  const blobCursor = optStr(a['blobCursor']);
  const partsCursor = optStr(a['partsCursor']);
  return {
    phase,
    startedAt: new Date(num(a['startedAt'])),
    ...(typeof a['finishedAt'] === 'number' ? { finishedAt: new Date(a['finishedAt']) } : {}),
    ...(blobCursor !== undefined ? { blobCursor } : {}),
    ...(partsCursor !== undefined ? { partsCursor } : {}),
    counters: { ...counts, scanned: num(a['scanned']), objects: num(a['objects']), multipart: num(a['multipart']), versions: num(a['versions']) },
    version: num(a['version']),
  };
}

export function reportItem(e: ReportEntry): IndexItem {
  return {
    pk: REPORT_PK,
    sk: e.blobId,
    attrs: {
      reason: e.reason,
      detail: e.detail,
      ...(e.bucket !== undefined ? { bucket: e.bucket } : {}),
      ...(e.key !== undefined ? { key: e.key } : {}),
      ...(e.objectId !== undefined ? { objectId: e.objectId } : {}),
    },
  };
}

export function reportFromItem(item: IndexItem): ReportEntry {
  const a = item.attrs;
  const reason = REPORT_REASONS.find((r) => r === a['reason']);
  if (reason === undefined) throw new InternalError('recovery report row has an unknown reason');
  const bucket = optStr(a['bucket']);
  const key = optStr(a['key']);
  const objectId = optStr(a['objectId']);
  return {
    blobId: item.sk,
    reason,
    detail: optStr(a['detail']) ?? '',
    ...(bucket !== undefined ? { bucket } : {}),
    ...(key !== undefined ? { key } : {}),
    ...(objectId !== undefined ? { objectId } : {}),
  };
}

/** A multipart part blob seen by the scan: judged once every manifest has been read. */
export interface StagedPart {
  readonly blobId: string;
  readonly bucket: string;
  readonly key: string;
  readonly objectId: string;
  readonly uploadId: string;
  readonly partNumber: number;
}

export function stagedPartItem(p: StagedPart): IndexItem {
  return { pk: STAGED_PARTS_PK, sk: p.blobId, attrs: { bucket: p.bucket, key: p.key, objectId: p.objectId, uploadId: p.uploadId, partNumber: p.partNumber } };
}

export function stagedPartFromItem(item: IndexItem): StagedPart {
  const a = item.attrs;
  return { blobId: item.sk, bucket: optStr(a['bucket']) ?? '', key: optStr(a['key']) ?? '', objectId: optStr(a['objectId']) ?? '', uploadId: optStr(a['uploadId']) ?? '', partNumber: num(a['partNumber']) };
}
