// Publishing what recovery rebuilt: the bucket, and the versions of one key. "Which of a key's versions becomes
// which row" is decided in one place (publishVersion) so that versioning's row layout can plug in there.
import { ROOT_OWNER } from '../access';
import { ConditionFailedError, ConditionalRequestConflictError } from '../errors';
import type { Garbage } from '../garbage';
import { writeManifestChunks, withManifestShape } from '../manifest';
import { backoff } from '../object-commit';
import type { Condition, RecordIndex, WriteOp } from '../ports';
import { bucketItem, extraBlobIds, ledgerItem, objectFromItem, objectItem, objectsPk, type ObjectRecord } from '../records';
import { reportItem } from './state';

const PUBLISH_ATTEMPTS = 5;

/** The blob recovery reports an object under: its manifest (multipart) or its one blob. */
export function reportBlobOf(o: ObjectRecord): string {
  return o.manifestBlobId ?? o.parts[0]?.blobId ?? o.objectId;
}

/** Newest by LastModified; a tie (same millisecond) by object id, so every run picks the same one. */
function isNewer(a: ObjectRecord, b: ObjectRecord): boolean {
  const d = a.lastModified.getTime() - b.lastModified.getTime();
  return d !== 0 ? d > 0 : a.objectId > b.objectId;
}

/**
 * The bucket row as CreateBucket makes it (buckets.ts), owned by the root: who created a bucket is not in any blob.
 * `createdAt` is the first write recovery meets in it. An existing row (a rerun, another object of it) stays.
 */
export async function ensureBucket(index: RecordIndex, known: Set<string>, bucket: string, createdAt: Date): Promise<void> {
  if (known.has(bucket)) return;
  try {
    await index.put(bucketItem({ name: bucket, createdAt, owner: ROOT_OWNER }), { kind: 'absent' });
  } catch (e) {
    if (!(e instanceof ConditionFailedError)) throw e;
  }
  known.add(bucket);
}

export type PublishOutcome = 'published' | 'superseded';

export interface PublishDeps {
  readonly index: RecordIndex;
  readonly garbage: Garbage;
  readonly now: () => Date;
}

/**
 * Publishes one recovered version of a key. Today (no versioning row layout yet) every version is a candidate for the
 * key's one row: the newest wins, the other is reported `superseded` and its blobs go back to the garbage ledger, as
 * the overwrite that replaced it had put them. A version with a non-empty versionId goes the same way (latest only)
 * until versioning's layout lands; this is the one function that will then write V# rows instead.
 * Idempotent: the same object again is a no-op, so a batch can be replayed after an interruption.
 */
export async function publishVersion(d: PublishDeps, record: ObjectRecord): Promise<PublishOutcome> {
  const shaped = withManifestShape(record);
  for (let attempt = 0; attempt < PUBLISH_ATTEMPTS; attempt++) {
    const item = await d.index.get(objectsPk(record.bucket), record.key);
    const current = item ? objectFromItem(item) : undefined;
    if (current?.objectId === record.objectId) return 'published';
    const now = d.now();
    if (current && !isNewer(shaped, current)) {
      await retire(d, shaped, current, now);
      return 'superseded';
    }
    await writeManifestChunks(d.index, shaped);
    const condition: Condition = current ? { kind: 'equals', attr: 'objectId', value: current.objectId } : { kind: 'absent' };
    const ops: WriteOp[] = [{ op: 'put', item: objectItem(shaped), condition }];
    if (current) ops.push(...d.garbage.opsFor(current, now), { op: 'put', item: reportItem(supersededEntry(current, shaped)) });
    try {
      await d.index.transact(ops);
      return 'published';
    } catch (e) {
      if (e instanceof ConditionalRequestConflictError) await backoff(attempt);
      else if (!(e instanceof ConditionFailedError)) throw e;
    }
  }
  throw new ConditionalRequestConflictError(`the row of ${record.bucket}/${record.key} kept changing while recovery published it; run recover again`);
}

function supersededEntry(old: ObjectRecord, by: ObjectRecord) {
  return {
    blobId: reportBlobOf(old),
    reason: 'superseded' as const,
    detail: `an older write of the key (LastModified ${old.lastModified.toISOString()}), replaced by object ${by.objectId} of ${by.lastModified.toISOString()}; its blobs are garbage again and the sweep shreds them`,
    bucket: old.bucket,
    key: old.key,
    objectId: old.objectId,
  };
}

/** An older write than the row there: reported, and its blobs (never live in this index) listed as garbage. */
async function retire(d: PublishDeps, old: ObjectRecord, by: ObjectRecord, now: Date): Promise<void> {
  const blobIds = [...old.parts.map((p) => p.blobId), ...extraBlobIds(old)];
  for (let start = 0; start < blobIds.length; start += 100) {
    await d.index.transact(blobIds.slice(start, start + 100).map((blobId): WriteOp => ({ op: 'put', item: ledgerItem({ blobId, kind: 'garbage', createdAt: now }) })));
  }
  await d.index.put(reportItem(supersededEntry(old, by)));
}
