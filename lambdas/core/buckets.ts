// Buckets: one index item each, in one partition. Every object operation checks its bucket here first.
import { BucketAlreadyOwnedByYouError, BucketNotEmptyError, ConditionFailedError, NoSuchBucketError } from './errors';
import { walk } from './index-walk';
import type { RecordIndex } from './ports';
import { BUCKETS_PK, bucketFromItem, bucketItem, objectsPk, type BucketRecord } from './records';

export class Buckets {
  constructor(
    private readonly index: RecordIndex,
    private readonly now: () => Date,
  ) {}

  list(): Promise<BucketRecord[]> {
    return walk(this.index, BUCKETS_PK, { pageSize: 1000 }).all(bucketFromItem);
  }

  async create(name: string): Promise<BucketRecord> {
    const record: BucketRecord = { name, createdAt: this.now() };
    try {
      await this.index.put(bucketItem(record), { kind: 'absent' });
    } catch (e) {
      if (e instanceof ConditionFailedError) {
        throw new BucketAlreadyOwnedByYouError(`Bucket ${name} already exists and is yours.`, { BucketName: name });
      }
      throw e;
    }
    return record;
  }

  /** The bucket, or NoSuchBucket. */
  async head(name: string): Promise<BucketRecord> {
    const item = await this.index.get(BUCKETS_PK, name);
    if (!item) throw new NoSuchBucketError(`Bucket ${name} does not exist. Create it first.`, { BucketName: name });
    return bucketFromItem(item);
  }

  async delete(name: string): Promise<void> {
    await this.head(name);
    const page = await this.index.query(objectsPk(name), { limit: 1 });
    if (page.items.length > 0) {
      throw new BucketNotEmptyError(`Bucket ${name} is not empty; delete its objects first.`, { BucketName: name });
    }
    await this.index.delete(BUCKETS_PK, name);
  }
}
