// The background shredding queue: whatever moment a replaced object is queued, settle() returns only once its
// blobs are deleted. The blob store and index here are in-memory stand-ins for the two calls the queue makes
// (delete, transact), so the queue's own timing is exact: a real store's I/O would hide the window under test.
import { Garbage } from '../../lambdas/core/garbage';
import type { BlobStore, RecordIndex } from '../../lambdas/core/ports';
import type { ObjectRecord } from '../../lambdas/core/records';

function replaced(blobId: string): ObjectRecord {
  return { objectId: `obj-${blobId}`, parts: [{ blobId }] } as unknown as ObjectRecord;
}

async function ticks(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await Promise.resolve();
}

describe('Garbage.collectLater / settle', () => {
  it('deletes an object queued at any microtask offset from the end of a drain', async () => {
    const deleted = new Set<string>();
    const blobs = { delete: async (id: string) => void deleted.add(id) } as unknown as BlobStore;
    const index = { transact: async () => undefined } as unknown as RecordIndex;
    const stranded: number[] = [];
    for (let offset = 0; offset < 30; offset++) {
      const garbage = new Garbage(blobs, index);
      garbage.collectLater(replaced(`a${offset}`));
      await ticks(offset);
      garbage.collectLater(replaced(`b${offset}`));
      await garbage.settle();
      if (!deleted.has(`a${offset}`) || !deleted.has(`b${offset}`)) stranded.push(offset);
    }
    expect(stranded).toEqual([]);
  });
});
