// Every index row authenticated: an RecordIndex in front of the adapter's that MACs each row it writes and
// refuses each row it reads whose MAC does not hold. Rule it never breaks: no row that fails its check reaches
// the code above it, so nothing forged, edited or moved in the table is ever served or acted on.
import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import { IntegrityError } from '../errors';
import type { Logger } from '../logger';
import type { Condition, IndexItem, RecordIndex, QueryOptions, QueryPage, WriteOp } from '../ports';
import { METRIC_NAMESPACE } from '../key-lifecycle/report';
import { INDEX_KEY_PK, type IndexKey } from './index-key';
import { canonicalRow, ROW_MAC_ATTR } from './row-encoding';

const ROW_MAC_INFO = 'sealstore/v1 index row';

/**
 * A row that failed its check. The client (perhaps not yet authenticated) learns only that a record failed; the
 * log line names the row and why.
 */
export class TamperedRowError extends IntegrityError {
  constructor(
    readonly pk: string,
    readonly sk: string,
    readonly why: string,
  ) {
    super('A record this request depends on failed its integrity check: it was written or changed outside sealstore. Nothing was served from it; the server log names the record.');
  }
}

export class AuthenticatedIndex implements RecordIndex {
  private macKey: Promise<Buffer> | undefined;
  private rejected = 0;

  constructor(
    private readonly inner: RecordIndex,
    private readonly key: IndexKey,
    private readonly logger?: Logger,
  ) {}

  async get(pk: string, sk: string): Promise<IndexItem | undefined> {
    const item = await this.inner.get(pk, sk);
    if (item === undefined || pk === INDEX_KEY_PK) return item;
    await this.verify(item);
    return item;
  }

  async put(item: IndexItem, condition?: Condition): Promise<void> {
    return this.inner.put(await this.seal(item), condition);
  }

  delete(pk: string, sk: string, condition?: Condition): Promise<void> {
    return this.inner.delete(pk, sk, condition);
  }

  async query(pk: string, options: QueryOptions): Promise<QueryPage> {
    const page = await this.inner.query(pk, options);
    for (const item of page.items) if (item.pk !== INDEX_KEY_PK) await this.verify(item);
    return page;
  }

  async queryGsi1(gsi1pk: string, options: QueryOptions): Promise<QueryPage> {
    const page = await this.inner.queryGsi1(gsi1pk, options);
    for (const item of page.items) await this.verify(item);
    return page;
  }

  async transact(ops: readonly WriteOp[]): Promise<void> {
    const sealed: WriteOp[] = [];
    for (const op of ops) sealed.push(op.op === 'put' ? { ...op, item: await this.seal(op.item) } : op);
    return this.inner.transact(sealed);
  }

  /** Rewrites each given raw row with its MAC: adopting an index written without them (see adopt.ts). */
  async sealRows(items: AsyncIterable<IndexItem>): Promise<number> {
    let n = 0;
    for await (const item of items) {
      if (item.pk === INDEX_KEY_PK) continue;
      await this.inner.put(await this.seal(item));
      n++;
    }
    return n;
  }

  private async seal(item: IndexItem): Promise<IndexItem> {
    if (item.pk === INDEX_KEY_PK) return item;
    const mac = await this.mac(item, true);
    return { ...item, attrs: { ...item.attrs, [ROW_MAC_ATTR]: mac } };
  }

  private async verify(item: IndexItem): Promise<void> {
    const stored = item.attrs[ROW_MAC_ATTR];
    if (!Buffer.isBuffer(stored)) return this.refuse(item, 'it carries no MAC');
    const expected = await this.mac(item, false);
    if (stored.length !== expected.length || !timingSafeEqual(stored, expected)) return this.refuse(item, 'its MAC does not match its contents and place');
  }

  private refuse(item: IndexItem, why: string): never {
    this.rejected += 1;
    const error = new TamperedRowError(item.pk, item.sk, why);
    this.logger?.error(`index row ${JSON.stringify(item.pk)} / ${JSON.stringify(item.sk)} failed authentication: ${why}; refusing it`, {
      pk: item.pk,
      sk: item.sk,
      why,
      rejectedRows: this.rejected,
      // An EMF document too: CloudWatch turns each refusal into a count of the Sealstore/IndexRowsRejected metric.
      _aws: {
        Timestamp: Date.now(),
        CloudWatchMetrics: [{ Namespace: METRIC_NAMESPACE, Dimensions: [['Component']], Metrics: [{ Name: 'IndexRowsRejected', Unit: 'Count' }] }],
      },
      Component: 'index',
      IndexRowsRejected: 1,
    });
    throw error;
  }

  private async mac(item: IndexItem, forWrite: boolean): Promise<Buffer> {
    this.macKey ??= this.key.get({ create: forWrite }).then((indexKey) => Buffer.from(hkdfSync('sha256', indexKey, Buffer.alloc(0), ROW_MAC_INFO, 32)));
    let macKey: Buffer;
    try {
      macKey = await this.macKey;
    } catch (e) {
      this.macKey = undefined;
      throw e;
    }
    return createHmac('sha256', macKey).update(canonicalRow(item)).digest();
  }
}
