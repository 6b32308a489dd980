// The one commit path for objects: every write that publishes an object (PUT, copy, multipart completion) and
// every delete goes through here. Invariant: the object item, the ledger entries of the blobs it makes live and
// the garbage entries of the blobs it retires change in one index transaction, so a reader sees the old object
// or the new one, and a crash at any point leaves no blob untracked.
import {
  ConditionFailedError,
  ConditionalRequestConflictError,
  InternalError,
  NoSuchKeyError,
  HEADER_NOT_IMPLEMENTED,
  NotImplementedError,
  PreconditionFailedError,
} from './errors';
import type { Garbage } from './garbage';
import type { MarkerWriter } from './marker-writer';
import type { Condition, RecordIndex, WriteOp } from './ports';
import {
  isDeleteMarker,
  latestItem,
  ledgerPk,
  noncurrentFromItem,
  objectsPk,
  versionIdOf,
  versionItem,
  versionKeyOf,
  versionsPk,
  type DeleteMarkerRecord,
  type LatestState,
  type ObjectRecord,
  type VersioningState,
  type VersionRecord,
} from './records';
import { newVersionKey, NULL_VERSION_ID, versionKeyTime } from './version-ids';
import { findVersion, latestVersion } from './versions';

/** What a write needs of the object it replaces (S3 conditional writes). */
export interface WritePreconditions {
  /** '*' makes the write create-only; S3 takes no other value (NotImplemented). */
  readonly ifNoneMatch?: string;
  /** The write succeeds only if the current object has this ETag ('*': if there is one). */
  readonly ifMatch?: string;
}

/** What a delete needs of the object it removes (S3 conditional deletes). */
export interface DeletePreconditions {
  /** The delete succeeds only if the current object has this ETag ('*': if there is one); else 412, or 404 when none. */
  readonly ifMatch?: string;
}

export interface CommitOptions {
  readonly preconditions?: WritePreconditions;
  /** Blobs with a pending ledger entry that this commit makes live. */
  readonly newBlobs: readonly string[];
  /** Writes that must succeed in the same transaction (e.g. marking an upload completed). */
  readonly extraOps?: readonly WriteOp[];
  /** Runs when a condition failed, before retrying: throws when retrying cannot help. */
  readonly onConditionFailed?: () => Promise<void>;
  /** The bucket's versioning state, read when the write began; absent while versioning was never enabled. */
  readonly versioning?: VersioningState;
}

/** What a delete asks beyond its preconditions. */
export interface RemoveOptions {
  readonly versioning?: VersioningState;
  /** DELETE ?versionId: remove (and shred) that one version instead of writing a delete marker. */
  readonly versionId?: string;
}

/** What S3 tells the deleter: the version removed or the marker written (x-amz-version-id, x-amz-delete-marker). */
export interface RemoveResult {
  readonly versionId?: string;
  readonly deleteMarker?: boolean;
}

/**
 * The time a new version of a key takes (hybrid-logical-clock style): now, or 1 ms after the key's latest entry as
 * read when the operation begins if this clock is behind it. A write that begins after another committed thus always
 * sorts newer, whatever the clocks of the two machines say; only writes that truly overlap (both read the same
 * latest entry) are ordered by when they began.
 */
export function versionTimeAfter(now: Date, latest: VersionRecord | undefined): Date {
  if (latest === undefined) return now;
  return new Date(Math.max(now.getTime(), versionKeyTime(versionKeyOf(latest)) + 1));
}

/** The version fields a write in a bucket of this state carries: a fresh id when Enabled, 'null' when Suspended. */
export function versionFieldsFor(versioning: VersioningState | undefined, at: Date): { versionId?: string; vk?: string } {
  if (versioning === undefined) return {};
  const vk = newVersionKey(at);
  return { versionId: versioning === 'Enabled' ? vk : NULL_VERSION_ID, vk };
}

/** How one versioned change lands: its index writes, and the versions it retires (their blobs become garbage). */
interface Change {
  readonly ops: WriteOp[];
  /** Objects and sealed delete markers (whose record-only blob goes with them). */
  readonly retired: VersionRecord[];
}

/**
 * Every change to a key is conditional on its latest entry, so of N writers that read it at once one wins per
 * round: N concurrent writers need up to N attempts. 12, with a jittered pause from the third on, lets a dozen
 * writers to one key all land instead of the last ones getting an error S3 would never give.
 */
const COMMIT_ATTEMPTS = 12;
/** The index caps one transaction at 100 writes; every commit here is built to stay within it. */
const MAX_TRANSACTION_OPS = 100;

export class ObjectCommitter {
  constructor(
    private readonly index: RecordIndex,
    private readonly garbage: Garbage,
    private readonly now: () => Date,
    /** The bucket's versioning state as it is now; a commit re-reads it when its write began before versioning. */
    private readonly readVersioning?: (bucket: string) => Promise<VersioningState | undefined>,
    /** Seals each delete marker as a record-only blob (index rebuilds restore it); without it markers are index-only. */
    private readonly markers?: MarkerWriter,
  ) {}

  /**
   * The versioning state a change takes effect under. A write reads the bucket's state when it begins, but S3
   * applies the state at the time the write takes effect: a write that began before versioning was enabled and
   * commits after must not take the unversioned path (it would replace the latest entry and shred it, leaving the
   * key's noncurrent versions unreachable). So "never versioned" is re-read on every attempt, and a latest entry
   * carrying version state proves the bucket has had versioning whatever was read (at least Suspended).
   */
  private async versioningAt(bucket: string, latest: VersionRecord | undefined, begun: VersioningState | undefined): Promise<VersioningState | undefined> {
    if (begun !== undefined) return begun;
    const now = await this.readVersioning?.(bucket);
    if (now !== undefined) return now;
    return latest !== undefined && hasVersionState(latest) ? 'Suspended' : undefined;
  }

  /**
   * The current object under a key, without its chunked part list (enough for conditions and ETags). A delete
   * marker as latest entry counts as no object, as S3's conditional writes see it.
   */
  async current(bucket: string, key: string): Promise<ObjectRecord | undefined> {
    const latest = await this.latestEntry(bucket, key);
    return latest && !isDeleteMarker(latest) ? latest : undefined;
  }

  /** The key's latest entry (object or delete marker), read when a versioned write begins to name its version. */
  latestEntry(bucket: string, key: string): Promise<VersionRecord | undefined> {
    return latestVersion(this.index, bucket, key);
  }

  /**
   * Publishes `record`: the new blobs stop being pending, the replaced object's blobs become garbage. A
   * concurrent writer makes the condition fail; we re-read and retry, so the last writer wins as in S3, without
   * losing track of any blob. A chunked manifest must already be written (writeManifestChunks).
   */
  async commit(record: ObjectRecord, options: CommitOptions): Promise<void> {
    const preconditions = options.preconditions ?? {};
    for (let attempt = 0; attempt < COMMIT_ATTEMPTS; attempt++) {
      const latest = await latestVersion(this.index, record.bucket, record.key);
      const current = latest && !isDeleteMarker(latest) ? latest : undefined;
      checkWritePreconditions(preconditions, record.key, current);
      const now = this.now();
      const versioning = await this.versioningAt(record.bucket, latest, options.versioning);
      // A write that began without versioning carries no version id (its sealed record says null version): under
      // versioning it lands as the null version, with a sort key minted now, newer than the latest entry read.
      const placed = versioning !== undefined && record.vk === undefined ? { ...record, vk: newVersionKey(versionTimeAfter(now, latest)) } : record;
      const change = await this.place(placed, latest, versioning);
      const ops: WriteOp[] = [
        ...change.ops,
        // The pending entry must still be there: if the sweep judged this write dead and removed its blob,
        // the commit must fail rather than publish an object whose blob is gone.
        ...options.newBlobs.map((blobId): WriteOp => ({ op: 'delete', pk: ledgerPk(blobId), sk: blobId, condition: { kind: 'equals', attr: 'kind', value: 'pending' } })),
        ...(options.extraOps ?? []),
        ...change.retired.flatMap((r) => this.garbage.opsFor(r, now)),
      ];
      if (ops.length > MAX_TRANSACTION_OPS) throw new InternalError(`a commit of ${ops.length} index writes exceeds one transaction`);
      try {
        await this.index.transact(ops);
      } catch (e) {
        if (e instanceof ConditionalRequestConflictError) {
          await backoff(attempt);
          continue;
        }
        if (!(e instanceof ConditionFailedError)) throw e;
        for (const blobId of options.newBlobs) {
          if (!(await this.index.get(ledgerPk(blobId), blobId))) {
            throw new InternalError('The upload took too long and its data was swept; retry the request.');
          }
        }
        await options.onConditionFailed?.();
        if (attempt >= 2) await backoff(attempt - 2, 5);
        continue;
      }
      // The replaced version is shredded in the background; its ledger entries make that survive a stop.
      for (const r of change.retired) this.garbage.collectLater(r);
      return;
    }
    throw tooManyWriters(record.key);
  }

  /**
   * Where a new version (an object or a delete marker) goes, given the key's latest entry (§1.2 of the design):
   * - never versioned: it replaces the latest entry, whose blobs become garbage (as before versioning);
   * - Enabled: the latest entry moves to the version partition and the new one takes its place, nothing retired;
   *   a version that began before the latest one did (its sort key is greater) goes straight to the partition, so
   *   which version is latest depends on when writes began, never on which committed first;
   * - Suspended: the new null version replaces the null version, wherever that is (it is shredded).
   * Every change is conditional on the latest entry as read (its `rev`), so changes to one key are totally ordered.
   */
  private async place(v: VersionRecord, latest: VersionRecord | undefined, versioning: VersioningState | undefined): Promise<Change> {
    // A replaced version's blobs become garbage: an object's, or a sealed marker's record-only blob.
    const objectOf = (r: VersionRecord | undefined): VersionRecord[] => (r ? [r] : []);
    if (versioning === undefined) return { ops: [{ op: 'put', item: latestItem(v), condition: sameEntry(latest) }], retired: objectOf(latest) };
    if (latest === undefined) return { ops: [{ op: 'put', item: latestItem({ ...v, latest: { rev: 1, noncurrent: 0 } }), condition: { kind: 'absent' } }], retired: [] };
    const state = stateOf(latest);
    const rev = state.rev + 1;
    const isNull = versionIdOf(v) === NULL_VERSION_ID;
    if (!isNull && versionKeyOf(v) > versionKeyOf(latest)) {
      // Began before the latest entry did: a noncurrent version from the start.
      return {
        ops: [
          { op: 'put', item: versionItem(v), condition: { kind: 'absent' } },
          { op: 'put', item: latestItem(withState(latest, { ...state, rev, noncurrent: state.noncurrent + 1 })), condition: movedEntry(latest) },
        ],
        retired: [],
      };
    }
    if (isNull && versionIdOf(latest) === NULL_VERSION_ID) {
      const { nullVk: _none, ...kept } = state;
      return { ops: [{ op: 'put', item: latestItem({ ...v, latest: { ...kept, rev } }), condition: movedEntry(latest) }], retired: objectOf(latest) };
    }
    const ops: WriteOp[] = [{ op: 'put', item: versionItem(withState(latest, undefined)), condition: { kind: 'absent' } }];
    const retired: VersionRecord[] = [];
    let noncurrent = state.noncurrent + 1;
    let nullVk = versionIdOf(latest) === NULL_VERSION_ID ? versionKeyOf(latest) : state.nullVk;
    if (isNull && state.nullVk !== undefined) {
      // Suspended: the noncurrent null version is replaced, so it goes (and is shredded).
      const old = await this.index.get(versionsPk(v.bucket, v.key), state.nullVk);
      if (old) {
        ops.push({ op: 'delete', pk: old.pk, sk: old.sk, condition: { kind: 'present' } });
        retired.push(...objectOf(noncurrentFromItem(old)));
        noncurrent--;
      }
      nullVk = undefined;
    }
    if (isNull) nullVk = undefined;
    ops.push({ op: 'put', item: latestItem({ ...v, latest: { rev, noncurrent, ...(nullVk !== undefined ? { nullVk } : {}) } }), condition: movedEntry(latest) });
    return { ops, retired };
  }

  /**
   * Deletes under a key. Without a version id: in a bucket that never had versioning, removes the object and
   * shreds it (the index item, one copy of the wrapped key, goes in the transaction that makes its blobs garbage,
   * then the blobs, the other copy, are deleted before this returns); with versioning, writes a delete marker (a
   * null one when Suspended, which shreds the null version it replaces). With a version id: removes that version
   * and shreds it; if it was the latest, the newest noncurrent version takes its place.
   * A missing key or version is not an error (S3 answers 204), unless `ifMatch` asks for an object. The condition is
   * judged on the latest entry the transaction changes (conditional on it), so a change that lands between the check
   * and the delete fails the transaction and is judged again.
   */
  async remove(bucket: string, key: string, preconditions: DeletePreconditions = {}, options: RemoveOptions = {}): Promise<RemoveResult> {
    if (options.versionId === undefined && this.markers) {
      const latest = await latestVersion(this.index, bucket, key);
      const versioning = await this.versioningAt(bucket, latest, options.versioning);
      if (versioning !== undefined) {
        if (preconditions.ifMatch !== undefined) checkIfMatch(preconditions.ifMatch, key, latest && !isDeleteMarker(latest) ? latest : undefined); // before spending a data key
        // The marker is minted once, newer than the latest entry read now, because its blob seals its version id. A
        // change that commits meanwhile and began later sorts newer: the marker then goes to the version partition,
        // as an overlapping write does (place: "began before the latest entry did").
        const at = versionTimeAfter(this.now(), latest);
        const vk = newVersionKey(at);
        const version = { bucket, key, versionId: versioning === 'Enabled' ? vk : NULL_VERSION_ID, vk, at };
        return this.markers.write(version, (marker, blobId) => this.removeAttempts(bucket, key, preconditions, options, { marker, blobId }));
      }
    }
    return this.removeAttempts(bucket, key, preconditions, options, undefined);
  }

  private async removeAttempts(bucket: string, key: string, preconditions: DeletePreconditions, options: RemoveOptions, sealed: { marker: DeleteMarkerRecord; blobId: string } | undefined): Promise<RemoveResult> {
    for (let attempt = 0; attempt < COMMIT_ATTEMPTS; attempt++) {
      const latest = await latestVersion(this.index, bucket, key);
      const current = latest && !isDeleteMarker(latest) ? latest : undefined;
      if (preconditions.ifMatch !== undefined) checkIfMatch(preconditions.ifMatch, key, current);
      let change: Change;
      let result: RemoveResult;
      const now = this.now();
      const versioning = await this.versioningAt(bucket, latest, options.versioning);
      if (options.versionId !== undefined) {
        const target = await findVersion(this.index, latest, bucket, key, options.versionId);
        if (!target || !latest) return { versionId: options.versionId };
        change = await this.removeVersion(target, latest);
        result = { versionId: options.versionId, ...(isDeleteMarker(target) ? { deleteMarker: true } : {}) };
      } else if (versioning === undefined) {
        if (!current) return {};
        change = { ops: [{ op: 'delete', pk: objectsPk(bucket), sk: key, condition: sameEntry(current) }], retired: [current] };
        result = {};
      } else {
        // A sealed marker was minted before its blob was written (remove). An index-only one (no marker writer, or
        // versioning turned on after the delete began) is minted on each attempt, newer than the latest entry it read.
        const at = versionTimeAfter(now, latest);
        const vk = newVersionKey(at);
        const marker: DeleteMarkerRecord = sealed?.marker ?? { deleteMarker: true, bucket, key, versionId: versioning === 'Enabled' ? vk : NULL_VERSION_ID, vk, lastModified: at };
        change = await this.place(marker, latest, versioning);
        // The marker's blob stops being pending in the same transaction (as a write's newBlobs).
        if (sealed) change.ops.push({ op: 'delete', pk: ledgerPk(sealed.blobId), sk: sealed.blobId, condition: { kind: 'equals', attr: 'kind', value: 'pending' } });
        result = { versionId: marker.versionId, deleteMarker: true };
      }
      try {
        await this.index.transact([...change.ops, ...change.retired.flatMap((r) => this.garbage.opsFor(r, now))]);
      } catch (e) {
        if (e instanceof ConditionFailedError) {
          if (attempt >= 2) await backoff(attempt - 2, 5);
          continue;
        }
        if (e instanceof ConditionalRequestConflictError) {
          await backoff(attempt);
          continue;
        }
        throw e;
      }
      for (const r of change.retired) await this.garbage.collectObject(r);
      return result;
    }
    throw tooManyWriters(key);
  }

  /** Removing one version: from the version partition, or the latest entry (the newest noncurrent one takes its place). */
  private async removeVersion(target: VersionRecord, latest: VersionRecord): Promise<Change> {
    // A sealed marker's blob is shredded with it; an index-only marker retires nothing.
    const retired = [target];
    const state = stateOf(latest);
    const rev = state.rev + 1;
    const targetVk = versionKeyOf(target);
    const nullVkAfter = (gone: string): { nullVk?: string } => (state.nullVk !== undefined && state.nullVk !== gone ? { nullVk: state.nullVk } : {});
    if (target !== latest) {
      return {
        ops: [
          { op: 'delete', pk: versionsPk(target.bucket, target.key), sk: targetVk, condition: sameWrap(target) },
          { op: 'put', item: latestItem(withState(latest, { rev, noncurrent: Math.max(0, state.noncurrent - 1), ...nullVkAfter(targetVk) })), condition: movedEntry(latest) },
        ],
        retired,
      };
    }
    const next = state.noncurrent > 0 ? (await this.index.query(versionsPk(latest.bucket, latest.key), { limit: 1 })).items[0] : undefined;
    if (!next) return { ops: [{ op: 'delete', pk: objectsPk(latest.bucket), sk: latest.key, condition: movedEntry(latest) }], retired };
    const promoted = noncurrentFromItem(next);
    return {
      ops: [
        // Conditional on the wrap as read: a rewrap of that row in between makes this retry, not write the old wrap back.
        { op: 'delete', pk: next.pk, sk: next.sk, condition: sameWrap(promoted) },
        { op: 'put', item: latestItem(withState(promoted, { rev, noncurrent: state.noncurrent - 1, ...nullVkAfter(versionKeyOf(promoted)) })), condition: movedEntry(latest) },
      ],
      retired,
    };
  }
}

/** Whether a row shows its bucket has had versioning: a latest entry's state, a version id or a sort key. */
function hasVersionState(v: VersionRecord): boolean {
  return v.latest !== undefined || v.versionId !== undefined || v.vk !== undefined;
}

/** A latest entry's state; a row from before versioning reads as revision 0 with no noncurrent version. */
function stateOf(latest: VersionRecord): LatestState {
  return latest.latest ?? { rev: 0, noncurrent: 0 };
}

function withState<T extends VersionRecord>(v: T, latest: LatestState | undefined): T {
  const { latest: _old, ...rest } = v;
  return (latest === undefined ? rest : { ...rest, latest }) as T;
}

/** The latest entry is still the one read: same revision (rows with one) or same object (rows from before). */
function sameEntry(latest: VersionRecord | undefined): Condition {
  if (latest === undefined) return { kind: 'absent' };
  if (latest.latest !== undefined) return { kind: 'equals', attr: 'rev', value: latest.latest.rev };
  return isDeleteMarker(latest) ? { kind: 'equals', attr: 'vk', value: latest.vk } : { kind: 'equals', attr: 'objectId', value: latest.objectId };
}

/**
 * As sameEntry, for a change that keeps the latest entry's row (moves it to the version partition or rewrites its
 * state): a row from before versioning has no revision, and a rewrap keeps its object id, so it is judged by its
 * wrap (a rewrap in between then makes the change retry instead of copying the old wrap). Only the unversioned path
 * replaces such a row by another without revision, and that path is never taken once the bucket has versioning.
 */
function movedEntry(latest: VersionRecord | undefined): Condition {
  if (latest !== undefined && latest.latest === undefined && !isDeleteMarker(latest)) return sameWrap(latest);
  return sameEntry(latest);
}

/** A version's row still carries the wrap as read (a delete marker has none: it only has to be there). */
function sameWrap(v: VersionRecord): Condition {
  return isDeleteMarker(v) ? { kind: 'present' } : { kind: 'equals', attr: 'wrappedAt', value: v.wrappedAt.getTime() };
}

function tooManyWriters(key: string): PreconditionFailedError {
  return new PreconditionFailedError(`Too many concurrent writes to ${key}; retry the request.`);
}

/**
 * S3 takes If-None-Match on a write only as '*' (create-only); any other value is refused as S3 refuses it (501),
 * rather than read as '*' or ignored.
 */
export function checkIfNoneMatchForm(ifNoneMatch: string | undefined): void {
  if (ifNoneMatch !== undefined && ifNoneMatch.trim() !== '*') {
    throw new NotImplementedError(`${HEADER_NOT_IMPLEMENTED}: If-None-Match on a write takes only * (create the object only if the key is free).`, { Header: 'If-None-Match' });
  }
}

/** S3 conditional writes: If-None-Match: * (create-only) and If-Match: etag, checked against the current object. */
export function checkWritePreconditions(p: WritePreconditions, key: string, current: ObjectRecord | undefined): void {
  checkIfNoneMatchForm(p.ifNoneMatch);
  if (p.ifNoneMatch !== undefined && current) {
    throw new PreconditionFailedError('At least one of the pre-conditions you specified did not hold: the object already exists (If-None-Match: *).', { Condition: 'If-None-Match' });
  }
  if (p.ifMatch !== undefined) checkIfMatch(p.ifMatch, key, current);
}

/** If-Match on a write or a delete: the key must hold an object, with this ETag unless '*' ('W/' and quotes ignored). */
export function checkIfMatch(ifMatch: string, key: string, current: ObjectRecord | undefined): void {
  const want = ifMatch.trim().replace(/^W\//, '').replace(/"/g, '').trim();
  if (!current) throw new NoSuchKeyError(`The key ${key} does not exist (If-Match).`, { Key: key });
  if (want !== '*' && want !== current.etag) {
    throw new PreconditionFailedError('At least one of the pre-conditions you specified did not hold: the ETag does not match (If-Match).', { Condition: 'If-Match' });
  }
}

/** Jittered exponential backoff for index transaction conflicts (DynamoDB TransactionConflict), which clear in milliseconds. */
export function backoff(attempt: number, baseMs = 20): Promise<void> {
  const ms = Math.random() * baseMs * 2 ** Math.min(attempt, 5);
  return new Promise((resolve) => setTimeout(resolve, ms));
}
