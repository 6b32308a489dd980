// Buckets: one item each, in its own partition (every request reads its bucket's item, so no partition is read
// by every request), listed by name through gsi1. Every object operation checks its bucket here first.
// A bucket from before per-bucket partitions lives in the one legacy partition until first read, when it moves.
import { ROOT_OWNER } from './access';
import { BucketAlreadyExistsError, BucketAlreadyOwnedByYouError, BucketNotEmptyError, ConditionFailedError, NoSuchBucketError, OperationAbortedError } from './errors';
import { walk, walkGsi1 } from './index-walk';
import type { IndexItem, RecordIndex } from './ports';
import { BUCKET_SK, BUCKETS_GSI1PK, LEGACY_BUCKETS_PK, bucketFromItem, bucketItem, bucketPk, objectsPk, type BucketRecord, type VersioningState } from './records';

export class Buckets {
  constructor(
    private readonly index: RecordIndex,
    private readonly now: () => Date,
  ) {}

  /** Every bucket by name (gsi1, which DynamoDB keeps eventually consistent, as S3's ListBuckets is). */
  async list(): Promise<BucketRecord[]> {
    const current = await walkGsi1(this.index, BUCKETS_GSI1PK, { pageSize: 1000 }).all(bucketFromItem);
    const legacy = await walk(this.index, LEGACY_BUCKETS_PK, { pageSize: 1000 }).all(bucketFromItem);
    if (legacy.length === 0) return current;
    const byName = new Map([...legacy, ...current].map((b) => [b.name, b]));
    return [...byName.values()].sort((a, b) => Buffer.compare(Buffer.from(a.name), Buffer.from(b.name)));
  }

  /** Creates the bucket for `owner` (access.ts ownerIdOf); a name already taken says whose it is. */
  async create(name: string, owner: string = ROOT_OWNER): Promise<BucketRecord> {
    const record: BucketRecord = { name, createdAt: this.now(), owner };
    try {
      await this.index.transact([
        { op: 'put', item: bucketItem(record), condition: { kind: 'absent' } },
        // Deleting an absent row is a no-op: this is the check that no legacy item holds the name.
        { op: 'delete', pk: LEGACY_BUCKETS_PK, sk: name, condition: { kind: 'absent' } },
      ]);
    } catch (e) {
      if (!(e instanceof ConditionFailedError)) throw e;
      // Read back who holds it; a bucket deleted in between reads as NoSuchBucket, and the client may retry.
      const existing = await this.head(name);
      if (existing.owner === owner) {
        throw new BucketAlreadyOwnedByYouError(`Bucket ${name} already exists and is yours.`, { BucketName: name });
      }
      throw new BucketAlreadyExistsError(`Bucket ${name} already exists and belongs to another owner; bucket names are shared by every user of this store: pick another name.`, {
        BucketName: name,
      });
    }
    return record;
  }

  /** The bucket, or NoSuchBucket. One read of the bucket's own partition. */
  async head(name: string): Promise<BucketRecord> {
    const item = await this.index.get(bucketPk(name), BUCKET_SK);
    if (item) return bucketFromItem(item);
    const legacy = await this.index.get(LEGACY_BUCKETS_PK, name);
    if (!legacy) throw new NoSuchBucketError(`Bucket ${name} does not exist. Create it first.`, { BucketName: name });
    return this.moveLegacy(legacy);
  }

  /** Moves a bucket item from the legacy partition to its own, in one transaction; a concurrent move wins alike. */
  private async moveLegacy(legacy: IndexItem): Promise<BucketRecord> {
    const record = bucketFromItem(legacy);
    try {
      await this.index.transact([
        { op: 'put', item: bucketItem(record), condition: { kind: 'absent' } },
        { op: 'delete', pk: LEGACY_BUCKETS_PK, sk: record.name, condition: { kind: 'present' } },
      ]);
    } catch (e) {
      if (!(e instanceof ConditionFailedError)) throw e;
      return this.head(record.name);
    }
    return record;
  }

  /**
   * Sets or clears the bucket's default CMK (an ARN already resolved and checked). Conditional on the very bucket read:
   * a bucket deleted and created again in between (perhaps by another owner) keeps its own row, never this one's owner
   * and creation date; the caller gets NoSuchBucket, or OperationAborted to retry against the bucket as it is now.
   */
  async setDefaultKey(name: string, keyId: string | undefined): Promise<BucketRecord> {
    const read = await this.head(name);
    const { defaultKeyId: _old, ...current } = read;
    const record: BucketRecord = { ...current, ...(keyId === undefined ? {} : { defaultKeyId: keyId }) };
    try {
      // createdAt (ms) tells one life of a bucket name from the next; concurrent settings of one bucket keep it, so
      // they do not conflict (the last one wins, as in S3).
      await this.index.put(bucketItem(record), { kind: 'equals', attr: 'createdAt', value: read.createdAt.getTime() });
    } catch (e) {
      if (!(e instanceof ConditionFailedError)) throw e;
      await this.head(name); // NoSuchBucket when it is gone for good
      throw new OperationAbortedError(
        `Bucket ${name} was deleted and created again while its default encryption was being set; nothing was changed. Check who owns it now, then retry.`,
        { BucketName: name },
      );
    }
    return record;
  }

  /**
   * Sets the bucket's versioning state, conditional on the very bucket read (as setDefaultKey). A bucket never goes
   * back to having no versioning: S3 offers only Enabled and Suspended once it was enabled.
   */
  async setVersioning(name: string, state: VersioningState): Promise<BucketRecord> {
    const read = await this.head(name);
    const record: BucketRecord = { ...read, versioning: state };
    try {
      await this.index.put(bucketItem(record), { kind: 'equals', attr: 'createdAt', value: read.createdAt.getTime() });
    } catch (e) {
      if (!(e instanceof ConditionFailedError)) throw e;
      await this.head(name);
      throw new OperationAbortedError(`Bucket ${name} was deleted and created again while its versioning was being set; nothing was changed. Retry.`, { BucketName: name });
    }
    return record;
  }

  /** The names of buckets whose default encryption names each CMK: the key lifecycle keeps those CMKs. */
  async defaultKeys(): Promise<Map<string, string[]>> {
    const out = new Map<string, string[]>();
    for (const b of await this.list()) {
      if (b.defaultKeyId === undefined) continue;
      out.set(b.defaultKeyId, [...(out.get(b.defaultKeyId) ?? []), b.name]);
    }
    return out;
  }

  async delete(name: string): Promise<void> {
    await this.head(name);
    const page = await this.index.query(objectsPk(name), { limit: 1 });
    if (page.items.length > 0) {
      // A key whose versions are all noncurrent or delete markers keeps its latest entry: such a bucket is not empty (as S3).
      throw new BucketNotEmptyError(`Bucket ${name} is not empty; delete its objects (and, if it has versioning, every version and delete marker) first.`, { BucketName: name });
    }
    await this.index.delete(bucketPk(name), BUCKET_SK);
  }
}
