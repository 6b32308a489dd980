// Shared by the `sealstore cp` / `sync` suites: files with distinct content per MiB, digests, the CLI in-process and
// as the installed bin in a child process.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { runCli } from '../../bin/sealstore-cli';
import { S3Client } from '../../bin/transfer/s3-client';

export const MiB = 1024 * 1024;
export const BIN = join(__dirname, '..', '..', 'bin', 'sealstore.js');

/**
 * A file of `bytes` pseudo-random bytes, written fast: one random MiB, each copy stamped with its index so no
 * two parts or ranges are alike (a part sent twice or in the wrong place changes the digest).
 */
export async function writeFile(path: string, bytes: number): Promise<void> {
  const block = randomBytes(MiB);
  const fh = await open(path, 'w');
  try {
    for (let off = 0, i = 0; off < bytes; off += MiB, i++) {
      const b = Buffer.from(block);
      b.writeUInt32BE(i, 0);
      b.writeUInt32BE(i * 2654435761 >>> 0, MiB / 2);
      await fh.write(b, 0, Math.min(MiB, bytes - off), off);
    }
  } finally {
    await fh.close();
  }
}

export async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const c of createReadStream(path, { highWaterMark: 4 * MiB })) h.update(c as Buffer);
  return h.digest('hex');
}

export interface Endpointed {
  readonly url: string;
  readonly creds: { readonly accessKeyId: string; readonly secretAccessKey: string };
}

export function envFor(t: Endpointed, stateDir: string): Record<string, string> {
  return { SEALSTORE_ENDPOINT: t.url, SEALSTORE_ACCESS_KEY_ID: t.creds.accessKeyId, SEALSTORE_SECRET_ACCESS_KEY: t.creds.secretAccessKey, SEALSTORE_TRANSFER_DIR: stateDir };
}

/** The one line the CLI writes to stderr on success: the credentials it used and where they came from. */
export function credentialsLine(env: Record<string, string>): string {
  const endpoint = new URL(env['SEALSTORE_ENDPOINT'] ?? '');
  return `sealstore: using access key ${env['SEALSTORE_ACCESS_KEY_ID']} from SEALSTORE_ACCESS_KEY_ID/SEALSTORE_SECRET_ACCESS_KEY, endpoint ${endpoint.origin}${endpoint.pathname.replace(/\/+$/, '')}\n`;
}

export async function createBucket(t: Endpointed, bucket: string): Promise<void> {
  const client = new S3Client({ endpoint: new URL(t.url), region: 'us-east-1', ...t.creds });
  try {
    await client.call({ method: 'PUT', bucket });
  } finally {
    client.close();
  }
}

export interface Run {
  readonly code: number;
  readonly out: string;
  readonly err: string;
  /** stdout's JSON lines, parsed. */
  readonly events: Array<Record<string, unknown>>;
}

const parseEvents = (out: string) =>
  out
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);

/** The CLI in this process, stdout not a terminal (JSON lines). */
export async function cli(args: string[], env: Record<string, string>, extra: { tty?: boolean; signal?: AbortSignal } = {}): Promise<Run> {
  let out = '';
  let err = '';
  const code = await runCli(args, env, { out: (t) => (out += t), err: (t) => (err += t), tty: extra.tty ?? false, retryBackoffMs: () => 20, ...(extra.signal ? { signal: extra.signal } : {}) });
  return { code, out, err, events: parseEvents(out) };
}

/** The installed bin (node bin/sealstore.js) in a child process. */
export function spawnCli(args: string[], env: Record<string, string>): { child: ChildProcess; done: Promise<Run> } {
  const child = spawn(process.execPath, [BIN, ...args], { env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '/tmp', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout?.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (err += c.toString()));
  const done = new Promise<Run>((resolve) => child.on('close', (code, signal) => resolve({ code: code ?? (signal ? 128 + (signal === 'SIGKILL' ? 9 : 2) : 1), out, err, events: parseEvents(out) })));
  return { child, done };
}

/** Whether a command exists on PATH. */
export function has(command: string): Promise<boolean> {
  return new Promise((resolve) => execFile('sh', ['-c', `command -v ${command}`], (e) => resolve(!e)));
}
