// Reusable contract suite for the BlobStore port: every adapter (file system, S3) must pass it unchanged.
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import type { BlobStore } from '../../lambdas/core/ports';
import { BlobNotFoundError } from '../../lambdas/core/errors';
import { chunked, readAll, uniqueId } from './streams';

export interface BlobStoreFixture {
  store: BlobStore;
  cleanup(): Promise<void>;
}

/**
 * Registers the BlobStore contract under `describe(name)`.
 * Blob ids used here are lower-case letters, digits and dashes; metadata keys are lower-case ASCII
 * because S3 lowercases user-metadata names.
 */
export function describeBlobStoreContract(name: string, setup: () => Promise<BlobStoreFixture>): void {
  describe(name, () => {
    let fixture: BlobStoreFixture;
    let store: BlobStore;

    beforeAll(async () => {
      fixture = await setup();
      store = fixture.store;
    });
    afterAll(async () => {
      await fixture?.cleanup();
    });

    describe('put and get', () => {
      it('returns the whole body and its size after a chunked put', async () => {
        const id = uniqueId('whole');
        const body = randomBytes(300_000);
        const result = await store.put(id, chunked(body, 7_000), { 'x-kind': 'test' });
        expect(result.size).toBe(body.length);
        expect((await readAll(await store.get(id))).equals(body)).toBe(true);
      });

      it('stores an empty body', async () => {
        const id = uniqueId('empty');
        const result = await store.put(id, Readable.from([]), {});
        expect(result.size).toBe(0);
        expect((await readAll(await store.get(id))).length).toBe(0);
        expect((await store.head(id)).size).toBe(0);
      });

      it('streams a multi-MiB body without loss', async () => {
        const id = uniqueId('large');
        const body = randomBytes(5 * 1024 * 1024 + 123);
        expect((await store.put(id, chunked(body), {})).size).toBe(body.length);
        const back = await readAll(await store.get(id));
        expect(back.length).toBe(body.length);
        expect(back.equals(body)).toBe(true);
      });

      it('replaces body and metadata when a blob is put again under the same id', async () => {
        const id = uniqueId('overwrite');
        await store.put(id, chunked(Buffer.from('first version')), { 'x-version': '1', 'x-old': 'yes' });
        await store.put(id, chunked(Buffer.from('second')), { 'x-version': '2' });
        expect((await readAll(await store.get(id))).toString()).toBe('second');
        const info = await store.head(id);
        expect(info.size).toBe(6);
        expect(info.metadata).toEqual({ 'x-version': '2' });
      });

      it('keeps blobs apart by id', async () => {
        const a = uniqueId('a');
        const b = uniqueId('b');
        await store.put(a, chunked(Buffer.from('alpha')), { 'x-name': 'a' });
        await store.put(b, chunked(Buffer.from('bravo')), { 'x-name': 'b' });
        expect((await readAll(await store.get(a))).toString()).toBe('alpha');
        expect((await readAll(await store.get(b))).toString()).toBe('bravo');
        expect((await store.head(b)).metadata).toEqual({ 'x-name': 'b' });
      });

      it('leaves nothing behind when the body stream fails midway', async () => {
        const id = uniqueId('torn');
        await expect(store.put(id, failingBody(200_000), { 'x-a': 'b' })).rejects.toThrow();
        await expect(store.head(id)).rejects.toBeInstanceOf(BlobNotFoundError);
        await expect(store.get(id)).rejects.toBeInstanceOf(BlobNotFoundError);
      });

      it('keeps the previous version intact when an overwrite fails midway', async () => {
        const id = uniqueId('torn-overwrite');
        const body = randomBytes(10_000);
        await store.put(id, chunked(body), { 'x-version': '1' });
        await expect(store.put(id, failingBody(200_000), { 'x-version': '2' })).rejects.toThrow();
        expect((await readAll(await store.get(id))).equals(body)).toBe(true);
        expect((await store.head(id)).metadata).toEqual({ 'x-version': '1' });
      });

      it('rejects get of a missing blob with BlobNotFoundError', async () => {
        await expect(store.get(uniqueId('missing'))).rejects.toBeInstanceOf(BlobNotFoundError);
      });

      it('rejects a ranged get of a missing blob with BlobNotFoundError', async () => {
        await expect(store.get(uniqueId('missing'), { start: 0, end: 9 })).rejects.toBeInstanceOf(BlobNotFoundError);
      });
    });

    describe('ranged get', () => {
      const body = Buffer.from(Array.from({ length: 1000 }, (_, i) => i % 251));
      let id: string;
      beforeAll(async () => {
        id = uniqueId('ranges');
        await store.put(id, chunked(body, 97), {});
      });

      it.each([
        [0, 0],
        [0, 99],
        [10, 19],
        [500, 999],
        [999, 999],
        [123, 876],
      ])('returns exactly the inclusive bytes %i..%i', async (start, end) => {
        const back = await readAll(await store.get(id, { start, end }));
        expect(back.equals(body.subarray(start, end + 1))).toBe(true);
      });

      it('clamps an end past the last byte to the end of the blob, as HTTP ranges do', async () => {
        const back = await readAll(await store.get(id, { start: 990, end: 5000 }));
        expect(back.equals(body.subarray(990))).toBe(true);
      });
    });

    describe('head and metadata', () => {
      it('reports size, metadata and a recent lastModified', async () => {
        const id = uniqueId('head');
        const before = Date.now();
        await store.put(id, chunked(Buffer.alloc(4321, 1)), { 'x-wrapped-key': 'AbC+/=09', 'x-material': 'gen-1' });
        const info = await store.head(id);
        expect(info.size).toBe(4321);
        expect(info.metadata).toEqual({ 'x-wrapped-key': 'AbC+/=09', 'x-material': 'gen-1' });
        expect(info.lastModified).toBeInstanceOf(Date);
        // Second granularity (S3) and small clock skew between client and emulator are tolerated.
        expect(info.lastModified.getTime()).toBeGreaterThanOrEqual(before - 5_000);
        expect(info.lastModified.getTime()).toBeLessThanOrEqual(Date.now() + 5_000);
      });

      it('round-trips a long base64 metadata value (a wrapped data key)', async () => {
        const id = uniqueId('meta-long');
        const wrapped = randomBytes(400).toString('base64');
        await store.put(id, chunked(Buffer.from('x')), { 'x-wrapped-key': wrapped });
        expect((await store.head(id)).metadata['x-wrapped-key']).toBe(wrapped);
      });

      it('rejects head of a missing blob with BlobNotFoundError', async () => {
        await expect(store.head(uniqueId('missing'))).rejects.toBeInstanceOf(BlobNotFoundError);
      });
    });

    describe('replaceMetadata', () => {
      it('replaces the whole metadata set and leaves the body untouched', async () => {
        const id = uniqueId('rewrap');
        const body = randomBytes(70_000);
        await store.put(id, chunked(body), { 'x-wrapped-key': 'old', 'x-gone': 'bye' });
        await store.replaceMetadata(id, { 'x-wrapped-key': 'new', 'x-added': 'hi' });
        const info = await store.head(id);
        expect(info.metadata).toEqual({ 'x-wrapped-key': 'new', 'x-added': 'hi' });
        expect(info.size).toBe(body.length);
        expect((await readAll(await store.get(id))).equals(body)).toBe(true);
      });

      it('rejects a missing blob with BlobNotFoundError and does not create it', async () => {
        const id = uniqueId('missing');
        await expect(store.replaceMetadata(id, { 'x-a': 'b' })).rejects.toBeInstanceOf(BlobNotFoundError);
        await expect(store.head(id)).rejects.toBeInstanceOf(BlobNotFoundError);
      });
    });

    describe('delete', () => {
      it('removes the blob so that get and head report BlobNotFoundError', async () => {
        const id = uniqueId('delete');
        await store.put(id, chunked(Buffer.from('shred me')), {});
        await store.delete(id);
        await expect(store.get(id)).rejects.toBeInstanceOf(BlobNotFoundError);
        await expect(store.head(id)).rejects.toBeInstanceOf(BlobNotFoundError);
      });

      it('is idempotent: deleting twice, or a blob that never existed, succeeds', async () => {
        const id = uniqueId('delete-twice');
        await store.put(id, chunked(Buffer.from('x')), {});
        await store.delete(id);
        await expect(store.delete(id)).resolves.toBeUndefined();
        await expect(store.delete(uniqueId('never'))).resolves.toBeUndefined();
      });

      it('lets a deleted id be written again', async () => {
        const id = uniqueId('reuse');
        await store.put(id, chunked(Buffer.from('one')), {});
        await store.delete(id);
        await store.put(id, chunked(Buffer.from('two')), {});
        expect((await readAll(await store.get(id))).toString()).toBe('two');
      });
    });

    describe('list', () => {
      /** Every page from `after` on, `limit` at a time; also checks no page is longer than asked. */
      async function listAll(after: string | undefined, limit: number): Promise<{ ids: string[]; cursors: string[] }> {
        const ids: string[] = [];
        const cursors: string[] = [];
        let cursor = after;
        do {
          const page = await store.list(cursor, limit);
          expect(page.blobIds.length).toBeLessThanOrEqual(limit);
          ids.push(...page.blobIds);
          cursor = page.next;
          if (cursor !== undefined) cursors.push(cursor);
        } while (cursor !== undefined);
        return { ids, cursors };
      }

      it('pages through every blob once, resumes from a cursor, and leaves deleted blobs out', async () => {
        const mine = Array.from({ length: 5 }, () => uniqueId('list'));
        for (const id of mine) await store.put(id, chunked(Buffer.from(id)), { 'sealstore-test': 'list' });
        const gone = uniqueId('list-gone');
        await store.put(gone, chunked(Buffer.from('x')), {});
        await store.delete(gone);
        const whole = await listAll(undefined, 1000);
        const paged = await listAll(undefined, 2);
        expect(new Set(paged.ids).size).toBe(paged.ids.length);
        expect(paged.ids).toEqual(whole.ids);
        for (const id of mine) expect(whole.ids).toContain(id);
        expect(whole.ids).not.toContain(gone);
        // Resuming after any page gives exactly the rest, in the same order.
        const at = paged.cursors[1] as string;
        const rest = await listAll(at, 3);
        expect(rest.ids).toEqual(paged.ids.slice(4));
      });
    });
  });
}

/** A body that yields some bytes and then fails, as a dropped client connection does. */
function failingBody(bytesBeforeFailure: number): Readable {
  return Readable.from(
    (async function* () {
      yield randomBytes(bytesBeforeFailure);
      await new Promise((resolve) => setImmediate(resolve));
      throw new Error('client went away');
    })(),
  );
}
