// How hard each DynamoDB partition is pushed at a stated request rate. 100,000 PUTs, GETs and LISTs across 1,000
// buckets run through the real object service over an index that counts, per partition key and per simulated
// second, the capacity units DynamoDB would charge (writes: 1 WCU per KB, twice inside a transaction, plus the
// gsi1 write; strongly consistent reads: 1 RCU per 4 KB; gsi1 reads: half). The peaks must stay under what one
// partition serves (1,000 WCU/s, 3,000 RCU/s). Grouping the shards back into the partitions they replace shows
// the layout before spreading: docs/TABLE-DESIGN.md holds both tables.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { EmbeddedKeyVault } from '../../lambdas/adapters/embedded/embedded-key-vault';
import { utf8Compare } from '../../lambdas/core/list-keys';
import { ObjectService } from '../../lambdas/core/object-service';
import type { AttrValue, Condition, IndexItem, QueryOptions, QueryPage, RecordIndex, WriteOp } from '../../lambdas/core/ports';
import { MemoryBlobStore, MemoryRecordIndex } from '../support/memory-ports';

const PUT_RATE = 10_000; // PUT/s the deployment is asked to take
const MIX = { put: 0.6, get: 0.3, list: 0.1 };
const REQUEST_RATE = PUT_RATE / MIX.put; // all requests per second
/**
 * The rates, not the count, set the peaks: `npm test` runs 25,000 requests (1.5 simulated seconds, ~20 s of CPU);
 * `npm run scale` runs the 100,000 that docs/TABLE-DESIGN.md reports.
 */
const REQUESTS = Number(process.env.SEALSTORE_SCALE_REQUESTS ?? 25_000);
const BUCKETS = 1_000;
const KEYS_PER_BUCKET = 200; // so about a third of PUTs overwrite
const PARTITION_WCU = 1_000;
const PARTITION_RCU = 3_000;

type Units = Map<string, number[]>; // partition → units per simulated second

function attrBytes(v: AttrValue): number {
  if (Buffer.isBuffer(v)) return v.length;
  if (typeof v === 'string') return Buffer.byteLength(v);
  if (typeof v === 'number') return 8;
  if (v === null || typeof v === 'boolean') return 1;
  if (Array.isArray(v)) return v.reduce<number>((n, x) => n + attrBytes(x) + 1, 3);
  return Object.entries(v).reduce<number>((n, [k, x]) => n + Buffer.byteLength(k) + attrBytes(x) + 1, 3);
}

/** DynamoDB's item size: names and values of every attribute, keys included. */
function itemBytes(i: IndexItem): number {
  let n = 2 + Buffer.byteLength(i.pk) + 2 + Buffer.byteLength(i.sk);
  if (i.gsi1pk !== undefined) n += 6 + Buffer.byteLength(i.gsi1pk);
  if (i.gsi1sk !== undefined) n += 6 + Buffer.byteLength(i.gsi1sk);
  for (const [k, v] of Object.entries(i.attrs)) n += Buffer.byteLength(k) + attrBytes(v);
  return n;
}

const wcu = (bytes: number) => Math.max(1, Math.ceil(bytes / 1024));
const rcu = (bytes: number) => Math.max(1, Math.ceil(bytes / 4096));

/** Counts capacity by partition key; `second` is the simulated second the current request falls in. */
class CapacityCountingIndex implements RecordIndex {
  readonly writes: Units = new Map();
  readonly reads: Units = new Map();
  second = 0;

  constructor(private readonly inner: RecordIndex) {}

  private add(units: Units, partition: string, n: number): void {
    let row = units.get(partition);
    if (!row) units.set(partition, (row = []));
    row[this.second] = (row[this.second] ?? 0) + n;
  }

  private async charge(op: WriteOp, factor: number): Promise<void> {
    const pk = op.op === 'put' ? op.item.pk : op.pk;
    const sk = op.op === 'put' ? op.item.sk : op.sk;
    const old = await this.inner.get(pk, sk);
    const bytes = Math.max(op.op === 'put' ? itemBytes(op.item) : 0, old ? itemBytes(old) : 0);
    this.add(this.writes, pk, factor * wcu(bytes));
    // The secondary index is written where the item enters it and where it leaves it (never transactional).
    const entering = op.op === 'put' ? op.item : undefined;
    const into = entering?.gsi1pk;
    if (entering && into !== undefined) this.add(this.writes, `gsi1:${into}`, wcu(itemBytes(entering)));
    if (old?.gsi1pk !== undefined && old.gsi1pk !== into) this.add(this.writes, `gsi1:${old.gsi1pk}`, wcu(itemBytes(old)));
  }

  async get(pk: string, sk: string): Promise<IndexItem | undefined> {
    const item = await this.inner.get(pk, sk);
    this.add(this.reads, pk, rcu(item ? itemBytes(item) : 1));
    return item;
  }

  async put(item: IndexItem, condition?: Condition): Promise<void> {
    await this.charge({ op: 'put', item }, 1);
    await this.inner.put(item, condition);
  }

  async delete(pk: string, sk: string, condition?: Condition): Promise<void> {
    await this.charge({ op: 'delete', pk, sk }, 1);
    await this.inner.delete(pk, sk, condition);
  }

  async query(pk: string, options: QueryOptions): Promise<QueryPage> {
    const page = await this.inner.query(pk, options);
    this.add(this.reads, pk, rcu(page.items.reduce((n, i) => n + itemBytes(i), 0)));
    return page;
  }

  async queryGsi1(gsi1pk: string, options: QueryOptions): Promise<QueryPage> {
    const page = await this.inner.queryGsi1(gsi1pk, options);
    this.add(this.reads, `gsi1:${gsi1pk}`, rcu(page.items.reduce((n, i) => n + itemBytes(i), 0)) / 2);
    return page;
  }

  async transact(ops: readonly WriteOp[]): Promise<void> {
    for (const op of ops) await this.charge(op, 2);
    await this.inner.transact(ops);
  }
}

/** The partition a sharded key replaces: what the layout before spreading would have written. */
function unsharded(partition: string): string {
  return partition
    .replace(/^L#\d{3}$/, 'L')
    .replace(/^B#.*$/, 'B')
    .replace(/^gsi1:(K#.*)#\d{2}$/, 'gsi1:$1');
}

function peaks(units: Units, group: (p: string) => string = (p) => p): Array<{ partition: string; peak: number; perRequest: number }> {
  const grouped: Units = new Map();
  for (const [p, row] of units) {
    const g = group(p);
    const into = grouped.get(g) ?? [];
    row.forEach((n, s) => (into[s] = (into[s] ?? 0) + n));
    grouped.set(g, into);
  }
  return [...grouped]
    .map(([partition, row]) => ({ partition, peak: Math.max(...row.map((n) => n ?? 0)), perRequest: row.reduce((a, n) => a + (n ?? 0), 0) / REQUESTS }))
    .sort((a, b) => b.peak - a.peak || utf8Compare(a.partition, b.partition));
}

/** Units per request over every partition. */
const total = (units: Units) => [...units.values()].reduce((n, row) => n + row.reduce((a, x) => a + (x ?? 0), 0), 0) / REQUESTS;

/** "gsi1:K#arn:aws:kms:…" is long; the family is what a reader needs. */
const label = (p: string) => p.replace(/K#[^#]+/, 'K#<cmk>').replace(/^O#.*/, 'O#<bucket>').replace(/^U#.*/, 'U#<bucket>').replace(/^B#.+/, 'B#<bucket>');

describe('partition load at a stated request rate', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sealstore-scale-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it(`keeps every partition under DynamoDB's per-partition limits at ${PUT_RATE} PUT/s (${REQUESTS} requests, ${BUCKETS} buckets)`, async () => {
    const vault = await EmbeddedKeyVault.open(join(dir, 'keys'));
    const keyId = (await vault.createKey({ alias: 'alias/scale' })).arn;
    const index = new CapacityCountingIndex(new MemoryRecordIndex());
    const service = new ObjectService({ vault, blobs: new MemoryBlobStore(), index, keys: { activeKeyId: async () => keyId } });
    const bucket = (i: number) => `bucket-${String(i).padStart(4, '0')}`;
    for (let b = 0; b < BUCKETS; b++) await service.createBucket(bucket(b));
    index.writes.clear();
    index.reads.clear();

    // A fixed sequence (a linear congruential generator), so the figures repeat run to run.
    let seed = 42;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const written = new Map<string, string[]>();
    const counts = { put: 0, get: 0, list: 0 };
    const started = Date.now();
    for (let r = 0; r < REQUESTS; r++) {
      index.second = Math.floor(r / REQUEST_RATE);
      const b = bucket(Math.floor(random() * BUCKETS));
      const roll = random();
      const keys = written.get(b) ?? [];
      if (roll < MIX.put || keys.length === 0) {
        const key = `k/${String(Math.floor(random() * KEYS_PER_BUCKET)).padStart(3, '0')}`;
        await service.putObject({ bucket: b, key, body: () => Readable.from([Buffer.from(`body ${r}`)]) });
        if (!keys.includes(key)) written.set(b, [...keys, key]);
        counts.put++;
      } else if (roll < MIX.put + MIX.get) {
        const record = await service.headObject(b, keys[Math.floor(random() * keys.length)]!);
        for await (const chunk of await service.openObject(record)) void chunk;
        counts.get++;
      } else {
        await service.listObjects({ bucket: b, prefix: 'k/', delimiter: '/', maxKeys: 100 });
        counts.list++;
      }
    }
    await service.settle();
    const seconds = (Date.now() - started) / 1000;

    const writes = peaks(index.writes);
    const reads = peaks(index.reads);
    const before = { writes: peaks(index.writes, unsharded), reads: peaks(index.reads, unsharded) };
    const row = (p: { partition: string; peak: number; perRequest: number }) => `  ${label(p.partition).padEnd(22)} ${String(Math.round(p.peak)).padStart(7)}/s  ${p.perRequest.toFixed(3)} per request`;
    process.stdout.write(
      [
        `partition load: ${counts.put} PUT, ${counts.get} GET, ${counts.list} LIST at ${Math.round(REQUEST_RATE)} req/s (${PUT_RATE} PUT/s), simulated in ${seconds.toFixed(1)} s`,
        `whole table: ${Math.round(total(index.writes) * REQUEST_RATE)} WCU/s, ${Math.round(total(index.reads) * REQUEST_RATE)} RCU/s`,
        'hottest partitions, WCU (sharded layout):',
        ...writes.slice(0, 5).map(row),
        'hottest partitions, RCU (sharded layout):',
        ...reads.slice(0, 5).map(row),
        'the same load on the layout before spreading, WCU:',
        ...before.writes.slice(0, 3).map(row),
        'and RCU:',
        ...before.reads.slice(0, 3).map(row),
        '',
      ].join('\n'),
    );

    expect(counts.put + counts.get + counts.list).toBe(REQUESTS);
    expect(writes[0]!.peak).toBeLessThanOrEqual(PARTITION_WCU);
    expect(reads[0]!.peak).toBeLessThanOrEqual(PARTITION_RCU);
    // And the check can fail: the unsharded layout is over the limit at this rate.
    expect(before.writes[0]!.peak).toBeGreaterThan(PARTITION_WCU);
  }, 600_000);
});
