// Publishing what recovery rebuilt: the bucket, and the versions of one key. "Which of a key's recovered versions
// becomes which row" is decided in one place (placeVersion), on versioning's row layout (records.ts: the key's latest
// entry at O#, noncurrent versions at V#<bucket>#<key>, docs/TABLE-DESIGN.md).
import { ROOT_OWNER } from '../access';
import { ConditionFailedError, ConditionalRequestConflictError } from '../errors';
import type { Garbage } from '../garbage';
import { writeManifestChunks, withManifestShape } from '../manifest';
import { backoff } from '../object-commit';
import type { Condition, RecordIndex, WriteOp } from '../ports';
import {
  bucketFromItem,
  bucketItem,
  bucketPk,
  BUCKET_SK,
  extraBlobIds,
  isDeleteMarker,
  latestFromItem,
  latestItem,
  ledgerItem,
  markerBlobIds,
  noncurrentFromItem,
  objectsPk,
  versionIdOf,
  versionItem,
  versionKeyOf,
  versionObjectId,
  versionsPk,
  type LatestState,
  type VersionRecord,
} from '../records';
import { NULL_VERSION_ID } from '../version-ids';
import { reportItem, type ReportEntry } from './state';

const PUBLISH_ATTEMPTS = 5;

/** The blob recovery reports a version under: its manifest (multipart), its one blob, or a marker's blob. */
export function reportBlobOf(o: VersionRecord): string {
  if (isDeleteMarker(o)) return o.sealed?.blobId ?? o.vk;
  return o.manifestBlobId ?? o.parts[0]?.blobId ?? o.objectId;
}

/** A version with its own id (written while the bucket had versioning Enabled), not a null version. */
const isIdentified = (v: VersionRecord): boolean => versionIdOf(v) !== NULL_VERSION_ID;

/**
 * The bucket row as CreateBucket makes it (buckets.ts), owned by the root: who created a bucket is not in any blob.
 * `createdAt` is the first write recovery meets in it. A bucket holding a version with an id had versioning enabled:
 * it gets `versioning: Enabled` (whether it was Suspended when the index was lost is not in any blob). Idempotent.
 */
export async function ensureBucket(index: RecordIndex, known: Map<string, boolean>, bucket: string, createdAt: Date, versioned: boolean): Promise<void> {
  if (known.get(bucket) === true || (known.has(bucket) && !versioned)) return;
  for (let attempt = 0; attempt < PUBLISH_ATTEMPTS; attempt++) {
    const item = await index.get(bucketPk(bucket), BUCKET_SK);
    const current = item ? bucketFromItem(item) : undefined;
    if (current && (!versioned || current.versioning !== undefined)) {
      known.set(bucket, current.versioning !== undefined);
      return;
    }
    const row = bucketItem({ ...(current ?? { name: bucket, createdAt, owner: ROOT_OWNER }), ...(versioned ? { versioning: 'Enabled' as const } : {}) });
    const condition: Condition = current ? { kind: 'equals', attr: 'createdAt', value: current.createdAt.getTime() } : { kind: 'absent' };
    try {
      await index.put(row, condition);
      known.set(bucket, versioned);
      return;
    } catch (e) {
      if (!(e instanceof ConditionFailedError)) throw e;
    }
  }
  throw new ConditionalRequestConflictError(`the row of bucket ${bucket} kept changing while recovery wrote it; run recover again`);
}

export type PublishOutcome = 'published' | 'superseded';

export interface PublishDeps {
  readonly index: RecordIndex;
  readonly garbage: Garbage;
  readonly now: () => Date;
}

/** What placing one version changes: the index writes, and the null version(s) it replaces (reported, garbage). */
interface Placement {
  readonly ops: WriteOp[];
  readonly replaced: VersionRecord[];
}

/**
 * Publishes one recovered version of a key, whatever order the blobs come in, so that the rows end as the write path
 * would have left them: the version with the smallest sort key (the newest) is the latest entry, the others sit in the
 * key's version partition, with the latest entry's `noncurrent`, `nullVk` and `rev`. A key holds one null version: of
 * two, the older is reported `superseded` and its blobs go back to the garbage ledger, as the overwrite that replaced it
 * had put them (in a bucket without versioning that is every overwrite). Idempotent: a version already placed is a
 * no-op, so a batch can be replayed after an interruption.
 */
export async function publishVersion(d: PublishDeps, record: VersionRecord): Promise<PublishOutcome> {
  const v = isDeleteMarker(record) ? record : withManifestShape(record);
  for (let attempt = 0; attempt < PUBLISH_ATTEMPTS; attempt++) {
    const item = await d.index.get(objectsPk(v.bucket), v.key);
    const latest = item ? latestFromItem(item) : undefined;
    if (latest && versionObjectId(latest) === versionObjectId(v)) return 'published';
    if (latest && isIdentified(v)) {
      const placed = await d.index.get(versionsPk(v.bucket, v.key), versionKeyOf(v));
      if (placed && placed.attrs['objectId'] === versionObjectId(v)) return 'published';
    }
    const now = d.now();
    const placement = await placeVersion(d.index, v, latest);
    if (placement === 'older-null') {
      await retire(d, v, now);
      return 'superseded';
    }
    if (!isDeleteMarker(v)) await writeManifestChunks(d.index, v);
    const ops = [...placement.ops];
    for (const old of placement.replaced) ops.push(...d.garbage.opsFor(old, now), { op: 'put', item: reportItem(supersededEntry(old)) });
    try {
      await d.index.transact(ops);
      return 'published';
    } catch (e) {
      if (e instanceof ConditionalRequestConflictError) await backoff(attempt);
      else if (!(e instanceof ConditionFailedError)) throw e;
    }
  }
  throw new ConditionalRequestConflictError(`the rows of ${record.bucket}/${record.key} kept changing while recovery published them; run recover again`);
}

/**
 * Where `v` goes among the versions already published for its key (`latest`: its O# entry). 'older-null': `v` is a
 * null version older than the key's null version, so it is not a version at all but a replaced write.
 */
async function placeVersion(index: RecordIndex, v: VersionRecord, latest: VersionRecord | undefined): Promise<Placement | 'older-null'> {
  const newer = (a: VersionRecord, b: VersionRecord) => versionKeyOf(a) < versionKeyOf(b) || (versionKeyOf(a) === versionKeyOf(b) && (versionObjectId(a) ?? '') > (versionObjectId(b) ?? ''));
  // A delete marker, null or not, exists only under versioning: its key keeps the latest entry's state.
  const versioned = isIdentified(v) || isDeleteMarker(v) || latest?.latest !== undefined;
  if (latest === undefined) {
    return { ops: [{ op: 'put', item: latestItem(versioned ? { ...v, latest: { rev: 1, noncurrent: 0 } } : v), condition: { kind: 'absent' } }], replaced: [] };
  }
  const state: LatestState = latest.latest ?? { rev: 0, noncurrent: 0 };
  const rev = state.rev + 1;
  const sameEntry: Condition = latest.latest !== undefined ? { kind: 'equals', attr: 'rev', value: latest.latest.rev } : isDeleteMarker(latest) ? { kind: 'equals', attr: 'vk', value: latest.vk } : { kind: 'equals', attr: 'objectId', value: latest.objectId };
  const ops: WriteOp[] = [];
  const replaced: VersionRecord[] = [];
  let noncurrent = state.noncurrent;
  let nullVk = state.nullVk;
  let current: VersionRecord | undefined = latest;
  if (!isIdentified(v)) {
    // One null version per key (an object or a null marker): the newer one stays.
    if (!isIdentified(latest)) {
      if (!newer(v, latest)) return 'older-null';
      replaced.push(latest);
      current = undefined; // v takes the latest entry's place
    } else if (nullVk !== undefined) {
      const row = await index.get(versionsPk(v.bucket, v.key), nullVk);
      const old = row ? noncurrentFromItem(row) : undefined;
      const oldId = old ? versionObjectId(old) : undefined;
      if (old) {
        if (!newer(v, old)) return 'older-null';
        ops.push({ op: 'delete', pk: versionsPk(v.bucket, v.key), sk: nullVk, condition: oldId !== undefined ? { kind: 'equals', attr: 'objectId', value: oldId } : { kind: 'present' } });
        replaced.push(old);
        noncurrent--;
      }
      nullVk = undefined;
    }
  }
  if (current === undefined) {
    // v replaces a null latest entry: the key's other versions stay where they are.
    const keep = versioned ? { latest: { rev, noncurrent, ...(nullVk !== undefined ? { nullVk } : {}) } } : {};
    ops.push({ op: 'put', item: latestItem({ ...v, ...keep }), condition: sameEntry });
    return { ops, replaced };
  }
  if (newer(v, current)) {
    // v is the newest: the latest entry moves to the version partition.
    const { latest: _state, ...moved } = current;
    ops.push({ op: 'put', item: versionItem(moved), condition: { kind: 'absent' } });
    const movedNull = !isIdentified(current) ? { nullVk: versionKeyOf(current) } : nullVk !== undefined ? { nullVk } : {};
    ops.push({ op: 'put', item: latestItem({ ...v, latest: { rev, noncurrent: noncurrent + 1, ...movedNull } }), condition: sameEntry });
    return { ops, replaced };
  }
  ops.push({ op: 'put', item: versionItem(v), condition: { kind: 'absent' } });
  const ownNull = !isIdentified(v) ? { nullVk: versionKeyOf(v) } : nullVk !== undefined ? { nullVk } : {};
  const { latest: _old, ...rest } = current;
  ops.push({ op: 'put', item: latestItem({ ...rest, latest: { rev, noncurrent: noncurrent + 1, ...ownNull } }), condition: sameEntry });
  return { ops, replaced };
}

/** The same words whichever of the two writes the scan met first, so a replayed run reports what a clean one does. */
function supersededEntry(old: VersionRecord): ReportEntry {
  return {
    blobId: reportBlobOf(old),
    reason: 'superseded',
    detail: `a write of the key (LastModified ${old.lastModified.toISOString()}) older than the one restored (another write of the null version): its blobs are garbage again and the sweep shreds them`,
    bucket: old.bucket,
    key: old.key,
    ...(versionObjectId(old) !== undefined ? { objectId: versionObjectId(old) } : {}),
  };
}

/** A write older than the key's null version: reported, and its blobs (never live in this index) listed as garbage. */
async function retire(d: PublishDeps, old: VersionRecord, now: Date): Promise<void> {
  const blobIds = isDeleteMarker(old) ? markerBlobIds(old) : [...old.parts.map((p) => p.blobId), ...extraBlobIds(old)];
  for (let start = 0; start < blobIds.length; start += 100) {
    await d.index.transact(blobIds.slice(start, start + 100).map((blobId): WriteOp => ({ op: 'put', item: ledgerItem({ blobId, kind: 'garbage', createdAt: now }) })));
  }
  await d.index.put(reportItem(supersededEntry(old)));
}
