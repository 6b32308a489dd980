// Index rebuild from the blobs on the embedded backend: the index file deleted (index.sqlite and its WAL files), the
// server restarted on the same data directory (a fresh index key, the same root credentials and vault), then
// `sealstore recover --rebuild-index` over HTTP. See recover-suite.ts for what is proved.
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openEmbeddedBackend } from '../../lambdas/adapters/embedded';
import { S3_LIMITS } from '../../lambdas/core/limits';
import { startEmbedded, testCreds, type EmbeddedTarget } from '../support/embedded-target';
import { describeRecovery, PART, type RecoveryHarness } from './recover-suite';

describeRecovery('recover --rebuild-index (embedded backend)', async (): Promise<RecoveryHarness> => {
  const dataDir = await mkdtemp(join(tmpdir(), 'sealstore-recover-'));
  const credentials = testCreds();
  let running: EmbeddedTarget | undefined;
  return {
    start: async () => {
      running = await startEmbedded({ dataDir, keepData: true, credentials, limits: { ...S3_LIMITS, minPartBytes: PART }, lifecycleConfig: { retireGraceMs: 0 } });
      return { url: running.url, creds: running.creds };
    },
    stop: async () => {
      await running?.close();
      running = undefined;
    },
    emptyIndex: async () => {
      for (const name of await readdir(dataDir)) if (name.startsWith('index.sqlite')) await rm(join(dataDir, name));
    },
    raw: async () => {
      const backend = await openEmbeddedBackend(dataDir);
      return { blobs: backend.blobs, vault: backend.vault, close: () => backend.close() };
    },
    cleanup: async () => {
      await running?.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
});
