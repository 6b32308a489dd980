// A CMK's objects, read across its gsi1 shards as one walk (records.ts#objectsByKeyPk): the key lifecycle counts,
// rewraps and retires by it. The walk's cursor names the shard, so a rewrap pass resumes where it stopped.
import { IndexWalk, type WalkOptions } from './index-walk';
import type { QueryPage, RecordIndex } from './ports';
import { objectsByKeyPartitions } from './records';

/** Cursors of this walk; anything else is a cursor saved before sharding, in the first (legacy) partition. */
const CURSOR = /^v2:(\d+):(.*)$/s;

function decode(cursor: string | undefined): { shard: number; inner: string | undefined } {
  if (cursor === undefined) return { shard: 0, inner: undefined };
  const m = CURSOR.exec(cursor);
  if (!m) return { shard: 0, inner: cursor };
  return { shard: Number(m[1]), inner: m[2] === '' ? undefined : m[2] };
}

const encode = (shard: number, inner: string | undefined): string => `v2:${shard}:${inner ?? ''}`;

/** Every object item wrapped under `keyId`, shard after shard (each in gsi1sk order). */
export function objectsUnderKey(index: RecordIndex, keyId: string, options: Omit<WalkOptions, 'prefix'> = {}): IndexWalk {
  const partitions = objectsByKeyPartitions(keyId);
  return new IndexWalk(async (startAfter, limit): Promise<QueryPage> => {
    const { shard, inner } = decode(startAfter);
    const gsi1pk = partitions[shard];
    if (gsi1pk === undefined) return { items: [] };
    const page = await index.queryGsi1(gsi1pk, { startAfter: inner, limit });
    if (page.lastKey !== undefined) return { items: page.items, lastKey: encode(shard, page.lastKey) };
    return shard + 1 < partitions.length ? { items: page.items, lastKey: encode(shard + 1, undefined) } : { items: page.items };
  }, options);
}

/** Whether any object is still wrapped under `keyId` (one small query per shard until one answers yes). */
export async function anyObjectUnderKey(index: RecordIndex, keyId: string): Promise<boolean> {
  for (const gsi1pk of objectsByKeyPartitions(keyId)) {
    if ((await index.queryGsi1(gsi1pk, { limit: 1 })).items.length > 0) return true;
  }
  return false;
}

/**
 * Whether an object under `keyId` is there by choice (keyChosen: its request or bucket named that CMK), looking at
 * no more than `cap` objects. Under a retiring CMK the job moves the others away, so the chosen ones soon come first.
 */
export async function anyChosenObjectUnderKey(index: RecordIndex, keyId: string, cap: number): Promise<boolean> {
  let seen = 0;
  for await (const page of objectsUnderKey(index, keyId, { pageSize: Math.min(cap, 1000) }).pages()) {
    if (page.items.some((item) => item.attrs['keyChosen'] === true && item.attrs['keyId'] === keyId)) return true;
    seen += page.items.length;
    if (seen >= cap) return false;
  }
  return false;
}

/** How many objects `keyId` wraps, counting at most `cap` (then `capped`: the figure is a lower bound). */
export async function countObjectsUnderKey(index: RecordIndex, keyId: string, cap: number): Promise<{ count: number; capped: boolean }> {
  let count = 0;
  for await (const page of objectsUnderKey(index, keyId, { pageSize: Math.min(cap, 1000) }).pages()) {
    count += page.items.length;
    if (page.lastKey !== undefined && count >= cap) return { count, capped: true };
  }
  return { count, capped: false };
}
