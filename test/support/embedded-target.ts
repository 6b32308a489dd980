// Starts an embedded sealstore server on a free loopback port over a fresh temp data directory.
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { openEmbeddedBackend } from '../../lambdas/adapters/embedded';
import { startServer, type RunningServer, type ServerOptions } from '../../local/server';
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
    dataDir,
    server,
    rawBlobs: () => readAllFiles(join(dataDir, 'blobs')),
    close: async () => {
      await server.close();
      if (!options.keepData) await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** The body files of the file blob store (its .meta files hold only metadata and the wrapped key). */
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
    const s = await stat(p);
    if (s.isDirectory()) out.push(...(await readAllFiles(p)));
    else if (name.endsWith('.body')) out.push(await readFile(p));
  }
  return out;
}
