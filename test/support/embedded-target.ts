// Starts an embedded sealstore server on a free loopback port over a fresh temp data directory.
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { openEmbeddedBackend } from '../../lambdas/adapters/embedded';
import { startServer, type RunningServer, type ServerOptions } from '../../local/server';
import { LAMBDA_LIMITS, S3_LIMITS } from '../../lambdas/core/limits';
import type { S3Target } from '../blackbox/s3-suite';

export interface EmbeddedTarget extends S3Target {
  readonly dataDir: string;
  readonly server: RunningServer;
}

export const testCreds = () => ({ accessKeyId: `TEST${randomBytes(6).toString('hex').toUpperCase()}`, secretAccessKey: randomBytes(24).toString('base64url') });

export async function startEmbedded(options: Partial<Omit<ServerOptions, 'backend'>> & { dataDir?: string; keepData?: boolean } = {}): Promise<EmbeddedTarget> {
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'sealstore-test-')));
  const backend = await openEmbeddedBackend(dataDir);
  const creds = options.credentials ?? testCreds();
  const server = await startServer({ ...options, backend, credentials: creds });
  return {
    url: server.url,
    creds: { accessKeyId: creds.accessKeyId, secretAccessKey: creds.secretAccessKey },
    limits: options.lambdaLimits ? LAMBDA_LIMITS : S3_LIMITS,
    dataDir,
    server,
    rawBlobs: async () => {
      await server.service.settle();
      return readAllFiles(join(dataDir, 'blobs'));
    },
    close: async () => {
      await server.close();
      if (!options.keepData) await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** The blob files of the file blob store (header with metadata and wrapped key, then the sealed body). */
export async function readAllFiles(dir: string): Promise<Buffer[]> {
  const out: Buffer[] = [];
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch {
    return out;
  }
  for (const name of entries) {
    const p = join(dir, name);
    try {
      const s = await stat(p);
      if (s.isDirectory()) out.push(...(await readAllFiles(p)));
      else if (name.endsWith('.blob') || name.endsWith('.body')) out.push(await readFile(p));
    } catch (e) {
      // A blob the background collector removed while we listed: it is gone, which is what it reads as.
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
  }
  return out;
}
