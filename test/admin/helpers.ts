// Shared pieces of the admin tests: an embedded server with a short retire grace, the CLI run in-process.
import { S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { runCli } from '../../bin/sealstore-cli';
import { startEmbedded, type EmbeddedTarget } from '../support/embedded-target';
import type { Creds } from '../support/signed-fetch';

export async function startAdminTarget(): Promise<EmbeddedTarget> {
  return startEmbedded({ lifecycleConfig: { retireGraceMs: 0, pendingWindowDays: 7 } });
}

export function client(url: string, creds: Creds): S3Client {
  return new S3Client({ endpoint: url, region: 'us-east-1', forcePathStyle: true, credentials: creds, maxAttempts: 1 });
}

export interface CliResult {
  readonly code: number;
  readonly out: string;
  readonly err: string;
}

export async function cli(target: { url: string; creds: Creds }, ...args: string[]): Promise<CliResult> {
  let out = '';
  let err = '';
  // SEALSTORE_* come first in the CLI's order, so a .sealstore directory where the tests run cannot change the key used.
  const env = { SEALSTORE_ENDPOINT: target.url, SEALSTORE_ACCESS_KEY_ID: target.creds.accessKeyId, SEALSTORE_SECRET_ACCESS_KEY: target.creds.secretAccessKey };
  const code = await runCli(args, env, { out: (t) => (out += t), err: (t) => (err += t), waitMs: 0 });
  return { code, out, err };
}

export async function cliJson<T>(target: { url: string; creds: Creds }, ...args: string[]): Promise<T> {
  const r = await cli(target, ...args, '--json');
  if (r.code !== 0) throw new Error(`sealstore ${args.join(' ')} failed (${r.code}): ${r.err}`);
  return JSON.parse(r.out) as T;
}

/** The S3 error a call fails with: its code, HTTP status and message. */
export async function s3Error(p: Promise<unknown>): Promise<{ code: string; status: number | undefined; message: string }> {
  try {
    await p;
  } catch (e) {
    if (!(e instanceof S3ServiceException)) throw e;
    return { code: e.name, status: e.$metadata.httpStatusCode, message: e.message };
  }
  throw new Error('expected the call to fail, but it succeeded');
}
