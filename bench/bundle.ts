// The Lambda bundle: size of lambdas/handlers/api.ts bundled as it ships, and the cold import time of that
// bundle in a fresh node process (with a guard proving the import makes no network call).
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { round, summarize, type Summary } from './stats';

export interface BundleReport {
  readonly bytes: number;
  readonly budgetBytes: number;
  readonly coldImportMs: Summary;
  readonly budgetMs: number;
  readonly networkCallsOnImport: number;
  /** Whether a plain `require` (no Lambda runtime) works; if not, why, and timings use the runtime shim. */
  readonly plainImport: 'ok' | { readonly fails: string };
  readonly timedWith: string;
  readonly withinBudget: boolean;
}

const BUDGET_BYTES = 1_000_000;
const BUDGET_MS = 300;

/** The configuration the stack needs at cold start, as dummies: importing must not reach any of them. */
const LAMBDA_ENV = {
  SEALSTORE_ROOT_CREDENTIALS_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:000000000000:secret:bench',
  AWS_REGION: 'us-east-1',
  SEALSTORE_TABLE_NAME: 'bench-table',
  SEALSTORE_BLOB_BUCKET: 'bench-bucket',
  SEALSTORE_KMS_KEY_ID: 'alias/bench',
};

/** Preloaded in the guard run: any socket or DNS lookup during import is counted and reported. */
const NETWORK_GUARD = `
const net = require('node:net'); const dns = require('node:dns');
let calls = 0;
const origConnect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function (...a) { calls++; return origConnect.apply(this, a); };
const origLookup = dns.lookup;
dns.lookup = function (...a) { calls++; return origLookup.apply(this, a); };
process.on('exit', () => process.stderr.write('NETWORK_CALLS=' + calls + '\\n'));
`;

/**
 * What the Lambda runtime puts on globalThis before loading a handler: `awslambda` with streamifyResponse.
 * Used only when a plain import fails, so the timing still reflects how Lambda loads the bundle.
 */
const LAMBDA_RUNTIME_SHIM = `
globalThis.awslambda = Object.assign(globalThis.awslambda || {}, {
  streamifyResponse: (fn) => fn,
  HttpResponseStream: { from: (s) => s },
});
`;

export async function measureBundle(runs: number): Promise<BundleReport> {
  const dir = mkdtempSync(join(tmpdir(), 'sealstore-bundle-'));
  const outfile = join(dir, 'bundle.js');
  await build({
    entryPoints: [join(__dirname, '..', 'lambdas', 'handlers', 'api.ts')],
    bundle: true,
    platform: 'node',
    target: 'node22',
    minify: true,
    format: 'cjs',
    // As the CDK stack bundles it (lib/sealstore-function.ts): ES module builds first, for tree-shaking.
    mainFields: ['module', 'main'],
    external: ['better-sqlite3'],
    outfile,
    logLevel: 'error',
  });
  const bytes = statSync(outfile).size;
  const env = { PATH: process.env['PATH'] ?? '', ...LAMBDA_ENV };
  const importOnce = (...preloads: string[]) => {
    const args = [...preloads.flatMap((p) => ['-r', p]), '-e', "require('./bundle.js')"];
    const start = process.hrtime.bigint();
    const r = spawnSync(process.execPath, args, { cwd: dir, env, encoding: 'utf8' });
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    if (r.status !== 0) throw new Error(`bundle import failed: ${tail(r.stderr)}`);
    return { ms, stderr: r.stderr };
  };
  const guard = join(dir, 'network-guard.js');
  writeFileSync(guard, NETWORK_GUARD);
  const shim = join(dir, 'lambda-runtime-shim.js');
  writeFileSync(shim, LAMBDA_RUNTIME_SHIM);
  let plainImport: BundleReport['plainImport'] = 'ok';
  try {
    importOnce();
  } catch (e) {
    plainImport = { fails: e instanceof Error ? e.message : String(e) };
  }
  const preloads = plainImport === 'ok' ? [] : [shim];
  const guarded = importOnce(guard, ...preloads);
  const networkCallsOnImport = Number(/NETWORK_CALLS=(\d+)/.exec(guarded.stderr)?.[1] ?? Number.NaN);
  const times: number[] = [];
  for (let i = 0; i < runs; i++) times.push(round(importOnce(...preloads).ms, 1));
  const coldImportMs = summarize(times);
  return {
    bytes,
    budgetBytes: BUDGET_BYTES,
    coldImportMs,
    budgetMs: BUDGET_MS,
    networkCallsOnImport,
    plainImport,
    timedWith: plainImport === 'ok' ? 'node -e "require(\'./bundle.js\')"' : 'the same, with a preload that defines globalThis.awslambda.streamifyResponse as the Lambda runtime does',
    withinBudget: bytes < BUDGET_BYTES && coldImportMs.median < BUDGET_MS && networkCallsOnImport === 0,
  };
}

/** The last lines of a minified bundle's stack trace, each cut short: the message, not the source. */
function tail(stderr: string): string {
  const lines = stderr.split('\n').filter((l) => l.trim() !== '' && !/^\s+at /.test(l) && !/^Node\.js v/.test(l));
  return lines.filter((l) => /^[A-Za-z]*Error\b/.test(l)).map((l) => l.slice(0, 300)).join(' | ') || lines.slice(-3).map((l) => l.slice(0, 200)).join(' | ');
}
