// openEmbeddedBackend: lays out the data directory, creates the default CMK once, and survives restarts.
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_KEY_ALIAS, openEmbeddedBackend } from '../../lambdas/adapters/embedded';
import { chunked, readAll } from '../contract/streams';

describe('openEmbeddedBackend', () => {
  let parent: string;
  let dataDir: string;
  beforeEach(async () => {
    parent = await mkdtemp(join(tmpdir(), 'sealstore-backend-'));
    dataDir = join(parent, 'data', 'nested');
  });
  afterEach(async () => {
    await rm(parent, { recursive: true, force: true });
  });

  it('creates a private data directory holding blobs/, index.sqlite and keys/', async () => {
    const backend = await openEmbeddedBackend(dataDir);
    try {
      expect((await stat(dataDir)).mode & 0o777).toBe(0o700);
      const entries = await readdir(dataDir);
      expect(entries).toEqual(expect.arrayContaining(['blobs', 'index.sqlite', 'keys']));
      expect((await stat(join(dataDir, 'keys', 'root.key'))).mode & 0o777).toBe(0o600);
    } finally {
      await backend.close();
    }
  });

  it('creates the default CMK under alias/sealstore-default on first start and reuses it later', async () => {
    const first = await openEmbeddedBackend(dataDir);
    const defaultKeyId = first.defaultKeyId;
    expect(defaultKeyId).toMatch(/^arn:aws:kms:us-east-1:000000000000:key\/[0-9a-f-]{36}$/);
    expect(await first.vault.resolveKeyId(DEFAULT_KEY_ALIAS)).toBe(defaultKeyId);
    await first.close();

    const second = await openEmbeddedBackend(dataDir);
    try {
      expect(second.defaultKeyId).toBe(defaultKeyId);
      expect((await second.vault.listKeys()).length).toBe(1);
    } finally {
      await second.close();
    }
  });

  it('finds every object written before a restart: wrapped key, blob and index entry', async () => {
    const first = await openEmbeddedBackend(dataDir);
    const context = { bucket: 'photos', key: 'cat.jpg' };
    const dk = await first.vault.generateDataKey(first.defaultKeyId, context);
    await first.blobs.put('photos/blob-1', chunked(Buffer.from('ciphertext bytes')), {
      'x-wrapped-key': dk.wrapped.toString('base64'),
    });
    await first.index.put({
      pk: 'b#photos',
      sk: 'cat.jpg',
      gsi1pk: dk.keyId,
      gsi1sk: `${dk.keyMaterialId}#photos/cat.jpg`,
      attrs: { blobId: 'photos/blob-1', wrapped: dk.wrapped },
    });
    await first.close();

    const second = await openEmbeddedBackend(dataDir);
    try {
      const item = await second.index.get('b#photos', 'cat.jpg');
      const wrapped = item?.attrs.wrapped;
      expect(Buffer.isBuffer(wrapped)).toBe(true);
      const head = await second.blobs.head('photos/blob-1');
      expect(Buffer.from(head.metadata['x-wrapped-key'] ?? '', 'base64').equals(wrapped as Buffer)).toBe(true);
      const key = await second.vault.decrypt(wrapped as Buffer, context);
      expect(key.plaintext.equals(dk.plaintext)).toBe(true);
      expect((await readAll(await second.blobs.get('photos/blob-1'))).toString()).toBe('ciphertext bytes');
      expect((await second.index.queryGsi1(dk.keyId, { limit: 10 })).items.map((i) => i.sk)).toEqual(['cat.jpg']);
    } finally {
      await second.close();
    }
  });
});
