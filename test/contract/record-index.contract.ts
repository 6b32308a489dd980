// Reusable contract suite for the RecordIndex port: every adapter (SQLite, DynamoDB) must pass it unchanged.
import type { AttrValue, IndexItem, RecordIndex, QueryOptions, QueryPage } from '../../lambdas/core/ports';
import { ConditionFailedError } from '../../lambdas/core/errors';
import { uniqueId } from './streams';

export interface RecordIndexFixture {
  index: RecordIndex;
  cleanup(): Promise<void>;
}

/** Sorts strings by their UTF-8 bytes, the order DynamoDB and S3 use (JS's default order is UTF-16). */
export function utf8Order(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** Follows lastKey until the last page; checks every page respects the limit. */
async function drain(fetch: (startAfter?: string) => Promise<QueryPage>, limit: number): Promise<IndexItem[]> {
  const all: IndexItem[] = [];
  let startAfter: string | undefined;
  for (let pages = 0; pages < 10_000; pages++) {
    const page = await fetch(startAfter);
    expect(page.items.length).toBeLessThanOrEqual(limit);
    all.push(...page.items);
    if (page.lastKey === undefined) return all;
    startAfter = page.lastKey;
  }
  throw new Error('pagination did not terminate');
}

const item = (pk: string, sk: string, attrs: Record<string, AttrValue> = {}, gsi?: [string, string]): IndexItem =>
  gsi ? { pk, sk, gsi1pk: gsi[0], gsi1sk: gsi[1], attrs } : { pk, sk, attrs };

/**
 * Registers the RecordIndex contract under `describe(name)`.
 * Each test works in its own partition (a unique pk), so a shared table needs no reset between tests.
 * Key strings are never empty (DynamoDB forbids empty key attributes) and attribute names avoid
 * pk/sk/gsi1pk/gsi1sk, which adapters may use as physical column or attribute names.
 */
export function describeRecordIndexContract(name: string, setup: () => Promise<RecordIndexFixture>): void {
  describe(name, () => {
    let fixture: RecordIndexFixture;
    let index: RecordIndex;

    beforeAll(async () => {
      fixture = await setup();
      index = fixture.index;
    });
    afterAll(async () => {
      await fixture?.cleanup();
    });

    describe('get and put', () => {
      it('returns undefined for a missing item', async () => {
        expect(await index.get(uniqueId('pk'), 'nothing')).toBeUndefined();
      });

      it('round-trips strings, numbers, booleans, null, Buffers, lists and nested maps', async () => {
        const pk = uniqueId('pk');
        const attrs: Record<string, AttrValue> = {
          text: 'héllo wörld 😀',
          emptyText: '',
          int: 42,
          negative: -7,
          float: 1.5,
          big: 2 ** 53 - 1,
          zero: 0,
          yes: true,
          no: false,
          nothing: null,
          bytes: Buffer.from([0, 1, 2, 253, 254, 255]),
          list: [1, 'two', false, null, Buffer.from('three'), [4, [5]]],
          nested: { a: { b: { c: 'deep', d: Buffer.from('x') } }, e: [{ f: 1 }] },
        };
        await index.put(item(pk, 'k', attrs));
        const back = await index.get(pk, 'k');
        expect(back).toEqual({ pk, sk: 'k', attrs });
        expect(Buffer.isBuffer(back?.attrs.bytes)).toBe(true);
        const nested = back?.attrs.nested as { a: { b: { d: AttrValue } } };
        expect(Buffer.isBuffer(nested.a.b.d)).toBe(true);
      });

      it('round-trips the secondary-index keys', async () => {
        const pk = uniqueId('pk');
        await index.put(item(pk, 'k', { v: 1 }, ['cmk#a', '2024-01-01#obj']));
        expect(await index.get(pk, 'k')).toEqual(item(pk, 'k', { v: 1 }, ['cmk#a', '2024-01-01#obj']));
      });

      it('overwrites an item unconditionally, replacing all attributes', async () => {
        const pk = uniqueId('pk');
        await index.put(item(pk, 'k', { a: 1, b: 2 }));
        await index.put(item(pk, 'k', { c: 3 }));
        expect(await index.get(pk, 'k')).toEqual(item(pk, 'k', { c: 3 }));
      });

      it('keeps items with the same sort key in different partitions apart', async () => {
        const p1 = uniqueId('pk');
        const p2 = uniqueId('pk');
        await index.put(item(p1, 'same', { owner: 'one' }));
        await index.put(item(p2, 'same', { owner: 'two' }));
        expect((await index.get(p1, 'same'))?.attrs.owner).toBe('one');
        expect((await index.get(p2, 'same'))?.attrs.owner).toBe('two');
      });
    });

    describe('conditional put', () => {
      it('writes with absent when the item does not exist', async () => {
        const pk = uniqueId('pk');
        await index.put(item(pk, 'k', { v: 1 }), { kind: 'absent' });
        expect((await index.get(pk, 'k'))?.attrs.v).toBe(1);
      });

      it('rejects absent when the item exists, leaving it unchanged', async () => {
        const pk = uniqueId('pk');
        await index.put(item(pk, 'k', { v: 1 }));
        await expect(index.put(item(pk, 'k', { v: 2 }), { kind: 'absent' })).rejects.toBeInstanceOf(
          ConditionFailedError,
        );
        expect((await index.get(pk, 'k'))?.attrs.v).toBe(1);
      });

      it('writes with present when the item exists', async () => {
        const pk = uniqueId('pk');
        await index.put(item(pk, 'k', { v: 1 }));
        await index.put(item(pk, 'k', { v: 2 }), { kind: 'present' });
        expect((await index.get(pk, 'k'))?.attrs.v).toBe(2);
      });

      it('rejects present when the item does not exist, creating nothing', async () => {
        const pk = uniqueId('pk');
        await expect(index.put(item(pk, 'k', { v: 1 }), { kind: 'present' })).rejects.toBeInstanceOf(
          ConditionFailedError,
        );
        expect(await index.get(pk, 'k')).toBeUndefined();
      });

      it('writes with equals when the string attribute matches (optimistic locking)', async () => {
        const pk = uniqueId('pk');
        await index.put(item(pk, 'k', { etag: 'abc', v: 1 }));
        await index.put(item(pk, 'k', { etag: 'def', v: 2 }), { kind: 'equals', attr: 'etag', value: 'abc' });
        expect((await index.get(pk, 'k'))?.attrs).toEqual({ etag: 'def', v: 2 });
      });

      it('writes with equals when the number attribute matches', async () => {
        const pk = uniqueId('pk');
        await index.put(item(pk, 'k', { version: 7 }));
        await index.put(item(pk, 'k', { version: 8 }), { kind: 'equals', attr: 'version', value: 7 });
        expect((await index.get(pk, 'k'))?.attrs.version).toBe(8);
      });

      it('rejects equals on a different value, a different type, a missing attribute or a missing item', async () => {
        const pk = uniqueId('pk');
        await index.put(item(pk, 'k', { etag: 'abc', version: 7 }));
        // Thunks, run one at a time: starting them all at once would leave later rejections unhandled.
        const attempts = [
          () => index.put(item(pk, 'k', { v: 'x' }), { kind: 'equals', attr: 'etag', value: 'abd' }),
          () => index.put(item(pk, 'k', { v: 'x' }), { kind: 'equals', attr: 'version', value: '7' }),
          () => index.put(item(pk, 'k', { v: 'x' }), { kind: 'equals', attr: 'nope', value: 'abc' }),
          () => index.put(item(pk, 'other', { v: 'x' }), { kind: 'equals', attr: 'etag', value: 'abc' }),
        ];
        for (const attempt of attempts) await expect(attempt()).rejects.toBeInstanceOf(ConditionFailedError);
        expect((await index.get(pk, 'k'))?.attrs).toEqual({ etag: 'abc', version: 7 });
        expect(await index.get(pk, 'other')).toBeUndefined();
      });
    });

    describe('delete', () => {
      it('removes an item', async () => {
        const pk = uniqueId('pk');
        await index.put(item(pk, 'k', {}));
        await index.delete(pk, 'k');
        expect(await index.get(pk, 'k')).toBeUndefined();
      });

      it('succeeds without a condition when the item is missing', async () => {
        await expect(index.delete(uniqueId('pk'), 'k')).resolves.toBeUndefined();
      });

      it('rejects present on a missing item', async () => {
        await expect(index.delete(uniqueId('pk'), 'k', { kind: 'present' })).rejects.toBeInstanceOf(
          ConditionFailedError,
        );
      });

      it('deletes with equals only when the attribute matches', async () => {
        const pk = uniqueId('pk');
        await index.put(item(pk, 'k', { etag: 'abc' }));
        await expect(index.delete(pk, 'k', { kind: 'equals', attr: 'etag', value: 'zzz' })).rejects.toBeInstanceOf(
          ConditionFailedError,
        );
        expect((await index.get(pk, 'k'))?.attrs).toEqual({ etag: 'abc' });
        await index.delete(pk, 'k', { kind: 'equals', attr: 'etag', value: 'abc' });
        expect(await index.get(pk, 'k')).toBeUndefined();
      });
    });

    describe('query', () => {
      // JS sorts '～' (U+FF5E) after '😀' (a surrogate pair); UTF-8 byte order puts the emoji last.
      const keys = ['a', 'B', 'a/b', 'a/b/c', 'ab', 'é', 'z', '😀', '～', 'a b', 'a.b', 'Z', '0', 'ä/x', 'ä/y'];
      const sorted = [...keys].sort(utf8Order);
      let pk: string;

      beforeAll(async () => {
        pk = uniqueId('pk');
        for (const [i, sk] of keys.entries()) await index.put(item(pk, sk, { i }));
        await index.put(item(`${pk}-neighbour`, 'a', { i: -1 }));
      });

      it('returns one partition in binary UTF-8 order of the sort key', async () => {
        const page = await index.query(pk, { limit: 100 });
        expect(page.items.map((it) => it.sk)).toEqual(sorted);
        expect(sorted.indexOf('😀')).toBeGreaterThan(sorted.indexOf('～'));
        expect(page.lastKey).toBeUndefined();
      });

      it('returns whole items, attributes included', async () => {
        const page = await index.query(pk, { prefix: 'é', limit: 10 });
        expect(page.items).toEqual([item(pk, 'é', { i: keys.indexOf('é') })]);
      });

      it('filters by prefix, ASCII and non-ASCII', async () => {
        const ids = async (options: QueryOptions) => (await index.query(pk, options)).items.map((it) => it.sk);
        expect(await ids({ prefix: 'a', limit: 100 })).toEqual(sorted.filter((k) => k.startsWith('a')));
        expect(await ids({ prefix: 'a/', limit: 100 })).toEqual(['a/b', 'a/b/c']);
        expect(await ids({ prefix: 'ä/', limit: 100 })).toEqual(['ä/x', 'ä/y']);
        expect(await ids({ prefix: '😀', limit: 100 })).toEqual(['😀']);
        expect(await ids({ prefix: 'q', limit: 100 })).toEqual([]);
      });

      it('starts strictly after startAfter, alone and with a prefix', async () => {
        const ids = async (options: QueryOptions) => (await index.query(pk, options)).items.map((it) => it.sk);
        expect(await ids({ startAfter: 'a/b', limit: 100 })).toEqual(sorted.filter((k) => utf8Order(k, 'a/b') > 0));
        expect(await ids({ startAfter: 'é', limit: 100 })).toEqual(['～', '😀']);
        expect(await ids({ prefix: 'a', startAfter: 'a/b', limit: 100 })).toEqual(
          sorted.filter((k) => k.startsWith('a') && utf8Order(k, 'a/b') > 0),
        );
        // A startAfter that is not itself a stored key still positions correctly.
        expect(await ids({ prefix: 'a', startAfter: 'a/a', limit: 100 })).toEqual(
          sorted.filter((k) => k.startsWith('a') && utf8Order(k, 'a/a') > 0),
        );
      });

      it('returns an empty page for an empty partition', async () => {
        const page = await index.query(uniqueId('pk'), { limit: 10 });
        expect(page.items).toEqual([]);
        expect(page.lastKey).toBeUndefined();
      });

      it('honours limit and signals more with lastKey', async () => {
        const page = await index.query(pk, { limit: 4 });
        expect(page.items.map((it) => it.sk)).toEqual(sorted.slice(0, 4));
        expect(page.lastKey).toBeDefined();
        const next = await index.query(pk, { limit: 4, startAfter: page.lastKey });
        expect(next.items.map((it) => it.sk)).toEqual(sorted.slice(4, 8));
      });
    });

    describe('query pagination over many items', () => {
      it('visits every item exactly once, in order, for any page size', async () => {
        const pk = uniqueId('pk');
        const sks = Array.from({ length: 130 }, (_, i) => `obj/${String(i).padStart(4, '0')}${i % 3 === 0 ? '/ü' : ''}`);
        for (const sk of sks) await index.put(item(pk, sk, { n: sk.length }));
        const expected = [...sks].sort(utf8Order);
        for (const limit of [1, 7, 50, 130, 1000]) {
          const all = await drain((startAfter) => index.query(pk, { limit, startAfter }), limit);
          expect(all.map((it) => it.sk)).toEqual(expected);
        }
        const prefixed = await drain((startAfter) => index.query(pk, { prefix: 'obj/001', limit: 3, startAfter }), 3);
        expect(prefixed.map((it) => it.sk)).toEqual(expected.filter((k) => k.startsWith('obj/001')));
      });
    });

    describe('queryGsi1', () => {
      it('returns the secondary partition in ascending gsi1sk order, across table partitions', async () => {
        const gpk = uniqueId('cmk');
        const sortKeys = ['gen-2#b', 'gen-1#a', 'gen-10#c', 'gen-1#ü', 'gen-1#😀', 'gen-1#～'];
        for (const [i, gsk] of sortKeys.entries()) await index.put(item(uniqueId('pk'), `o${i}`, { i }, [gpk, gsk]));
        await index.put(item(uniqueId('pk'), 'other', {}, [`${gpk}-x`, 'gen-1#a']));
        const page = await index.queryGsi1(gpk, { limit: 100 });
        expect(page.items.map((it) => it.gsi1sk)).toEqual([...sortKeys].sort(utf8Order));
        expect(page.items.every((it) => it.gsi1pk === gpk)).toBe(true);
        expect(page.lastKey).toBeUndefined();
      });

      it('filters by gsi1sk prefix', async () => {
        const gpk = uniqueId('cmk');
        for (const gsk of ['gen-1#a', 'gen-1#b', 'gen-2#a', 'gen-10#a'])
          await index.put(item(uniqueId('pk'), 'o', {}, [gpk, gsk]));
        const page = await index.queryGsi1(gpk, { prefix: 'gen-1#', limit: 100 });
        expect(page.items.map((it) => it.gsi1sk)).toEqual(['gen-1#a', 'gen-1#b']);
      });

      it('paginates with an opaque lastKey without losing or repeating items that share a gsi1sk', async () => {
        const gpk = uniqueId('cmk');
        const written: string[] = [];
        for (let i = 0; i < 40; i++) {
          const pk = uniqueId('pk');
          written.push(`${pk}|o${i}`);
          await index.put(item(pk, `o${i}`, { i }, [gpk, `gen-${i % 3}`]));
        }
        for (const limit of [1, 6, 40]) {
          const all = await drain((startAfter) => index.queryGsi1(gpk, { limit, startAfter }), limit);
          const seen = all.map((it) => `${it.pk}|${it.sk}`);
          expect(new Set(seen).size).toBe(seen.length);
          expect([...seen].sort()).toEqual([...written].sort());
          const gsks = all.map((it) => it.gsi1sk ?? '');
          expect(gsks).toEqual([...gsks].sort(utf8Order));
        }
      });

      it('drops an item from the secondary index when it is overwritten without gsi keys or deleted', async () => {
        const gpk = uniqueId('cmk');
        const pk = uniqueId('pk');
        await index.put(item(pk, 'a', {}, [gpk, 'gen-1#a']));
        await index.put(item(pk, 'b', {}, [gpk, 'gen-1#b']));
        await index.put(item(pk, 'c', {}, [gpk, 'gen-1#c']));
        await index.put(item(pk, 'a', { moved: true }));
        await index.put(item(pk, 'b', {}, [gpk, 'gen-2#b']));
        await index.delete(pk, 'c');
        const page = await index.queryGsi1(gpk, { limit: 100 });
        expect(page.items).toEqual([item(pk, 'b', {}, [gpk, 'gen-2#b'])]);
      });
    });

    describe('transact', () => {
      it('applies puts and deletes together', async () => {
        const pk = uniqueId('pk');
        await index.put(item(pk, 'old', { v: 1 }));
        await index.transact([
          { op: 'put', item: item(pk, 'new', { v: 2 }), condition: { kind: 'absent' } },
          { op: 'put', item: item(`${pk}-other`, 'manifest', { parts: [1, 2] }) },
          { op: 'delete', pk, sk: 'old', condition: { kind: 'equals', attr: 'v', value: 1 } },
        ]);
        expect(await index.get(pk, 'old')).toBeUndefined();
        expect((await index.get(pk, 'new'))?.attrs.v).toBe(2);
        expect((await index.get(`${pk}-other`, 'manifest'))?.attrs.parts).toEqual([1, 2]);
      });

      it('writes nothing when one condition fails, and says so with ConditionFailedError', async () => {
        const pk = uniqueId('pk');
        await index.put(item(pk, 'keep', { v: 1 }));
        await index.put(item(pk, 'taken', { v: 1 }));
        await expect(
          index.transact([
            { op: 'put', item: item(pk, 'fresh', { v: 2 }) },
            { op: 'delete', pk, sk: 'keep' },
            { op: 'put', item: item(pk, 'taken', { v: 2 }), condition: { kind: 'absent' } },
          ]),
        ).rejects.toBeInstanceOf(ConditionFailedError);
        expect(await index.get(pk, 'fresh')).toBeUndefined();
        expect((await index.get(pk, 'keep'))?.attrs.v).toBe(1);
        expect((await index.get(pk, 'taken'))?.attrs.v).toBe(1);
      });

      it('writes nothing when a delete condition fails', async () => {
        const pk = uniqueId('pk');
        await expect(
          index.transact([
            { op: 'put', item: item(pk, 'a', { v: 1 }) },
            { op: 'delete', pk, sk: 'missing', condition: { kind: 'present' } },
          ]),
        ).rejects.toBeInstanceOf(ConditionFailedError);
        expect(await index.get(pk, 'a')).toBeUndefined();
      });

      it('accepts 100 operations in one transaction', async () => {
        const pk = uniqueId('pk');
        await index.transact(
          Array.from({ length: 100 }, (_, i) => ({ op: 'put' as const, item: item(pk, `k${String(i).padStart(3, '0')}`, { i }) })),
        );
        const all = await drain((startAfter) => index.query(pk, { limit: 100, startAfter }), 100);
        expect(all.length).toBe(100);
      });
    });
  });
}
