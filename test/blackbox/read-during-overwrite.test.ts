// A reader that looked up version 1 just before an overwrite removed its blob gets version 2, not an error.
// The race is forced: the blob store's first read of the old blob runs the overwrite, waits for the old blob's
// background shredding, and then finds it gone.
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openEmbeddedBackend } from '../../lambdas/adapters/embedded';
import type { BlobStore } from '../../lambdas/core/ports';
import { startServer } from '../../local/server';
import { s3Client } from './s3-suite';
import { testCreds } from '../support/embedded-target';

describe('GET racing an overwrite', () => {
  it('serves the new version when the version it looked up vanished before its first byte', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sealstore-race-'));
    const backend = await openEmbeddedBackend(dir);
    let overwrite: (() => Promise<void>) | undefined;
    const inner = backend.blobs;
    const blobs: BlobStore = {
      put: (id, body, meta, options) => inner.put(id, body, meta, options),
      head: (...a) => inner.head(...a),
      replaceMetadata: (...a) => inner.replaceMetadata(...a),
      delete: (...a) => inner.delete(...a),
      list: (...a) => inner.list(...a),
      get: async (blobId, range) => {
        const run = overwrite;
        overwrite = undefined;
        if (run) await run(); // the overwrite commits and collects the old blob right here
        return inner.get(blobId, range);
      },
    };
    const creds = testCreds();
    const server = await startServer({ backend: { ...backend, blobs }, credentials: creds });
    const s3 = s3Client({ url: server.url, creds });
    try {
      await s3.send(new CreateBucketCommand({ Bucket: 'race' }));
      await s3.send(new PutObjectCommand({ Bucket: 'race', Key: 'doc', Body: 'version one' }));
      overwrite = async () => {
        await s3.send(new PutObjectCommand({ Bucket: 'race', Key: 'doc', Body: 'version two, longer' }));
        await server.service.settle(); // the replaced blob is shredded in the background: wait until it is gone
      };
      const got = await s3.send(new GetObjectCommand({ Bucket: 'race', Key: 'doc' }));
      expect(await got.Body!.transformToString()).toBe('version two, longer');
      expect(got.ContentLength).toBe('version two, longer'.length);
      expect(overwrite).toBeUndefined();
    } finally {
      s3.destroy();
      await server.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
