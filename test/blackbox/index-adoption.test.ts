// The index key across restarts: a store whose key row was removed or replaced refuses to start with the reason
// (never a new key that would make its forged rows authentic); an index written before rows were authenticated is
// refused until its owner adopts it with --seal-index, and is then served as it stood.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openEmbeddedBackend } from '../../lambdas/adapters/embedded';
import { INDEX_KEY_PK, INDEX_KEY_SK } from '../../lambdas/core/index-auth/index-key';
import { ROW_MAC_ATTR } from '../../lambdas/core/index-auth/row-encoding';
import { everyRow } from '../../lambdas/core/index-auth/adopt';
import type { RecordIndex } from '../../lambdas/core/ports';
import { objectsPk } from '../../lambdas/core/records';
import { startServer } from '../../local/server';
import { testCreds } from '../support/embedded-target';
import { s3Path, signedRequest } from '../support/signed-fetch';
import { startServerProcess } from '../support/server-process';

/** Leaves what an older sealstore wrote: the same rows, no MACs, no index key. */
async function unauthenticate(raw: RecordIndex): Promise<void> {
  const rows = [];
  for await (const row of everyRow(raw)) rows.push(row);
  for (const row of rows) {
    const { [ROW_MAC_ATTR]: _mac, ...attrs } = row.attrs;
    await raw.put({ ...row, attrs });
  }
  await raw.delete(INDEX_KEY_PK, INDEX_KEY_SK);
}

describe('the index key across restarts (embedded backend)', () => {
  let dir: string;
  const creds = testCreds();
  const body = randomBytes(50_000);

  /** A store with one bucket and one object, stopped. */
  async function populated(): Promise<void> {
    const server = await startServer({ backend: await openEmbeddedBackend(dir), credentials: creds });
    expect((await signedRequest(server.url, creds, { method: 'PUT', path: s3Path('keep') })).status).toBe(200);
    expect((await signedRequest(server.url, creds, { method: 'PUT', path: s3Path('keep', 'doc'), body })).status).toBe(200);
    await server.close();
  }

  /** Edits the stopped store's raw rows. */
  async function withRawIndex(edit: (raw: Awaited<ReturnType<typeof openEmbeddedBackend>>['index']) => Promise<void>): Promise<void> {
    const backend = await openEmbeddedBackend(dir);
    try {
      await edit(backend.index);
    } finally {
      await backend.close();
    }
  }

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sealstore-adopt-'));
    await populated();
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('refuses to start when the index key row is gone, saying what happened and what to do', async () => {
    await withRawIndex((raw) => raw.delete(INDEX_KEY_PK, INDEX_KEY_SK));
    await expect(startServer({ backend: await openEmbeddedBackend(dir), credentials: creds })).rejects.toThrow(/holds rows but no index key.*--seal-index.*restore/s);
    // The refusal created no key: the next start refuses the same way.
    await withRawIndex(async (raw) => expect(await raw.get(INDEX_KEY_PK, INDEX_KEY_SK)).toBeUndefined());
  });

  it('refuses to start when the index key row was replaced by another wrapped key', async () => {
    await withRawIndex(async (raw) => {
      const object = await raw.get(objectsPk('keep'), 'doc');
      const row = await raw.get(INDEX_KEY_PK, INDEX_KEY_SK);
      await raw.put({ ...row!, attrs: { ...row!.attrs, wrapped: object!.attrs['wrappedKey']! } });
    });
    await expect(startServer({ backend: await openEmbeddedBackend(dir), credentials: creds })).rejects.toThrow(/does not open as an index key/);
  });

  it('refuses an index written before rows were authenticated until --seal-index adopts it; then serves it as it stood', async () => {
    await withRawIndex(unauthenticate);
    await expect(startServer({ backend: await openEmbeddedBackend(dir), credentials: creds })).rejects.toThrow(/--seal-index/);

    const adopted = await startServer({ backend: await openEmbeddedBackend(dir), credentials: creds, sealIndex: true });
    try {
      // The bucket row, the object row, the key-state records and the active pointer at least.
      expect(adopted.sealedRows).toBeGreaterThanOrEqual(4);
      const got = await signedRequest(adopted.url, creds, { method: 'GET', path: s3Path('keep', 'doc') });
      expect(got.status).toBe(200);
      expect(got.body.equals(body)).toBe(true);
    } finally {
      await adopted.close();
    }
    // Adopted for good: a plain start serves it.
    const again = await startServer({ backend: await openEmbeddedBackend(dir), credentials: creds });
    try {
      expect((await signedRequest(again.url, creds, { method: 'GET', path: s3Path('keep', 'doc') })).body.equals(body)).toBe(true);
    } finally {
      await again.close();
    }
  });

  it('`npm start -- --seal-index` reports how many rows it adopted; without it the start fails with the reason', async () => {
    await withRawIndex(unauthenticate);
    const env = { SEALSTORE_DATA_DIR: dir, SEALSTORE_ACCESS_KEY_ID: creds.accessKeyId, SEALSTORE_SECRET_ACCESS_KEY: creds.secretAccessKey };
    await expect(startServerProcess([], env)).rejects.toThrow(/sealstore: The index holds rows but no index key.*--seal-index/s);
    const server = await startServerProcess(['--seal-index'], env);
    try {
      expect(server.output()).toMatch(/--seal-index: authenticated \d+ index rows as they stood/);
      const got = await signedRequest(server.url, creds, { method: 'GET', path: s3Path('keep', 'doc') });
      expect(got.body.equals(body)).toBe(true);
    } finally {
      expect(await server.stop()).toBe(0);
    }
  }, 60_000);
});
