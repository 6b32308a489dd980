// Runs the RecordIndex contract against the embedded SQLite index, plus what only a file-backed index can show.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteRecordIndex } from '../../lambdas/adapters/embedded/sqlite-index';
import type { EncodedOp } from '../../lambdas/adapters/embedded/sqlite-schema';
import { SqliteWriter } from '../../lambdas/adapters/embedded/sqlite-writer';
import { describeRecordIndexContract } from '../contract/record-index.contract';

describeRecordIndexContract('SqliteRecordIndex (RecordIndex contract)', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sealstore-index-'));
  const index = new SqliteRecordIndex(join(dir, 'index.sqlite'));
  return {
    index,
    cleanup: async () => {
      await index.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});

describe('SqliteRecordIndex', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sealstore-index-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('fails only the transaction that errs when several share one group commit', async () => {
    // A transaction SQLite itself refuses (NOT NULL here; a real cause would be a bad row encoding) rolls back to
    // its savepoint; the others committed with it stand.
    const writer = new SqliteWriter(join(dir, 'index.sqlite'));
    try {
      const row = (sk: string, attrs: string | null): EncodedOp => ({ op: 'put', pk: 'p', sk, gsi1pk: null, gsi1sk: null, attrs: attrs as string });
      const outcomes = await Promise.allSettled([writer.write([row('a', '{}')]), writer.write([row('b', null)]), writer.write([row('c', '{}')])]);
      expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
      expect(writer.stats().commits).toBe(1);
    } finally {
      await writer.close();
    }
    const index = new SqliteRecordIndex(join(dir, 'index.sqlite'));
    try {
      expect((await index.query('p', { limit: 10 })).items.map((i) => i.sk)).toEqual(['a', 'c']);
    } finally {
      await index.close();
    }
  });

  it('keeps committed items, secondary keys and Buffers across a reopen', async () => {
    const file = join(dir, 'index.sqlite');
    const first = new SqliteRecordIndex(file);
    await first.put({ pk: 'b#photos', sk: 'cat.jpg', gsi1pk: 'cmk#1', gsi1sk: 'gen-1#x', attrs: { key: Buffer.from([1, 2]) } });
    await first.transact([{ op: 'put', item: { pk: 'b#photos', sk: 'dog.jpg', attrs: { size: 3 } } }]);
    await first.close();

    const second = new SqliteRecordIndex(file);
    try {
      expect(await second.get('b#photos', 'cat.jpg')).toEqual({
        pk: 'b#photos',
        sk: 'cat.jpg',
        gsi1pk: 'cmk#1',
        gsi1sk: 'gen-1#x',
        attrs: { key: Buffer.from([1, 2]) },
      });
      expect((await second.query('b#photos', { limit: 10 })).items.map((i) => i.sk)).toEqual(['cat.jpg', 'dog.jpg']);
    } finally {
      await second.close();
    }
  });

  it('rejects a transaction of more than 100 operations before writing anything', async () => {
    const index = new SqliteRecordIndex(join(dir, 'index.sqlite'));
    try {
      const ops = Array.from({ length: 101 }, (_, i) => ({ op: 'put' as const, item: { pk: 'p', sk: `k${i}`, attrs: {} } }));
      await expect(index.transact(ops)).rejects.toThrow(RangeError);
      expect((await index.query('p', { limit: 200 })).items).toEqual([]);
    } finally {
      await index.close();
    }
  });

  it('rejects a forged secondary-index cursor', async () => {
    const index = new SqliteRecordIndex(join(dir, 'index.sqlite'));
    try {
      await expect(index.queryGsi1('g', { limit: 1, startAfter: Buffer.from('[1]').toString('base64url') })).rejects.toThrow(
        RangeError,
      );
    } finally {
      await index.close();
    }
  });

  it('keeps an attribute named __proto__ as plain data', async () => {
    const index = new SqliteRecordIndex(join(dir, 'index.sqlite'));
    try {
      const attrs = JSON.parse('{"__proto__": {"polluted": true}, "ok": 1}') as Record<string, never>;
      await index.put({ pk: 'p', sk: 'k', attrs });
      const back = await index.get('p', 'k');
      expect(Object.getPrototypeOf(back?.attrs)).toBe(Object.prototype);
      expect(Object.keys(back?.attrs ?? {})).toEqual(['__proto__', 'ok']);
    } finally {
      await index.close();
    }
  });
});
