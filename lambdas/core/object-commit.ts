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
import type { Condition, RecordIndex, WriteOp } from './ports';
import { ledgerPk, objectFromItem, objectItem, objectsPk, type ObjectRecord } from './records';

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
}

const COMMIT_ATTEMPTS = 5;
/** The index caps one transaction at 100 writes; every commit here is built to stay within it. */
const MAX_TRANSACTION_OPS = 100;

export class ObjectCommitter {
  constructor(
    private readonly index: RecordIndex,
    private readonly garbage: Garbage,
    private readonly now: () => Date,
  ) {}

  /** The current object under a key, without its chunked part list (enough for conditions and ETags). */
  async current(bucket: string, key: string): Promise<ObjectRecord | undefined> {
    const item = await this.index.get(objectsPk(bucket), key);
    return item ? objectFromItem(item) : undefined;
  }

  /**
   * Publishes `record`: the new blobs stop being pending, the replaced object's blobs become garbage. A
   * concurrent writer makes the condition fail; we re-read and retry, so the last writer wins as in S3, without
   * losing track of any blob. A chunked manifest must already be written (writeManifestChunks).
   */
  async commit(record: ObjectRecord, options: CommitOptions): Promise<void> {
    const preconditions = options.preconditions ?? {};
    for (let attempt = 0; attempt < COMMIT_ATTEMPTS; attempt++) {
      const current = await this.current(record.bucket, record.key);
      checkWritePreconditions(preconditions, record.key, current);
      const now = this.now();
      const ops: WriteOp[] = [
        { op: 'put', item: objectItem(record), condition: sameObject(current) },
        // The pending entry must still be there: if the sweep judged this write dead and removed its blob,
        // the commit must fail rather than publish an object whose blob is gone.
        ...options.newBlobs.map((blobId): WriteOp => ({ op: 'delete', pk: ledgerPk(blobId), sk: blobId, condition: { kind: 'equals', attr: 'kind', value: 'pending' } })),
        ...(options.extraOps ?? []),
        ...(current ? this.garbage.opsFor(current, now) : []),
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
        continue;
      }
      // The replaced version is shredded in the background; its ledger entries make that survive a stop.
      if (current) this.garbage.collectLater(current);
      return;
    }
    throw tooManyWriters(record.key);
  }

  /**
   * Removes the object under a key and shreds it: the index item (one copy of the wrapped key) goes in the
   * transaction that makes its blobs garbage, then the blobs (the other copy) are deleted before this returns.
   * A missing key is not an error (S3 answers 204), unless `ifMatch` asks for an object. The condition is judged on
   * the object the transaction removes (it is conditional on that object's id), so an overwrite that lands between
   * the check and the delete fails the transaction and is judged again: a changed object is never removed.
   */
  async remove(bucket: string, key: string, preconditions: DeletePreconditions = {}): Promise<void> {
    for (let attempt = 0; attempt < COMMIT_ATTEMPTS; attempt++) {
      const current = await this.current(bucket, key);
      if (preconditions.ifMatch !== undefined) checkIfMatch(preconditions.ifMatch, key, current);
      if (!current) return;
      try {
        await this.index.transact([
          { op: 'delete', pk: objectsPk(bucket), sk: key, condition: sameObject(current) },
          ...this.garbage.opsFor(current, this.now()),
        ]);
      } catch (e) {
        if (e instanceof ConditionFailedError) continue;
        if (e instanceof ConditionalRequestConflictError) {
          await backoff(attempt);
          continue;
        }
        throw e;
      }
      await this.garbage.collectObject(current);
      return;
    }
    throw tooManyWriters(key);
  }
}

function sameObject(current: ObjectRecord | undefined): Condition {
  return current ? { kind: 'equals', attr: 'objectId', value: current.objectId } : { kind: 'absent' };
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
