// The admin CLI's logic (`npx sealstore …`; entry in bin/sealstore.ts). Talks to a running store (npm start, or a
// deployed stack) over its SigV4-signed admin API under /_sealstore/, so the same commands work everywhere.
import { HttpRequest } from '@smithy/protocol-http';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ON_DEMAND_COUNT_CAP } from '../lambdas/core/key-lifecycle/config';
import { parseRootCredentials, ROOT_CREDENTIALS_FILE } from '../lambdas/core/root-credentials';
import { s3Signer } from '../lambdas/http/signer';
import { AbortedError, S3Client, S3Error } from './transfer/s3-client';
import { formatBytes } from './transfer/progress';
import { Interrupted, parseSize, runCp, runSync, stateDir, TransferUsageError } from './transfer/transfer';

const HELP = `sealstore — transfer and admin CLI for a sealstore endpoint

Usage: sealstore <command> [options]

  cp <file> s3://bucket/key                 upload a file of any size: one PUT when it fits the store's request
                                            limit, else a multipart upload with parallel parts sized to the limit
                                            (asked from the store); interrupted uploads resume when run again
  cp s3://bucket/key <file|dir/>            download: parallel ranged GETs, each within what the store streams
                                            at full speed; written to <file>.sealstore-download, then renamed
  sync <dir> s3://bucket/prefix             upload the files that are missing there, differ in size, or are newer
  sync s3://bucket/prefix <dir>             download likewise
      --concurrency N                       requests in flight (default 4)
      --part-size SIZE                      e.g. 8MiB; default: the largest the store takes (16 MiB on S3 limits)
      --dry-run                             sync: say what would move, move nothing
      Progress: a bar with throughput and ETA on a terminal; JSON lines otherwise (or with --json).
      Upload state: $SEALSTORE_TRANSFER_DIR or ~/.sealstore/transfers. Ctrl-C stops and keeps it (exit 130).

  keys ls                                   CMKs with role, KMS state, object counts, rewrap progress
  keys create --alias A [--description D]   a new CMK (embedded vault, or a KMS key), standby until rolled over to
  keys create --adopt <arn|alias>           make an existing KMS key known to the store
  keys rotate [--key <alias|arn>]           new key material now (default: the active key)
  keys rollover --to <alias|arn>            make another CMK active; the old one is rewrapped away from and retired
  keys rewrap [--wait]                      run the lifecycle job once (rotate if due, rewrap a batch, retire);
                                            --wait repeats until nothing is left, with a progress bar
  keys disable|enable <alias|arn>
  keys schedule-deletion <alias|arn> [--days N] [--force]
                                            refused while the key still wraps objects unless --force (it says how many)
      --dry-run                             list every object its deletion would make unreadable, with totals;
                                            schedules nothing
  keys cancel-deletion <alias|arn>
  recover --rebuild-index [--batch N] [--max-batches N]
                                            rebuild an emptied index from the blobs and the CMKs (docs/RECOVERY.md):
                                            runs batch after batch with a progress line each, then lists every blob
                                            it could not restore; run again after an interruption to resume
  access-keys create --bucket B --role read|write|delete|rewrap|admin [--description D]
                                            prints the secret once
  access-keys ls
  access-keys disable|enable|delete <access-key-id>

Options: --json (machine-readable output), --endpoint URL, --region R
Environment: SEALSTORE_ENDPOINT (default http://127.0.0.1:9000), AWS_REGION (default us-east-1).
Credentials, the first found wins (the one used is named on stderr):
  1. SEALSTORE_ACCESS_KEY_ID and SEALSTORE_SECRET_ACCESS_KEY
  2. for an endpoint on this machine (127.0.0.1, localhost): <SEALSTORE_DATA_DIR or ./.sealstore>/root-credentials.json
  3. AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY
Exit codes: 0 ok, 1 the store refused or failed, 2 usage error, 130 interrupted (resumable).
`;

export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  /** True when stdout is a terminal: progress redraws in place. */
  readonly tty?: boolean;
  /** Pause between rewrap runs under --wait (tests pass 0). */
  readonly waitMs?: number;
  /** Terminal width, for the progress line. */
  readonly columns?: number;
  /** Aborts a transfer (Ctrl-C); its state is kept for a resume. */
  readonly signal?: AbortSignal;
  /** Pause before a transfer request's retry n (tests pass a short one). */
  readonly retryBackoffMs?: (attempt: number) => number;
}

class UsageError extends Error {}
class RemoteError extends Error {
  constructor(readonly code: string, message: string, readonly status: number) {
    super(message);
  }
}

interface Target {
  readonly endpoint: URL;
  readonly region: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  /** Where the credentials came from, as the CLI names it to the user. */
  readonly source: string;
}

const SEALSTORE_VARS = 'SEALSTORE_ACCESS_KEY_ID/SEALSTORE_SECRET_ACCESS_KEY';
const AWS_VARS = 'AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY';

/** The endpoint as the user gave it, a deployed stack's stage path included. */
const endpointText = (endpoint: URL) => `${endpoint.origin}${endpoint.pathname.replace(/\/+$/, '')}`;

/** A store on this machine, whose data directory's root credentials may be next to the user. */
function isLocal(endpoint: URL): boolean {
  const host = endpoint.hostname.replace(/^\[|\]$/g, '');
  return host === 'localhost' || host.endsWith('.localhost') || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

const rootFileOf = (env: NodeJS.ProcessEnv) => join(resolve(env['SEALSTORE_DATA_DIR'] ?? '.sealstore'), ROOT_CREDENTIALS_FILE);

/** The documented precedence, as one sentence for the help and for every refusal of the credentials. */
const precedence = (env: NodeJS.ProcessEnv) =>
  `sealstore takes credentials from ${SEALSTORE_VARS} first, then, for a store on this machine, ${rootFileOf(env)}, then ${AWS_VARS}`;

/**
 * The endpoint and the credentials, in the documented order: SEALSTORE_* (the variables `npm start` takes its root
 * credentials from), then the local store's root credentials file when the endpoint is on this machine, then the
 * AWS variables. AWS_* come last because a shell often holds a real AWS account's keys, which no sealstore knows.
 */
function target(env: NodeJS.ProcessEnv, flags: { endpoint?: string; region?: string }): Target {
  const endpoint = new URL(flags.endpoint ?? env['SEALSTORE_ENDPOINT'] ?? 'http://127.0.0.1:9000');
  const region = flags.region ?? env['AWS_REGION'] ?? env['AWS_DEFAULT_REGION'] ?? 'us-east-1';
  const pair = (idVar: string, secretVar: string, source: string): Target | undefined => {
    const id = env[idVar];
    const secret = env[secretVar];
    if (!id && !secret) return undefined;
    if (!id || !secret) throw new UsageError(`${idVar} and ${secretVar} go together: set both, or neither`);
    return { endpoint, region, accessKeyId: id, secretAccessKey: secret, source };
  };
  const fromSealstore = pair('SEALSTORE_ACCESS_KEY_ID', 'SEALSTORE_SECRET_ACCESS_KEY', SEALSTORE_VARS);
  if (fromSealstore) return fromSealstore;
  if (isLocal(endpoint)) {
    const file = rootFileOf(env);
    let saved;
    try {
      saved = parseRootCredentials(readFileSync(file, 'utf8'));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new UsageError(`cannot read ${file}: ${(e as Error).message}`);
    }
    if (saved) return { endpoint, region, ...saved, source: `${file} (the local store's root credentials)` };
  }
  const fromAws = pair('AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', AWS_VARS);
  if (fromAws) return fromAws;
  throw new UsageError(`no credentials: ${precedence(env)}, and none of them is set`);
}

/** What to tell the user when the store refuses the credentials themselves: which ones, from where, how to choose. */
function credentialHint(code: string, t: Target, env: NodeJS.ProcessEnv): string | undefined {
  const why =
    code === 'InvalidAccessKeyId'
      ? `the store at ${endpointText(t.endpoint)} does not know the access key ${t.accessKeyId} (or it is disabled there); it came from ${t.source}`
      : code === 'SignatureDoesNotMatch'
        ? `the secret of ${t.accessKeyId} is not the one the store at ${endpointText(t.endpoint)} holds; both came from ${t.source}`
        : undefined;
  return why === undefined ? undefined : `  ${why}.\n  ${precedence(env)}: set SEALSTORE_ACCESS_KEY_ID and SEALSTORE_SECRET_ACCESS_KEY to use other credentials.\n`;
}

/** One signed admin call; a StoreError answer (S3 XML) becomes a RemoteError with its code. */
async function call(t: Target, method: 'GET' | 'POST' | 'DELETE', route: string, body?: unknown): Promise<Record<string, unknown>> {
  const payload = body === undefined ? Buffer.alloc(0) : Buffer.from(JSON.stringify(body), 'utf8');
  // A deployed stack's endpoint may carry a stage path (…/prod); it is part of what the client signs.
  const path = `${t.endpoint.pathname.replace(/\/+$/, '')}/_sealstore${route}`;
  const signer = s3Signer({ credentials: { accessKeyId: t.accessKeyId, secretAccessKey: t.secretAccessKey }, region: t.region });
  const signed = await signer.sign(
    new HttpRequest({
      method,
      protocol: t.endpoint.protocol,
      hostname: t.endpoint.hostname,
      ...(t.endpoint.port ? { port: Number(t.endpoint.port) } : {}),
      path,
      headers: {
        host: t.endpoint.host,
        'x-amz-content-sha256': createHash('sha256').update(payload).digest('hex'),
        ...(payload.length > 0 ? { 'content-type': 'application/json' } : {}),
      },
      body: payload,
    }),
  );
  const res = await new Promise<{ status: number; body: Buffer }>((resolveRes, reject) => {
    const send = t.endpoint.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = send(
      {
        host: t.endpoint.hostname,
        port: t.endpoint.port || undefined,
        method,
        path: encodeURI(path),
        headers: { ...signed.headers, 'content-length': String(payload.length) },
      },
      (r) => {
        const chunks: Buffer[] = [];
        r.on('data', (c: Buffer) => chunks.push(c));
        r.on('end', () => resolveRes({ status: r.statusCode ?? 0, body: Buffer.concat(chunks) }));
        r.on('error', reject);
      },
    );
    req.on('error', (e) => reject(new RemoteError('Unreachable', `cannot reach sealstore at ${t.endpoint.origin}: ${e.message}`, 0)));
    req.end(payload);
  });
  const text = res.body.toString('utf8');
  if (res.status >= 200 && res.status < 300) return JSON.parse(text) as Record<string, unknown>;
  const code = /<Code>([^<]*)<\/Code>/.exec(text)?.[1] ?? `HTTP${res.status}`;
  const message = /<Message>([^<]*)<\/Message>/.exec(text)?.[1] ?? text.slice(0, 200);
  throw new RemoteError(code, unescapeXml(message), res.status);
}

function unescapeXml(s: string): string {
  return s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&');
}

/** Plain aligned columns. */
export function table(headers: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
  return [line(headers), ...rows.map(line)].join('\n') + '\n';
}

const s = (v: unknown) => (v === undefined || v === null ? '-' : typeof v === 'string' ? v : JSON.stringify(v));
const day = (v: unknown) => (typeof v === 'string' ? v.slice(0, 10) : '-');

function keyRows(keys: ReadonlyArray<Record<string, unknown>>): string[][] {
  return keys.map((k) => {
    const rewrap = (k['rewrap'] ?? {}) as Record<string, unknown>;
    const count = k['objectCount'] === undefined ? '-' : `${s(k['objectCount'])}${k['countCapped'] ? '+' : ''}`;
    const remaining = rewrap['remaining'];
    const progress = typeof remaining === 'number' && remaining > 0 ? `${s(rewrap['rewrapped'])} done, ${remaining} left` : rewrap['inProgress'] ? 'in progress' : '-';
    return [s(k['alias']), s(k['role']), s(k['kmsState']), count, progress, day(k['rotatedAt'] ?? k['createdAt']), day(k['deletionDate']), s(k['keyId'])];
  });
}

function bar(done: number, total: number): string {
  const width = 30;
  const ratio = total <= 0 ? 1 : Math.min(1, done / total);
  const filled = Math.round(ratio * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${Math.round(ratio * 100)}% ${done}/${total}`;
}

async function rewrapWait(t: Target, io: CliIo, json: boolean): Promise<number> {
  let done = 0;
  let total: number | undefined;
  let idle = 0;
  const reports: unknown[] = [];
  for (;;) {
    const report = (await call(t, 'POST', '/keys/rewrap'))['report'] as Record<string, unknown>;
    reports.push(report);
    if (report['skipped']) {
      if (++idle > 30) throw new RemoteError('Busy', `another run kept the lease: ${s(report['skipped'])}`, 0);
      await sleep(io.waitMs ?? 2000);
      continue;
    }
    const rewrapped = Number(report['rewrapped'] ?? 0);
    const remaining = Number(report['remaining'] ?? 0);
    const errors = Number(report['errors'] ?? 0);
    done += rewrapped;
    total ??= rewrapped + remaining;
    total = Math.max(total, done + remaining);
    if (!json) io.out(io.tty ? `\r${bar(done, total)}` : `${bar(done, total)}\n`);
    if (remaining === 0) {
      if (json) io.out(`${JSON.stringify({ rewrapped: done, remaining, reports })}\n`);
      else {
        io.out(`${io.tty ? '\n' : ''}rewrap complete: ${done} object(s) rewrapped\n`);
        for (const n of (report['notes'] as string[] | undefined) ?? []) io.out(`  note: ${n}\n`);
        for (const r of (report['retired'] as Array<Record<string, unknown>> | undefined) ?? []) io.out(`  retired ${s(r['keyId'])}, deletion on ${s(r['deletionDate'])}\n`);
      }
      return 0;
    }
    if (rewrapped === 0) {
      // No progress: errors (a disabled key, KMS refusing) will not clear by retrying at once.
      if (!json) io.out('\n');
      for (const n of (report['notes'] as string[] | undefined) ?? []) io.err(`  ${n}\n`);
      io.err(`sealstore: rewrap made no progress (${errors} error(s), ${remaining} left); fix the cause and retry\n`);
      return 1;
    }
    if (io.waitMs) await sleep(io.waitMs);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function printReport(io: CliIo, report: Record<string, unknown>): void {
  if (report['skipped']) {
    io.out(`skipped: ${s(report['skipped'])}\n`);
    return;
  }
  io.out(`rewrapped ${s(report['rewrapped'])}, remaining ${s(report['remaining'])}${report['remainingCapped'] ? '+' : ''}, errors ${s(report['errors'])}\n`);
  for (const k of (report['rotated'] as string[] | undefined) ?? []) io.out(`rotated ${k}\n`);
  for (const r of (report['retired'] as Array<Record<string, unknown>> | undefined) ?? []) io.out(`retired ${s(r['keyId'])}, deletion on ${s(r['deletionDate'])}\n`);
  for (const n of (report['notes'] as string[] | undefined) ?? []) io.out(`note: ${n}\n`);
}

const KEY_HEADERS = ['ALIAS', 'ROLE', 'STATE', 'OBJECTS', 'REWRAP', 'ROTATED', 'DELETION', 'KEY'];

/** How the CLI names a key in a sentence: its alias, else its id. */
const keyName = (k: Record<string, unknown>) => s(k['alias'] ?? k['keyId']);

/** A disabled active key stops every write: said on stderr, whatever the output format. */
function activeDisabledWarning(k: Record<string, unknown>, ref: string): string {
  return (
    `sealstore: warning: ${keyName(k)} is the active key: every PUT, copy and upload now fails with 403 KMS.DisabledException, ` +
    `and objects under it cannot be read. Run \`sealstore keys enable ${ref}\` to undo, or make another key active: ` +
    `\`sealstore keys create --alias A\`, then \`sealstore keys rollover --to A\`.\n`
  );
}

function afterDisable(k: Record<string, unknown>, ref: string): string {
  return `${keyName(k)} is now ${s(k['kmsState'])}: objects under it cannot be read until \`sealstore keys enable ${ref}\`.\n`;
}

function afterEnable(k: Record<string, unknown>): string {
  return `${keyName(k)} is now ${s(k['kmsState'])} (${s(k['role'])}).\n`;
}

/** KMS brings a cancelled key back Disabled: the user has to enable it before it serves again. */
function afterCancelDeletion(k: Record<string, unknown>, ref: string): string {
  const state = s(k['kmsState']);
  const role = s(k['role']);
  const next =
    state === 'Disabled'
      ? ` (KMS leaves a key whose deletion is cancelled disabled): objects under it cannot be read, nor can it become active, until you run \`sealstore keys enable ${ref}\``
      : '';
  const standby = role === 'standby' ? `; it is standby: \`sealstore keys rollover --to ${ref}\` makes it the active key again` : '';
  return `deletion of ${keyName(k)} cancelled. It is now ${state}${next}${standby}.\n`;
}

function afterRotate(k: Record<string, unknown>): string {
  return (
    `${keyName(k)} has new key material (${s(k['currentMaterialId'])}); it stays ${s(k['kmsState'])} and ${s(k['role'])}. ` +
    `New objects are sealed under the new material; objects under older material stay readable and are rewrapped by the lifecycle job ` +
    `(hourly), or now with \`sealstore keys rewrap --wait\`.\n`
  );
}

const INACTIVE_NOTE =
  'Inactive keys are refused with 403 InvalidAccessKeyId ("does not exist"), as S3 answers for an inactive key, so a caller without ' +
  "the secret cannot tell a disabled key from an unknown one; `sealstore access-keys enable <id>` restores one.\n";

/** Below `keys ls`: what a figure counted just now means, since the job's own count may not have run yet. */
function impactFigure(impact: Record<string, unknown>): string {
  const objects = Number(impact['objects'] ?? 0);
  const bytes = Number(impact['bytes'] ?? 0);
  return `${impact['capped'] ? 'at least ' : ''}${objects} object(s), ${formatBytes(bytes)} (${bytes} bytes)`;
}

function afterScheduleDeletion(r: Record<string, unknown>): string {
  const k = r['key'] as Record<string, unknown>;
  const impact = (r['impact'] ?? {}) as Record<string, unknown>;
  const when = `when the pending window ends (${s(k['deletionDate'])})`;
  if (Number(impact['objects'] ?? 0) === 0) return `it wraps no objects; the key is deleted ${when} unless you run sealstore keys cancel-deletion ${s(k['keyId'])}\n`;
  return `${impactFigure(impact)} become unreadable ${when}; until then sealstore keys cancel-deletion ${s(k['keyId'])} keeps them\n`;
}

/**
 * keys schedule-deletion --dry-run: follows the admin API's pages to the end, printing each object as its page
 * arrives (in --json, one document written as it goes), so a key that wraps millions of objects needs no more
 * memory than one page.
 */
async function deletionDryRun(t: Target, ref: string, io: CliIo, json: boolean): Promise<number> {
  let cursor: string | undefined;
  let objects = 0;
  let bytes = 0;
  let first = true;
  let head: Record<string, unknown> = {};
  // Versions other than a latest null version say which they are: every version has its own data key.
  const versionNote = (o: Record<string, unknown>): string => {
    const versionId = o['versionId'];
    if (o['isLatest'] !== false && (versionId === undefined || versionId === 'null')) return '';
    return ` (version ${s(versionId)}${o['isLatest'] === false ? ', noncurrent' : ''})`;
  };
  do {
    const page = await call(t, 'POST', '/keys/deletion-impact', { key: ref, ...(cursor === undefined ? {} : { cursor }) });
    if (first) {
      head = page;
      if (json) io.out(`{"keyId":${JSON.stringify(page['keyId'])},"objects":[`);
      else io.out(`(dry run) deleting ${s(page['keyId'])} would make these objects unreadable:\n${'SIZE'.padStart(14)}  CHOSEN  OBJECT-ID                         BUCKET/KEY\n`);
    }
    for (const o of (page['objects'] ?? []) as Array<Record<string, unknown>>) {
      const size = Number(o['size'] ?? 0);
      if (json) io.out(`${objects === 0 ? '\n' : ',\n'}${JSON.stringify(o)}`);
      else io.out(`${String(size).padStart(14)}  ${o['keyChosen'] ? 'yes   ' : 'no    '}  ${s(o['objectId']).padEnd(32)}  ${s(o['bucket'])}/${s(o['key'])}${versionNote(o)}\n`);
      objects++;
      bytes += size;
    }
    cursor = typeof page['nextCursor'] === 'string' ? page['nextCursor'] : undefined;
    first = false;
  } while (cursor !== undefined);
  const uploads = (head['uploads'] ?? []) as Array<Record<string, unknown>>;
  const secrets = Number(head['sealedSecrets'] ?? 0);
  const buckets = (head['bucketDefaults'] ?? []) as string[];
  if (json) {
    io.out(`\n],"uploads":${JSON.stringify(uploads)},"sealedSecrets":${secrets},"bucketDefaults":${JSON.stringify(buckets)},"totals":${JSON.stringify({ objects, bytes })}}\n`);
    return 0;
  }
  for (const u of uploads) io.out(`multipart upload ${s(u['uploadId'])} (${s(u['state'])}) of ${s(u['bucket'])}/${s(u['key'])}: could never complete\n`);
  if (secrets > 0) io.out(`${secrets} stored secret(s) sealed under it (access-key secrets, the index key): the job rewraps them onto the active key; do not delete the key before it has\n`);
  if (buckets.length > 0) io.out(`default encryption key of bucket(s) ${buckets.join(', ')}: their writes that name no key would fail\n`);
  io.out(`total: ${impactFigure({ objects, bytes })} would become unreadable; ${uploads.length} upload(s). Nothing was scheduled.\n`);
  return 0;
}

const REPORT_REASONS = ['key-unavailable', 'tampered', 'no-record', 'superseded', 'unfinished-upload'] as const;

function recoverLine(p: Record<string, unknown>): string {
  const reported = (p['reported'] ?? {}) as Record<string, number>;
  const skipped = REPORT_REASONS.filter((r) => Number(reported[r] ?? 0) > 0).map((r) => `${r} ${reported[r]}`);
  return (
    `${p['done'] ? 'done' : s(p['phase'])}: ${Number(p['scanned'] ?? 0)} blob(s) scanned, ${Number(p['objects'] ?? 0)} object(s) restored ` +
    `(${Number(p['multipart'] ?? 0)} multipart)${skipped.length > 0 ? `; not restored: ${skipped.join(', ')}` : ''}\n`
  );
}

/**
 * recover --rebuild-index: calls POST /recover until the run is done (each call one bounded batch, so a deployed
 * stack's 15-minute Lambda limit holds), a line of progress per batch, then every blob not restored, page by page.
 * Stopping (Ctrl-C, --max-batches) loses at most the batch in flight; running it again resumes from the checkpoint.
 */
async function recoverIndex(t: Target, io: CliIo, json: boolean, batch: number | undefined, maxBatches: number | undefined): Promise<number> {
  let progress: Record<string, unknown> = {};
  for (let n = 0; ; n++) {
    if ((maxBatches !== undefined && n >= maxBatches) || io.signal?.aborted) {
      const why = io.signal?.aborted ? 'interrupted' : `stopped after ${n} batch(es) (--max-batches)`;
      if (json) io.out(`${JSON.stringify({ progress, done: false })}\n`);
      io.err(`sealstore: recover ${why}; run \`sealstore recover --rebuild-index\` again to resume from its checkpoint\n`);
      return 130;
    }
    progress = (await call(t, 'POST', '/recover', batch === undefined ? {} : { batch }))['progress'] as Record<string, unknown>;
    if (!json) io.out(recoverLine(progress));
    if (progress['done'] === true) break;
  }
  if (json) io.out(`{"progress":${JSON.stringify(progress)},"notRestored":[`);
  let cursor: string | undefined;
  let first = true;
  do {
    const page = await call(t, 'POST', '/recover/report', cursor === undefined ? {} : { cursor });
    for (const e of (page['entries'] ?? []) as Array<Record<string, unknown>>) {
      if (json) io.out(`${first ? '\n' : ',\n'}${JSON.stringify(e)}`);
      else io.out(`not restored (${s(e['reason'])}): blob ${s(e['blobId'])}${e['bucket'] !== undefined ? ` in ${s(e['bucket'])}` : ''}${e['key'] !== undefined ? `/${s(e['key'])}` : ''}: ${s(e['detail'])}\n`);
      first = false;
    }
    cursor = typeof page['nextCursor'] === 'string' ? page['nextCursor'] : undefined;
  } while (cursor !== undefined);
  if (json) io.out(`${first ? '' : '\n'}]}\n`);
  else io.out('Access keys, bucket default encryption and grants are not in the blobs: recreate them (docs/RECOVERY.md). Run `sealstore keys rewrap` to count objects per CMK.\n');
  return 0;
}

function countNote(keys: ReadonlyArray<Record<string, unknown>>): string {
  if (!keys.some((k) => k['countedOnDemand'] === true)) return '';
  return (
    `OBJECTS counted just now for keys the hourly lifecycle job has not counted yet (at most ${ON_DEMAND_COUNT_CAP}, then shown with +); ` +
    '`sealstore keys rewrap` counts them all and keeps the count.\n'
  );
}

/** Runs one CLI command; returns the exit code. Never calls process.exit (tests run it in-process). */
export async function runCli(argv: readonly string[], env: NodeJS.ProcessEnv, io: CliIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        json: { type: 'boolean', default: false },
        wait: { type: 'boolean', default: false },
        force: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
        endpoint: { type: 'string' },
        region: { type: 'string' },
        alias: { type: 'string' },
        adopt: { type: 'string' },
        description: { type: 'string' },
        to: { type: 'string' },
        key: { type: 'string' },
        days: { type: 'string' },
        bucket: { type: 'string' },
        role: { type: 'string' },
        concurrency: { type: 'string' },
        'part-size': { type: 'string' },
        'dry-run': { type: 'boolean', default: false },
        'rebuild-index': { type: 'boolean', default: false },
        batch: { type: 'string' },
        'max-batches': { type: 'string' },
      },
    });
  } catch (e) {
    io.err(`sealstore: ${(e as Error).message}\n\n${HELP}`);
    return 2;
  }
  const { values: v, positionals } = parsed;
  const [group, command, arg] = positionals;
  if (v.help || !group) {
    if (v.help) io.out(HELP);
    else io.err(HELP);
    return v.help ? 0 : 2;
  }
  const json = v.json;
  const emit = (data: unknown, human: () => void) => (json ? io.out(`${JSON.stringify(data, null, 2)}\n`) : human());
  const need = (value: string | undefined, what: string): string => {
    if (!value) throw new UsageError(`${group} ${command ?? ''} needs ${what}`);
    return value;
  };
  // Resolved once, on the first call that needs it, and named on stderr: which key, from where, against what.
  let resolved: Target | undefined;
  const t = (): Target => {
    if (resolved) return resolved;
    resolved = target(env, { ...(v.endpoint ? { endpoint: v.endpoint } : {}), ...(v.region ? { region: v.region } : {}) });
    io.err(`sealstore: using access key ${resolved.accessKeyId} from ${resolved.source}, endpoint ${endpointText(resolved.endpoint)}\n`);
    return resolved;
  };
  try {
    if (group === 'cp' || group === 'sync') return await transfer(group, positionals.slice(1), v, t, argv, env, io);
    const showKey = (r: Record<string, unknown>) => {
      const k = r['key'] as Record<string, unknown>;
      emit(r, () => io.out(table(KEY_HEADERS, keyRows([k]))));
    };
    switch (`${group} ${command ?? ''}`) {
      case 'keys ls': {
        const r = await call(t(), 'GET', '/keys');
        const keys = r['keys'] as Array<Record<string, unknown>>;
        emit(r, () => io.out(table(KEY_HEADERS, keyRows(keys)) + countNote(keys)));
        return 0;
      }
      case 'keys create': {
        if (!v.alias && !v.adopt) throw new UsageError('keys create needs --alias A (or --adopt ARN)');
        const r = await call(t(), 'POST', '/keys', v.adopt ? { adopt: v.adopt } : { alias: v.alias, ...(v.description ? { description: v.description } : {}) });
        showKey(r);
        return 0;
      }
      case 'keys rotate': {
        const r = await call(t(), 'POST', '/keys/rotate', v.key ? { key: v.key } : {});
        showKey(r);
        if (!json) io.out(afterRotate(r['key'] as Record<string, unknown>));
        return 0;
      }
      case 'keys rollover': {
        const r = await call(t(), 'POST', '/keys/rollover', { to: need(v.to, '--to <alias|arn>') });
        emit(r, () => {
          const from = r['from'] as Record<string, unknown>;
          const to = r['to'] as Record<string, unknown>;
          io.out(`active: ${s(to['alias'] ?? to['keyId'])} (${s(to['keyId'])})\nretiring: ${s(from['alias'] ?? from['keyId'])} (${s(from['keyId'])})\nrun \`sealstore keys rewrap --wait\` to move existing objects now\n`);
        });
        return 0;
      }
      case 'keys rewrap': {
        if (v.wait) return await rewrapWait(t(), io, json);
        const r = await call(t(), 'POST', '/keys/rewrap');
        emit(r, () => printReport(io, r['report'] as Record<string, unknown>));
        return Number((r['report'] as Record<string, unknown>)['errors'] ?? 0) > 0 ? 1 : 0;
      }
      case 'keys disable':
      case 'keys enable':
      case 'keys cancel-deletion': {
        const ref = need(arg, '<alias|arn>');
        const r = await call(t(), 'POST', `/keys/${command}`, { key: ref });
        showKey(r);
        const k = r['key'] as Record<string, unknown>;
        if (command === 'disable' && k['role'] === 'active') io.err(activeDisabledWarning(k, ref));
        if (!json) io.out(command === 'disable' ? afterDisable(k, ref) : command === 'enable' ? afterEnable(k) : afterCancelDeletion(k, ref));
        return 0;
      }
      case 'keys schedule-deletion': {
        const days = v.days === undefined ? undefined : Number(v.days);
        if (days !== undefined && !Number.isInteger(days)) throw new UsageError('--days takes a whole number of days (7..30)');
        const ref = need(arg, '<alias|arn>');
        if (v['dry-run']) return await deletionDryRun(t(), ref, io, json);
        const r = await call(t(), 'POST', '/keys/schedule-deletion', { key: ref, ...(days === undefined ? {} : { days }), force: v.force });
        showKey(r);
        if (!json) io.out(afterScheduleDeletion(r));
        return 0;
      }
      case 'recover ': {
        if (!v['rebuild-index']) throw new UsageError('recover needs --rebuild-index (the one recovery there is; see docs/RECOVERY.md)');
        const count = (flag: string, value: string | undefined): number | undefined => {
          if (value === undefined) return undefined;
          const n = Number(value);
          if (!Number.isInteger(n) || n < 1) throw new UsageError(`${flag} takes a whole number of at least 1`);
          return n;
        };
        return await recoverIndex(t(), io, json, count('--batch', v.batch), count('--max-batches', v['max-batches']));
      }
      case 'access-keys create': {
        const r = await call(t(), 'POST', '/access-keys', {
          grants: [{ bucket: need(v.bucket, "--bucket B (or '*')"), role: need(v.role, '--role read|write|delete|rewrap|admin') }],
          ...(v.description ? { description: v.description } : {}),
        });
        const k = r['accessKey'] as Record<string, unknown>;
        emit(r, () =>
          io.out(`access key id:     ${s(k['accessKeyId'])}\nsecret access key: ${s(k['secretAccessKey'])}\n(the secret is shown only now; it is stored sealed under ${s(k['keyId'])})\n`),
        );
        return 0;
      }
      case 'access-keys ls': {
        const r = await call(t(), 'GET', '/access-keys');
        const rows = (r['accessKeys'] as Array<Record<string, unknown>>).map((k) => [
          s(k['accessKeyId']),
          s(k['status']),
          (k['grants'] as Array<Record<string, unknown>>).map((g) => `${s(g['role'])}@${s(g['bucket'])}`).join(','),
          day(k['createdAt']),
          s(k['description']),
        ]);
        emit(r, () => {
          io.out(table(['ACCESS KEY', 'STATUS', 'GRANTS', 'CREATED', 'DESCRIPTION'], rows));
          if (rows.some((row) => row[1] === 'Inactive')) io.out(INACTIVE_NOTE);
        });
        return 0;
      }
      case 'access-keys disable':
      case 'access-keys enable': {
        const r = await call(t(), 'POST', `/access-keys/${encodeURIComponent(need(arg, '<access-key-id>'))}/${command}`);
        const id = s((r['accessKey'] as Record<string, unknown>)['accessKeyId']);
        emit(r, () =>
          io.out(
            command === 'disable'
              ? `${id} disabled: requests signed with it now get 403 InvalidAccessKeyId ("does not exist"), as S3 answers for an inactive key; \`sealstore access-keys enable ${id}\` restores it\n`
              : `${id} enabled\n`,
          ),
        );
        return 0;
      }
      case 'access-keys delete': {
        const r = await call(t(), 'DELETE', `/access-keys/${encodeURIComponent(need(arg, '<access-key-id>'))}`);
        emit(r, () => io.out(`${s(r['deleted'])} deleted\n`));
        return 0;
      }
      default:
        throw new UsageError(`unknown command: ${positionals.join(' ')}`);
    }
  } catch (e) {
    if (e instanceof UsageError) {
      io.err(`sealstore: ${e.message}\nRun \`sealstore --help\` for usage.\n`);
      return 2;
    }
    if (e instanceof RemoteError) {
      if (json) io.out(`${JSON.stringify({ error: { code: e.code, message: e.message, status: e.status } })}\n`);
      io.err(`sealstore: ${e.code}: ${e.message}\n${resolved ? (credentialHint(e.code, resolved, env) ?? '') : ''}`);
      return 1;
    }
    io.err(`sealstore: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
}

interface TransferFlags {
  readonly json: boolean;
  readonly concurrency?: string | undefined;
  readonly 'part-size'?: string | undefined;
  readonly 'dry-run': boolean;
}

const shellQuote = (a: string) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, "'\\''")}'`);

/** `cp` and `sync`: usage errors exit 2, failures 1, an interruption 130 with how to resume. */
async function transfer(verb: 'cp' | 'sync', args: readonly string[], v: TransferFlags, t: () => Target, argv: readonly string[], env: NodeJS.ProcessEnv, io: CliIo): Promise<number> {
  const [from, to, extra] = args;
  if (!from || !to || extra !== undefined) throw new UsageError(`${verb} takes a source and a target, e.g. sealstore ${verb} ${verb === 'cp' ? './file s3://bucket/key' : './dir s3://bucket/prefix'}`);
  const concurrency = v.concurrency === undefined ? 4 : Number(v.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64) throw new UsageError('--concurrency takes a whole number from 1 to 64');
  const json = v.json || io.tty !== true;
  let partSize: number | undefined;
  try {
    partSize = v['part-size'] === undefined ? undefined : parseSize(v['part-size']);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const client = new S3Client(t(), { ...(io.signal ? { signal: io.signal } : {}), maxSockets: concurrency + 2, ...(io.retryBackoffMs ? { backoffMs: io.retryBackoffMs } : {}) });
  const options = { json: v.json, concurrency, dryRun: v['dry-run'], stateDir: resolve(stateDir(env)), ...(partSize === undefined ? {} : { partSize }) };
  const tio = { out: (text: string) => io.out(text), err: (text: string) => io.err(text), tty: io.tty === true, ...(io.columns ? { columns: io.columns } : {}) };
  const again = `sealstore ${argv.map(shellQuote).join(' ')}`;
  try {
    return verb === 'cp' ? await runCp(client, tio, options, from, to) : await runSync(client, tio, options, from, to);
  } catch (e) {
    if (io.tty && !v.json) io.out('\n');
    if (e instanceof TransferUsageError) throw new UsageError(e.message);
    const aborted = e instanceof AbortedError || (e instanceof Interrupted && e.cause instanceof AbortedError);
    if (e instanceof Interrupted || aborted) {
      const statePath = e instanceof Interrupted ? e.statePath : undefined;
      const message = aborted ? `interrupted: ${e.message}` : e.message;
      if (json) io.out(`${JSON.stringify({ event: 'interrupted', message, resume: again, ...(statePath ? { state: statePath } : {}) })}\n`);
      io.err(`sealstore: ${message}\n${statePath ? `run the same command again to resume: ${again}\n(state: ${statePath})\n` : `run the same command again: ${again}\n`}`);
      return aborted ? 130 : 1;
    }
    if (e instanceof S3Error) {
      if (json) io.out(`${JSON.stringify({ event: 'error', code: e.code, message: e.message, status: e.status })}\n`);
      io.err(`sealstore: ${e.code}: ${e.message}\n${credentialHint(e.code, t(), env) ?? ''}`);
      return 1;
    }
    throw e;
  } finally {
    client.close();
  }
}

export async function main(): Promise<void> {
  // Ctrl-C stops a transfer where it stands (its state is saved after every part); a second one ends at once.
  // Other commands keep Ctrl-C's default.
  const controller = new AbortController();
  if (['cp', 'sync'].includes(process.argv[2] ?? '')) {
    process.on('SIGINT', () => {
      if (controller.signal.aborted) process.exit(130);
      controller.abort();
    });
  }
  const code = await runCli(process.argv.slice(2), process.env, {
    out: (t) => process.stdout.write(t),
    err: (t) => process.stderr.write(t),
    tty: process.stdout.isTTY === true,
    ...(process.stdout.columns ? { columns: process.stdout.columns } : {}),
    signal: controller.signal,
  });
  process.exitCode = code;
}
