// The index walk over the real embedded index (SQLite, binary UTF-8 order), with its queries counted: every page
// is read once, a listing's jump past a common prefix takes effect on the very next page, and keys whose UTF-16
// and UTF-8 orders disagree (U+E000–U+FFFF against characters above U+FFFF) neither repeat nor go missing.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteRecordIndex } from '../../lambdas/adapters/embedded/sqlite-index';
import { Buckets } from '../../lambdas/core/buckets';
import { walk, walkGsi1 } from '../../lambdas/core/index-walk';
import { listObjects } from '../../lambdas/core/object-listing';
import type { IndexItem, QueryOptions, QueryPage, RecordIndex } from '../../lambdas/core/ports';
import { objectItem, type ObjectRecord } from '../../lambdas/core/records';

describe('index walk', () => {
  let dir: string;
  let raw: SqliteRecordIndex;
  let queries: QueryOptions[];
  let index: RecordIndex;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sealstore-walk-'));
    raw = new SqliteRecordIndex(join(dir, 'index.sqlite'));
    queries = [];
    const counted = Object.create(raw) as RecordIndex;
    counted.query = (pk: string, options: QueryOptions): Promise<QueryPage> => {
      queries.push(options);
      return raw.query(pk, options);
    };
    index = counted;
  });
  afterEach(async () => {
    await raw.close();
    await rm(dir, { recursive: true, force: true });
  });

  const item = (pk: string, sk: string, extra: Partial<IndexItem> = {}): IndexItem => ({ pk, sk, attrs: {}, ...extra });
  const putAll = async (pk: string, sks: readonly string[]) => {
    for (let i = 0; i < sks.length; i += 90) await raw.transact(sks.slice(i, i + 90).map((sk) => ({ op: 'put', item: item(pk, sk) })));
  };

  it('reads every item once, in binary UTF-8 order, one query per page', async () => {
    const sks = Array.from({ length: 25 }, (_, i) => `k${String(i).padStart(2, '0')}`);
    await putAll('p', [...sks, '\uE000', '😀']);
    const seen = (await walk(index, 'p', { pageSize: 10 }).all((i) => i.sk));
    expect(seen).toEqual([...sks, '\uE000', '😀']); // U+E000 (EE 80 80) sorts before U+1F600 (F0 9F 98 80)
    expect(queries.length).toBe(3);
  });

  it('stops when the consumer stops: no page is read ahead', async () => {
    await putAll('p', Array.from({ length: 30 }, (_, i) => `k${String(i).padStart(2, '0')}`));
    for await (const i of walk(index, 'p', { pageSize: 10 })) if (i.sk === 'k05') break;
    expect(queries.length).toBe(1);
  });

  it('a page size of 0 ends the walk without reading', async () => {
    await putAll('p', ['a', 'b']);
    let budget = 1;
    const seen: string[] = [];
    for await (const page of walk(index, 'p', { pageSize: () => budget }).pages()) {
      seen.push(...page.items.map((i) => i.sk));
      budget = 0;
    }
    expect(seen).toEqual(['a']);
    expect(queries.length).toBe(1);
  });

  it('skipPast moves the very next page past a common prefix', async () => {
    await putAll('p', [...Array.from({ length: 50 }, (_, i) => `a/${String(i).padStart(2, '0')}`), 'b', 'c']);
    const walker = walk(index, 'p', { pageSize: 10 });
    const seen: string[] = [];
    for await (const i of walker) {
      seen.push(i.sk);
      if (i.sk.startsWith('a/')) walker.skipPast('a/\u{10FFFF}');
    }
    expect(seen.filter((s) => !s.startsWith('a/'))).toEqual(['b', 'c']);
    expect(queries.length).toBe(2);
    expect(queries[1]?.startAfter).toBe('a/\u{10FFFF}');
  });

  it('lists keys whose UTF-16 and UTF-8 orders disagree once each, rolled up under a delimiter', async () => {
    const buckets = new Buckets(index, () => new Date());
    await buckets.create('b');
    const keys = [...Array.from({ length: 5 }, (_, i) => `\uE000/${i}`), '😀a', ...Array.from({ length: 50 }, (_, i) => `😀b/${String(i).padStart(2, '0')}`)];
    const record = (key: string): ObjectRecord => ({
      bucket: 'b', key, objectId: 'o', size: 0, etag: 'e', contentType: 'x', headers: {}, userMetadata: {}, lastModified: new Date(0),
      keyId: 'k', keyMaterialId: 'm', wrappedKey: Buffer.alloc(1), wrappedAt: new Date(0), parts: [], mac: Buffer.alloc(32), nameTag: Buffer.alloc(32),
    });
    for (let i = 0; i < keys.length; i += 90) await raw.transact(keys.slice(i, i + 90).map((key) => ({ op: 'put', item: objectItem(record(key)) })));
    queries.length = 0;
    const page = await listObjects(index, buckets, { bucket: 'b', delimiter: '/', maxKeys: 10 });
    expect(page.objects.map((o) => o.key)).toEqual(['😀a']);
    expect(page.commonPrefixes).toEqual(['\uE000/', '😀b/']);
    expect(page.isTruncated).toBe(false);
    expect(queries.length).toBe(2); // the first page, then straight past 😀b/
  });

  it('a secondary-index walk follows the opaque cursors the index hands out', async () => {
    await raw.transact(Array.from({ length: 12 }, (_, i) => ({ op: 'put' as const, item: item('p', `k${String(i).padStart(2, '0')}`, { gsi1pk: 'g', gsi1sk: `s${String(i).padStart(2, '0')}` }) })));
    const seen = await walkGsi1(index, 'g', { pageSize: 5 }).all((i) => i.sk);
    expect(seen).toEqual(Array.from({ length: 12 }, (_, i) => `k${String(i).padStart(2, '0')}`));
  });
});
