// In-memory RecordIndex and BlobStore for the partition-load simulation: 100,000 requests through the real object
// service in seconds, where a durable index would spend them in fsync. The index passes the same contract as the
// SQLite and DynamoDB adapters (test/core/memory-index.test.ts), so what it counts is what they would be asked.
import { Readable } from 'node:stream';
import { BlobNotFoundError, ConditionFailedError } from '../../lambdas/core/errors';
import { utf8Compare } from '../../lambdas/core/list-keys';
import type { AttrValue, BlobInfo, BlobPage, BlobMetadata, BlobStore, BlobWriteOptions, ByteRange, Condition, IndexItem, QueryOptions, QueryPage, RecordIndex, WriteOp } from '../../lambdas/core/ports';

function copyValue(v: AttrValue): AttrValue {
  if (Buffer.isBuffer(v)) return Buffer.from(v);
  if (Array.isArray(v)) return v.map(copyValue);
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, copyValue(x)]));
  return v;
}

const clone = (item: IndexItem): IndexItem => ({ ...item, attrs: Object.fromEntries(Object.entries(item.attrs).map(([k, v]) => [k, copyValue(v)])) });

function holds(current: IndexItem | undefined, condition: Condition | undefined): boolean {
  if (!condition) return true;
  if (condition.kind === 'absent') return current === undefined;
  if (condition.kind === 'present') return current !== undefined;
  return current !== undefined && current.attrs[condition.attr] === condition.value;
}

export class MemoryRecordIndex implements RecordIndex {
  private readonly partitions = new Map<string, Map<string, IndexItem>>();

  async get(pk: string, sk: string): Promise<IndexItem | undefined> {
    const item = this.partitions.get(pk)?.get(sk);
    return item ? clone(item) : undefined;
  }

  async put(item: IndexItem, condition?: Condition): Promise<void> {
    await this.transact([{ op: 'put', item, ...(condition ? { condition } : {}) }]);
  }

  async delete(pk: string, sk: string, condition?: Condition): Promise<void> {
    await this.transact([{ op: 'delete', pk, sk, ...(condition ? { condition } : {}) }]);
  }

  async query(pk: string, options: QueryOptions): Promise<QueryPage> {
    const sorted = [...(this.partitions.get(pk)?.values() ?? [])]
      .filter((i) => (options.prefix === undefined || i.sk.startsWith(options.prefix)) && (options.startAfter === undefined || utf8Compare(i.sk, options.startAfter) > 0))
      .sort((a, b) => utf8Compare(a.sk, b.sk));
    return this.page(sorted, options.limit, (i) => i.sk);
  }

  async queryGsi1(gsi1pk: string, options: QueryOptions): Promise<QueryPage> {
    const position = (i: IndexItem) => JSON.stringify([i.gsi1sk ?? '', i.pk, i.sk]);
    const order = (a: IndexItem, b: IndexItem) => utf8Compare(a.gsi1sk ?? '', b.gsi1sk ?? '') || utf8Compare(a.pk, b.pk) || utf8Compare(a.sk, b.sk);
    const all = [...this.partitions.values()].flatMap((p) => [...p.values()]).filter((i) => i.gsi1pk === gsi1pk && i.gsi1sk !== undefined);
    let sorted = all.filter((i) => options.prefix === undefined || (i.gsi1sk ?? '').startsWith(options.prefix)).sort(order);
    if (options.startAfter !== undefined) {
      const [g, pk, sk] = JSON.parse(options.startAfter) as [string, string, string];
      const after: IndexItem = { pk, sk, gsi1pk, gsi1sk: g, attrs: {} };
      sorted = sorted.filter((i) => order(i, after) > 0);
    }
    return this.page(sorted, options.limit, position);
  }

  async transact(ops: readonly WriteOp[]): Promise<void> {
    for (const op of ops) {
      const pk = op.op === 'put' ? op.item.pk : op.pk;
      const sk = op.op === 'put' ? op.item.sk : op.sk;
      if (!holds(this.partitions.get(pk)?.get(sk), op.condition)) throw new ConditionFailedError('The conditional request failed');
    }
    for (const op of ops) {
      if (op.op === 'put') {
        let partition = this.partitions.get(op.item.pk);
        if (!partition) this.partitions.set(op.item.pk, (partition = new Map()));
        partition.set(op.item.sk, clone(op.item));
      } else {
        this.partitions.get(op.pk)?.delete(op.sk);
      }
    }
  }

  private page(sorted: IndexItem[], limit: number, cursor: (i: IndexItem) => string): QueryPage {
    if (limit <= 0) return { items: [] };
    const items = sorted.slice(0, limit).map(clone);
    const last = items.at(-1);
    return sorted.length > limit && last ? { items, lastKey: cursor(last) } : { items };
  }
}

export class MemoryBlobStore implements BlobStore {
  private readonly blobs = new Map<string, { body: Buffer; metadata: BlobMetadata; lastModified: Date }>();

  async put(blobId: string, body: Readable, metadata: BlobMetadata, options: BlobWriteOptions = {}): Promise<{ size: number }> {
    const chunks: Buffer[] = [];
    for await (const chunk of body) chunks.push(chunk as Buffer);
    await options.beforePublish?.();
    const bytes = Buffer.concat(chunks);
    this.blobs.set(blobId, { body: bytes, metadata: { ...metadata }, lastModified: new Date() });
    return { size: bytes.length };
  }

  async get(blobId: string, range?: ByteRange): Promise<Readable> {
    const blob = this.blobs.get(blobId);
    if (!blob) throw new BlobNotFoundError(`blob ${blobId} not found`);
    return Readable.from([range ? blob.body.subarray(range.start, range.end + 1) : blob.body]);
  }

  async head(blobId: string): Promise<BlobInfo> {
    const blob = this.blobs.get(blobId);
    if (!blob) throw new BlobNotFoundError(`blob ${blobId} not found`);
    return { size: blob.body.length, metadata: blob.metadata, lastModified: blob.lastModified };
  }

  async replaceMetadata(blobId: string, metadata: BlobMetadata): Promise<void> {
    const blob = this.blobs.get(blobId);
    if (!blob) throw new BlobNotFoundError(`blob ${blobId} not found`);
    blob.metadata = { ...metadata };
  }

  async delete(blobId: string): Promise<void> {
    this.blobs.delete(blobId);
  }

  async list(after: string | undefined, limit: number): Promise<BlobPage> {
    const ids = [...this.blobs.keys()].filter((id) => after === undefined || id > after).sort().slice(0, limit);
    const last = ids.at(-1);
    return ids.length === limit && last !== undefined ? { blobIds: ids, next: last } : { blobIds: ids };
  }
}
