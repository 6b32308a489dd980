// Starts a server (sealstore or s3rver) in a child process and hands back its endpoint, pid and a stop().
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Endpoint } from './client';

export type ServerKind = 'sealstore' | 's3rver';

/** What a sealstore child has synced and committed so far (s3rver reports nothing). */
export interface SyncCounts {
  readonly blobFileSyncs: number;
  readonly blobDirectorySyncs: number;
  readonly indexCommits: number;
  readonly indexTransactions: number;
}

export interface ChildServer {
  readonly endpoint: Endpoint;
  readonly pid: number;
  /** Sync and commit counters, where the server keeps them. */
  syncCounts(): Promise<SyncCounts | undefined>;
  stop(): Promise<void>;
}

export async function startChildServer(kind: ServerKind, dataDir: string, nodeArgs: readonly string[] = []): Promise<ChildServer> {
  const creds =
    kind === 's3rver'
      ? { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } // s3rver's fixed credentials
      : { accessKeyId: `BENCH${randomBytes(6).toString('hex').toUpperCase()}`, secretAccessKey: randomBytes(24).toString('base64url') };
  const script = join(__dirname, 'servers', `${kind}-child.ts`);
  const child = spawn(process.execPath, [...nodeArgs, '--require', 'tsx/cjs', script], {
    env: { ...process.env, BENCH_DATA_DIR: dataDir, BENCH_ACCESS_KEY_ID: creds.accessKeyId, BENCH_SECRET_ACCESS_KEY: creds.secretAccessKey },
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`${kind} server exited (${code}) before it started`)));
  });
  const { url, pid } = JSON.parse(line) as { url: string; pid: number };
  const syncCounts = (): Promise<SyncCounts | undefined> =>
    kind !== 'sealstore'
      ? Promise.resolve(undefined)
      : new Promise((resolve) => {
          child.once('message', (m) => resolve(m as SyncCounts));
          child.send('stats');
        });
  return { endpoint: { url, ...creds }, pid, syncCounts, stop: () => stopChild(child) };
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
