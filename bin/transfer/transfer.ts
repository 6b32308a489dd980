// `sealstore cp` and `sync`: files of any size to and from a store, shaped by the limits the store itself states
// (GET /_sealstore/info). Uploads go as one PUT when they fit, else as a multipart upload with parallel parts that
// fit the target's request limit, each part retried; the upload's state lives in a file so an interrupted upload
// resumes where it stopped. Downloads are parallel ranged GETs no larger than the target streams at full speed,
// written to a temp file that is renamed into place once its size is checked.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { Readable } from 'node:stream';
import { AbortedError, S3Error, xmlBlocks, type S3Client, xmlValues, type RequestBody } from './s3-client';
import { formatBytes, formatSeconds, Progress, type ProgressSink } from './progress';

const MiB = 1024 * 1024;

export interface TransferLimits {
  readonly mode: 's3' | 'lambda';
  readonly maxObjectBytes: number;
  readonly maxPartBytes: number;
  readonly minPartBytes: number;
  readonly maxParts: number;
  readonly maxResponseBytes: number | null;
  readonly rangeChunkBytes: number;
}

/** What a store that does not answer GET /info (an older sealstore) is assumed to take: the deployed stack's limits. */
export const FALLBACK_LIMITS: TransferLimits = {
  mode: 'lambda',
  maxObjectBytes: 4_669_440,
  maxPartBytes: 4_669_440,
  minPartBytes: MiB,
  maxParts: 10_000,
  maxResponseBytes: 200_000_000,
  rangeChunkBytes: 5 * MiB,
};

export class TransferUsageError extends Error {}

/** A transfer that stopped (Ctrl-C, or a failure after retries) and can be resumed by running the command again. */
export class Interrupted extends Error {
  constructor(message: string, readonly statePath: string | undefined, override readonly cause?: unknown) {
    super(message);
  }
}

export async function fetchLimits(client: S3Client, warn: (text: string) => void): Promise<TransferLimits> {
  try {
    const info = await client.admin('GET', '/info');
    const l = info['limits'] as Partial<TransferLimits> | undefined;
    const n = (v: unknown, fallback: number) => (typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : fallback);
    if (!l || (l.mode !== 's3' && l.mode !== 'lambda')) throw new S3Error('BadInfo', 'GET /_sealstore/info answered without limits', 200);
    return {
      mode: l.mode,
      maxObjectBytes: n(l.maxObjectBytes, FALLBACK_LIMITS.maxObjectBytes),
      maxPartBytes: n(l.maxPartBytes, FALLBACK_LIMITS.maxPartBytes),
      minPartBytes: n(l.minPartBytes, FALLBACK_LIMITS.minPartBytes),
      maxParts: n(l.maxParts, FALLBACK_LIMITS.maxParts),
      maxResponseBytes: typeof l.maxResponseBytes === 'number' ? l.maxResponseBytes : null,
      rangeChunkBytes: n(l.rangeChunkBytes, FALLBACK_LIMITS.rangeChunkBytes),
    };
  } catch (e) {
    // Credentials and reachability problems are the caller's to see; only a store without the route falls back.
    if (e instanceof S3Error && (e.code === 'InvalidRequest' || e.code === 'BadInfo' || e.status === 404)) {
      warn(`sealstore: the store does not state its limits (${e.code}); assuming the deployed stack's (parts of ${FALLBACK_LIMITS.maxPartBytes} bytes)\n`);
      return FALLBACK_LIMITS;
    }
    throw e;
  }
}

/** "8MiB", "5M", "4669440" → bytes. */
export function parseSize(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(b|k|kb|kib|m|mb|mib|g|gb|gib)?$/i.exec(text.trim());
  if (!m) throw new TransferUsageError(`not a size: ${text} (e.g. 8MiB, 4669440)`);
  const unit = (m[2] ?? 'b').toLowerCase();
  const mult = unit.startsWith('k') ? 1024 : unit.startsWith('m') ? MiB : unit.startsWith('g') ? 1024 * MiB : 1;
  return Math.floor(Number(m[1]) * mult);
}

/**
 * The part size for an object of `size` bytes: as asked (`override`) or the preferred size for the mode — the
 * largest part one request carries on the stack, 16 MiB on S3-limited stores — grown when 10,000 parts would not
 * hold the object, and always within the store's minimum and maximum part.
 */
export function choosePartSize(size: number, limits: TransferLimits, override?: number): number {
  if (override !== undefined && (override < limits.minPartBytes || override > limits.maxPartBytes)) {
    throw new TransferUsageError(`--part-size must be between ${limits.minPartBytes} and ${limits.maxPartBytes} bytes on this store (${limits.mode} limits)`);
  }
  const preferred = override ?? Math.max(limits.minPartBytes, Math.min(limits.maxPartBytes, 16 * MiB));
  const needed = Math.ceil(size / limits.maxParts);
  if (needed > limits.maxPartBytes) {
    throw new TransferUsageError(
      `${size} bytes do not fit in ${limits.maxParts} parts of at most ${limits.maxPartBytes} bytes, the largest object this store takes (${limits.maxParts * limits.maxPartBytes} bytes)`,
    );
  }
  if (needed <= preferred) return preferred;
  return Math.min(limits.maxPartBytes, Math.ceil(needed / MiB) * MiB);
}

/** A bounded number of requests in flight, shared by every file of a run. */
export class Limiter {
  private active = 0;
  private readonly waiting: Array<() => void> = [];
  constructor(private readonly slots: number) {}
  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active >= this.slots) await new Promise<void>((r) => this.waiting.push(r));
    this.active++;
    try {
      return await fn();
    } finally {
      this.active--;
      this.waiting.shift()?.();
    }
  }
}

/** Runs `work` over `items` with at most `n` at a time; the first failure stops new items and is thrown. */
async function pool<T>(items: readonly T[], n: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failed: unknown;
  let hasFailed = false;
  const worker = async () => {
    while (!hasFailed && next < items.length) {
      const item = items[next++] as T;
      try {
        await work(item);
      } catch (e) {
        if (!hasFailed || (failed instanceof AbortedError && !(e instanceof AbortedError))) failed = e;
        hasFailed = true;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(n, items.length)) }, worker));
  if (hasFailed) throw failed;
}

// ---------------------------------------------------------------------------------------------------------------
// Upload state: what a resumed run needs (upload id, part size, the source's size and mtime, parts done).

interface UploadState {
  readonly version: 1;
  readonly endpoint: string;
  readonly bucket: string;
  readonly key: string;
  readonly source: string;
  readonly size: number;
  readonly mtimeMs: number;
  readonly partSize: number;
  readonly uploadId: string;
  readonly createdAt: string;
  parts: Record<string, string>;
}

export function stateDir(env: NodeJS.ProcessEnv): string {
  return env['SEALSTORE_TRANSFER_DIR'] ?? join(homedir(), '.sealstore', 'transfers');
}

function statePathFor(dir: string, endpoint: string, bucket: string, key: string, source: string): string {
  const id = createHash('sha256').update(JSON.stringify([endpoint, bucket, key, source])).digest('hex').slice(0, 32);
  return join(dir, `upload-${id}.json`);
}

async function loadState(path: string): Promise<UploadState | undefined> {
  try {
    const s = JSON.parse(await readFile(path, 'utf8')) as UploadState;
    return s.version === 1 && typeof s.uploadId === 'string' ? s : undefined;
  } catch {
    return undefined;
  }
}

/** Writes the state atomically (temp file + rename), one write at a time, in the order asked. */
class StateFile {
  private chain: Promise<void> = Promise.resolve();
  constructor(readonly path: string) {}
  save(state: UploadState): Promise<void> {
    const text = JSON.stringify(state);
    this.chain = this.chain.then(async () => {
      await mkdir(dirname(this.path), { recursive: true, mode: 0o700 });
      const tmp = `${this.path}.tmp`;
      await writeFile(tmp, text, { mode: 0o600 });
      await rename(tmp, this.path);
    });
    return this.chain;
  }
  async remove(): Promise<void> {
    await this.chain.catch(() => undefined);
    await rm(this.path, { force: true });
  }
}

// ---------------------------------------------------------------------------------------------------------------

export interface RunContext {
  readonly client: S3Client;
  readonly limits: TransferLimits;
  readonly limiter: Limiter;
  readonly concurrency: number;
  readonly progress: Progress;
  readonly stateDir: string;
  readonly partSize?: number;
  /** Lines for the user (above the progress line on a terminal), or JSON events. */
  readonly event: (event: Record<string, unknown>, human: string) => void;
}

export interface FileResult {
  readonly op: 'upload' | 'download';
  readonly source: string;
  readonly target: string;
  readonly bytes: number;
  readonly seconds: number;
  readonly parts: number;
  readonly partsSent: number;
  readonly partsReused: number;
  readonly partSize?: number;
  readonly etag?: string;
  readonly resumed: boolean;
}

/** The bytes [start, start+length) of a file as a request body, hashed first (the signature covers the hash). */
async function fileRange(path: string, start: number, length: number): Promise<RequestBody> {
  const open = () => (length === 0 ? Readable.from([]) : createReadStream(path, { start, end: start + length - 1, highWaterMark: 256 * 1024 }));
  const hash = createHash('sha256');
  let seen = 0;
  if (length > 0) {
    for await (const c of open()) {
      hash.update(c as Buffer);
      seen += (c as Buffer).length;
    }
  }
  if (seen !== length) throw new Interrupted(`${path} changed while it was read (${seen} of ${length} bytes at ${start})`, undefined);
  return { length, sha256: hash.digest('hex'), open };
}

export async function uploadFile(ctx: RunContext, source: string, bucket: string, key: string): Promise<FileResult> {
  const started = Date.now();
  const abs = resolve(source);
  const st = await stat(abs);
  if (!st.isFile()) throw new TransferUsageError(`${source} is not a file${st.isDirectory() ? ' (use `sealstore sync` for a directory)' : ''}`);
  const size = st.size;
  const partSize = choosePartSize(size, ctx.limits, ctx.partSize);
  const target = ctx.client.describe(bucket, key);
  const base = { op: 'upload' as const, source, target, bytes: size };

  if (size <= Math.min(partSize, ctx.limits.maxObjectBytes)) {
    const body = await ctx.limiter.run(() => fileRange(abs, 0, size));
    const res = await ctx.limiter.run(() => ctx.client.call({ method: 'PUT', bucket, key, body, onSent: (n) => ctx.progress.move(n) }));
    await unchanged(abs, size, st.mtimeMs);
    const etag = header(res.headers, 'etag');
    return { ...base, seconds: (Date.now() - started) / 1000, parts: 1, partsSent: 1, partsReused: 0, ...(etag ? { etag } : {}), resumed: false };
  }

  const stateFile = new StateFile(statePathFor(ctx.stateDir, ctx.client.target.endpoint.href, bucket, key, abs));
  const partCount = Math.ceil(size / partSize);
  const partLength = (n: number) => Math.min(partSize, size - (n - 1) * partSize);
  let state = await loadState(stateFile.path);
  const done = new Map<number, string>();
  let resumed = false;
  if (state) {
    if (state.size !== size || state.mtimeMs !== st.mtimeMs || state.partSize < ctx.limits.minPartBytes || state.partSize > ctx.limits.maxPartBytes) {
      ctx.event(
        { event: 'restart', source, target, reason: 'the source or the store limits changed since the interrupted upload', uploadId: state.uploadId },
        `${source} changed since its interrupted upload: starting over`,
      );
      await abortQuietly(ctx, bucket, key, state.uploadId);
      await stateFile.remove();
      state = undefined;
    } else {
      try {
        const listed = await listParts(ctx, bucket, key, state.uploadId);
        const stateParts = state.parts;
        for (const [n, p] of listed) {
          // A part the store holds at the right size came from this file (same upload, same size and mtime); the state
          // may lack the last parts that finished as the previous run died.
          if (n <= Math.ceil(size / state.partSize) && p.size === Math.min(state.partSize, size - (n - 1) * state.partSize) && (stateParts[n] === undefined || stateParts[n] === p.etag)) {
            done.set(n, p.etag);
          }
        }
        resumed = true;
      } catch (e) {
        if (!(e instanceof S3Error) || e.code !== 'NoSuchUpload') throw e;
        ctx.event({ event: 'restart', source, target, reason: 'the interrupted upload is gone from the store', uploadId: state.uploadId }, `the interrupted upload of ${source} is gone from the store: starting over`);
        await stateFile.remove();
        state = undefined;
      }
    }
  }
  const effectivePartSize = state?.partSize ?? partSize;
  const count = state ? Math.ceil(size / effectivePartSize) : partCount;
  const lengthOf = state ? (n: number) => Math.min(effectivePartSize, size - (n - 1) * effectivePartSize) : partLength;
  if (!state) {
    const created = await ctx.client.call({ method: 'POST', bucket, key, query: { uploads: '' } });
    const uploadId = xmlValues(created.body.toString('utf8'), 'UploadId')[0];
    if (!uploadId) throw new S3Error('BadResponse', 'CreateMultipartUpload answered without an UploadId', created.status);
    state = { version: 1, endpoint: ctx.client.target.endpoint.href, bucket, key, source: abs, size, mtimeMs: st.mtimeMs, partSize, uploadId, createdAt: new Date().toISOString(), parts: {} };
  }
  const live = state;
  live.parts = Object.fromEntries([...done].map(([n, e]) => [String(n), e]));
  await stateFile.save(live);
  let reusedBytes = 0;
  for (const n of done.keys()) reusedBytes += lengthOf(n);
  ctx.progress.skip(reusedBytes);
  ctx.event(
    { event: 'start', op: 'upload', source, target, bytes: size, partSize: effectivePartSize, parts: count, partsReused: done.size, resumed, uploadId: live.uploadId, state: stateFile.path, mode: ctx.limits.mode },
    resumed ? `resuming ${source}: ${done.size} of ${count} parts already uploaded` : '',
  );

  const todo = Array.from({ length: count }, (_, i) => i + 1).filter((n) => !done.has(n));
  let sent = 0;
  try {
    await pool(todo, ctx.concurrency, async (n) => {
      const etag = await ctx.limiter.run(async () => {
        const body = await fileRange(abs, (n - 1) * effectivePartSize, lengthOf(n));
        const res = await ctx.client.call({ method: 'PUT', bucket, key, query: { partNumber: String(n), uploadId: live.uploadId }, body, onSent: (b) => ctx.progress.move(b) });
        return header(res.headers, 'etag');
      });
      if (!etag) throw new S3Error('BadResponse', `UploadPart ${n} answered without an ETag`, 200);
      done.set(n, etag);
      live.parts[String(n)] = etag;
      sent++;
      await stateFile.save(live);
    });
    await unchanged(abs, size, st.mtimeMs);
  } catch (e) {
    if (e instanceof SourceChanged) {
      await abortQuietly(ctx, bucket, key, live.uploadId);
      await stateFile.remove();
      throw e;
    }
    await stateFile.save(live).catch(() => undefined);
    const what = `${done.size} of ${count} parts of ${source} are uploaded`;
    throw new Interrupted(e instanceof AbortedError ? what : `${what}; stopped by: ${e instanceof Error ? e.message : String(e)}`, stateFile.path, e);
  }
  const xml = `<CompleteMultipartUpload>${[...done]
    .sort((a, b) => a[0] - b[0])
    .map(([n, e]) => `<Part><PartNumber>${n}</PartNumber><ETag>${escapeXml(e)}</ETag></Part>`)
    .join('')}</CompleteMultipartUpload>`;
  const completed = await ctx.client.call({ method: 'POST', bucket, key, query: { uploadId: live.uploadId }, body: Buffer.from(xml, 'utf8') });
  const answer = completed.body.toString('utf8');
  if (answer.includes('<Error>')) {
    throw new S3Error(xmlValues(answer, 'Code')[0] ?? 'CompleteFailed', xmlValues(answer, 'Message')[0] ?? 'CompleteMultipartUpload failed', completed.status);
  }
  await stateFile.remove();
  const etag = xmlValues(answer, 'ETag')[0];
  return { ...base, seconds: (Date.now() - started) / 1000, parts: count, partsSent: sent, partsReused: count - sent, partSize: effectivePartSize, ...(etag ? { etag } : {}), resumed };
}

class SourceChanged extends Error {}

async function unchanged(path: string, size: number, mtimeMs: number): Promise<void> {
  const now = await stat(path);
  if (now.size !== size || now.mtimeMs !== mtimeMs) throw new SourceChanged(`${path} changed while it was uploaded; the upload was abandoned, nothing was written`);
}

async function abortQuietly(ctx: RunContext, bucket: string, key: string, uploadId: string): Promise<void> {
  await ctx.client.call({ method: 'DELETE', bucket, key, query: { uploadId } }).catch(() => undefined);
}

async function listParts(ctx: RunContext, bucket: string, key: string, uploadId: string): Promise<Map<number, { size: number; etag: string }>> {
  const parts = new Map<number, { size: number; etag: string }>();
  let marker: string | undefined;
  for (;;) {
    const res = await ctx.client.call({ method: 'GET', bucket, key, query: { uploadId, 'max-parts': '1000', ...(marker ? { 'part-number-marker': marker } : {}) } });
    const xml = res.body.toString('utf8');
    for (const block of xmlBlocks(xml, 'Part')) {
      const n = Number(xmlValues(block, 'PartNumber')[0]);
      parts.set(n, { size: Number(xmlValues(block, 'Size')[0]), etag: xmlValues(block, 'ETag')[0] ?? '' });
    }
    if (xmlValues(xml, 'IsTruncated')[0] !== 'true') return parts;
    const next = xmlValues(xml, 'NextPartNumberMarker')[0];
    if (!next || next === marker) return parts;
    marker = next;
  }
}

const escapeXml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function header(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

// ---------------------------------------------------------------------------------------------------------------

export interface RemoteObject {
  readonly size: number;
  readonly etag?: string;
  readonly lastModified?: Date;
}

export async function headObject(client: S3Client, bucket: string, key: string): Promise<RemoteObject> {
  const res = await client.call({ method: 'HEAD', bucket, key });
  const etag = header(res.headers, 'etag');
  const lm = header(res.headers, 'last-modified');
  return { size: Number(header(res.headers, 'content-length') ?? 0), ...(etag ? { etag } : {}), ...(lm ? { lastModified: new Date(lm) } : {}) };
}

/**
 * Downloads into `dest` through `dest.sealstore-download`: ranged GETs of the store's chunk size, in parallel, each
 * conditional on the ETag the HEAD saw (an object replaced mid-download fails with 412 instead of mixing versions).
 */
export async function downloadFile(ctx: RunContext, bucket: string, key: string, dest: string, known?: RemoteObject): Promise<FileResult> {
  const started = Date.now();
  const source = ctx.client.describe(bucket, key);
  const head = known ?? (await ctx.limiter.run(() => headObject(ctx.client, bucket, key)));
  const size = head.size;
  const chunk = ctx.limits.rangeChunkBytes;
  const count = Math.max(1, Math.ceil(size / chunk));
  const tmp = `${dest}.sealstore-download`;
  await mkdir(dirname(resolve(dest)), { recursive: true });
  ctx.event({ event: 'start', op: 'download', source, target: dest, bytes: size, chunkSize: chunk, parts: count, mode: ctx.limits.mode }, '');
  const fh = await open(tmp, 'w', 0o600);
  try {
    await pool(
      Array.from({ length: count }, (_, i) => i),
      ctx.concurrency,
      async (i) => {
        const start = i * chunk;
        const end = Math.min(size, start + chunk) - 1;
        const ranged = size > 0;
        await ctx.limiter.run(() =>
          ctx.client.stream(
            {
              method: 'GET',
              bucket,
              key,
              headers: { ...(ranged ? { range: `bytes=${start}-${end}` } : {}), ...(head.etag ? { 'if-match': head.etag } : {}) },
            },
            async (res) => {
              let pos = start;
              try {
                if (ranged && res.statusCode === 206) {
                  const cr = header(res.headers, 'content-range') ?? '';
                  if (cr !== `bytes ${start}-${end}/${size}`) throw new S3Error('BadResponse', `asked for bytes ${start}-${end}/${size}, got ${cr || 'no Content-Range'}`, 206);
                } else if (ranged && !(res.statusCode === 200 && count === 1)) {
                  throw new S3Error('BadResponse', `a ranged GET answered ${res.statusCode ?? 0}`, res.statusCode ?? 0);
                }
                for await (const c of res) {
                  const b = c as Buffer;
                  if (pos + b.length > end + 1) throw new S3Error('BadResponse', `more bytes than asked for at ${start}`, 206);
                  await fh.write(b, 0, b.length, pos);
                  pos += b.length;
                  ctx.progress.move(b.length);
                }
                if (size > 0 && pos !== end + 1) throw new S3Error('NetworkError', `the answer for bytes ${start}-${end} ended after ${pos - start} bytes`, 0);
              } catch (e) {
                ctx.progress.move(start - pos);
                throw e;
              }
            },
          ),
        );
      },
    );
    await fh.sync();
  } catch (e) {
    await fh.close().catch(() => undefined);
    await rm(tmp, { force: true });
    if (e instanceof S3Error && e.status === 412) throw new S3Error('PreconditionFailed', `${source} was replaced while it was downloaded; run the command again`, 412);
    throw e;
  }
  await fh.close();
  const got = (await stat(tmp)).size;
  if (got !== size) {
    await rm(tmp, { force: true });
    throw new S3Error('BadResponse', `downloaded ${got} bytes of ${source}, which has ${size}`, 0);
  }
  await rename(tmp, dest);
  // The object's time on the file, so `sync` from the store sees it as up to date.
  if (head.lastModified) await utimes(dest, head.lastModified, head.lastModified);
  return { op: 'download', source, target: dest, bytes: size, seconds: (Date.now() - started) / 1000, parts: count, partsSent: count, partsReused: 0, ...(head.etag ? { etag: head.etag } : {}), resumed: false };
}

// ---------------------------------------------------------------------------------------------------------------
// sync

export async function listObjects(ctx: RunContext, bucket: string, prefix: string): Promise<Map<string, RemoteObject>> {
  const out = new Map<string, RemoteObject>();
  let token: string | undefined;
  for (;;) {
    const res = await ctx.client.call({ method: 'GET', bucket, query: { 'list-type': '2', prefix, 'max-keys': '1000', ...(token ? { 'continuation-token': token } : {}) } });
    const xml = res.body.toString('utf8');
    for (const block of xmlBlocks(xml, 'Contents')) {
      const key = xmlValues(block, 'Key')[0];
      if (key === undefined) continue;
      const etag = xmlValues(block, 'ETag')[0];
      const lm = xmlValues(block, 'LastModified')[0];
      out.set(key, { size: Number(xmlValues(block, 'Size')[0] ?? 0), ...(etag ? { etag } : {}), ...(lm ? { lastModified: new Date(lm) } : {}) });
    }
    if (xmlValues(xml, 'IsTruncated')[0] !== 'true') return out;
    token = xmlValues(xml, 'NextContinuationToken')[0];
    if (!token) return out;
  }
}

/** Every regular file under `dir` (symbolic links followed to files), as paths relative to it with '/' separators. */
export async function walkFiles(dir: string): Promise<Map<string, { size: number; mtimeMs: number }>> {
  const out = new Map<string, { size: number; mtimeMs: number }>();
  const root = resolve(dir);
  const visit = async (d: string): Promise<void> => {
    for (const entry of await readdir(d, { withFileTypes: true })) {
      const p = join(d, entry.name);
      if (entry.name.endsWith('.sealstore-download')) continue;
      if (entry.isDirectory()) await visit(p);
      else if (entry.isFile() || entry.isSymbolicLink()) {
        const st = await stat(p).catch(() => undefined);
        if (st?.isFile()) out.set(relative(root, p).split(sep).join('/'), { size: st.size, mtimeMs: st.mtimeMs });
      }
    }
  };
  await visit(root);
  return out;
}

export interface SyncItem {
  readonly rel: string;
  readonly key: string;
  readonly local: string;
  readonly bytes: number;
  readonly reason: 'missing' | 'size' | 'newer';
  readonly remote?: RemoteObject;
}

/** What `sync` moves: files missing on the other side, of another size, or newer than the other side's copy. */
export function planSync(
  direction: 'up' | 'down',
  localDir: string,
  prefix: string,
  local: Map<string, { size: number; mtimeMs: number }>,
  remote: Map<string, RemoteObject>,
): SyncItem[] {
  const items: SyncItem[] = [];
  if (direction === 'up') {
    for (const [rel, f] of [...local].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
      const key = `${prefix}${rel}`;
      const r = remote.get(key);
      // Whole seconds: LastModified has no finer resolution.
      const reason = !r ? 'missing' : r.size !== f.size ? 'size' : r.lastModified && Math.floor(f.mtimeMs / 1000) > Math.floor(r.lastModified.getTime() / 1000) ? 'newer' : undefined;
      if (reason) items.push({ rel, key, local: join(localDir, ...rel.split('/')), bytes: f.size, reason });
    }
  } else {
    for (const [key, r] of [...remote].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
      const rel = key.slice(prefix.length);
      if (rel === '' || rel.endsWith('/') || rel.split('/').some((s) => s === '..' || s === '.' || s === '')) continue;
      const f = local.get(rel);
      const reason = !f ? 'missing' : f.size !== r.size ? 'size' : r.lastModified && Math.floor(r.lastModified.getTime() / 1000) > Math.floor(f.mtimeMs / 1000) ? 'newer' : undefined;
      if (reason) items.push({ rel, key, local: join(localDir, ...rel.split('/')), bytes: r.size, reason, remote: r });
    }
  }
  return items;
}

// ---------------------------------------------------------------------------------------------------------------
// The commands

export interface TransferIo {
  out(text: string): void;
  err(text: string): void;
  readonly tty: boolean;
  readonly columns?: number;
}

export interface TransferOptions {
  readonly json: boolean;
  readonly concurrency: number;
  readonly partSize?: number;
  readonly dryRun: boolean;
  readonly stateDir: string;
}

export interface S3Url {
  readonly bucket: string;
  readonly key: string;
}

export function parseS3Url(text: string): S3Url | undefined {
  const m = /^s3:\/\/([^/]+)\/?(.*)$/.exec(text);
  return m ? { bucket: m[1] ?? '', key: m[2] ?? '' } : undefined;
}

/** Human summary of one file, e.g. "upload: ./a → s3://b/a  1.0 GiB in 12.3s (83.2 MiB/s), 230 parts (12 resumed)". */
function summary(r: FileResult): string {
  const rate = r.seconds > 0 ? ` (${formatBytes(r.bytes / r.seconds)}/s)` : '';
  const parts = r.parts > 1 ? `, ${r.parts} ${r.op === 'upload' ? 'parts' : 'ranges'}${r.partsReused > 0 ? ` (${r.partsReused} already uploaded)` : ''}` : '';
  return `${r.op}: ${r.source} → ${r.target}  ${formatBytes(r.bytes)} in ${formatSeconds(r.seconds)}${rate}${parts}`;
}

function sinkOf(io: TransferIo, options: TransferOptions): ProgressSink {
  return { out: (t) => io.out(t), tty: io.tty, json: options.json || !io.tty, ...(io.columns ? { columns: io.columns } : {}) };
}

/** The run's event printer: JSON lines when not on a terminal (or --json), else lines above the progress bar. */
function eventsFor(io: TransferIo, sink: ProgressSink) {
  // On a terminal the line goes over the progress bar, which redraws itself below it on its next update.
  return (event: Record<string, unknown>, human: string) => {
    if (sink.json) io.out(`${JSON.stringify(event)}\n`);
    else if (human) io.out(`${sink.tty ? '\r\x1b[K' : ''}${human}\n`);
  };
}

export async function runCp(client: S3Client, io: TransferIo, options: TransferOptions, from: string, to: string): Promise<number> {
  const src = parseS3Url(from);
  const dst = parseS3Url(to);
  if (src && dst) throw new TransferUsageError('cp copies between a local file and the store; for a copy inside the store use CopyObject (aws s3 cp s3://… s3://…)');
  if (!src && !dst) throw new TransferUsageError('cp needs one side to be s3://bucket/key');
  const sink = sinkOf(io, options);
  const limits = await fetchLimits(client, (t) => io.err(t));
  const event = eventsFor(io, sink);
  if (dst) {
    if (!dst.bucket) throw new TransferUsageError('the target needs a bucket: s3://bucket/key');
    const key = dst.key === '' || dst.key.endsWith('/') ? `${dst.key}${basename(from)}` : dst.key;
    const st = await stat(from).catch(() => undefined);
    if (!st) throw new TransferUsageError(`${from}: no such file`);
    if (st.isDirectory()) throw new TransferUsageError(`${from} is a directory: use \`sealstore sync ${from} ${to}\``);
    const progress = new Progress(sink, st.size, 'upload');
    progress.setLabel(basename(from));
    const ctx: RunContext = { client, limits, limiter: new Limiter(options.concurrency), concurrency: options.concurrency, progress, stateDir: options.stateDir, ...(options.partSize ? { partSize: options.partSize } : {}), event };
    const r = await uploadFile(ctx, from, dst.bucket, key);
    progress.finish();
    finished(io, sink, r, progress);
    return 0;
  }
  const s = src as S3Url;
  if (!s.bucket || !s.key || s.key.endsWith('/')) throw new TransferUsageError('the source needs a key: s3://bucket/key (for a prefix, use `sealstore sync`)');
  const isDir = to.endsWith('/') || to.endsWith(sep) || (await stat(to).catch(() => undefined))?.isDirectory() === true;
  const dest = isDir ? join(to, basename(s.key)) : to;
  const ctx0 = { client, limits, limiter: new Limiter(options.concurrency), concurrency: options.concurrency, stateDir: options.stateDir, event };
  const head = await headObject(client, s.bucket, s.key);
  const progress = new Progress(sink, head.size, 'download');
  progress.setLabel(basename(dest));
  const r = await downloadFile({ ...ctx0, progress }, s.bucket, s.key, dest, head);
  progress.finish();
  finished(io, sink, r, progress);
  return 0;
}

function finished(io: TransferIo, sink: ProgressSink, r: FileResult, progress: Progress): void {
  if (sink.json) {
    const { bytesPerSecond } = progress.snapshot();
    io.out(`${JSON.stringify({ event: 'done', ...r, bytesPerSecond: r.seconds > 0 ? Math.round(r.bytes / r.seconds) : bytesPerSecond })}\n`);
  } else io.out(`${summary(r)}\n`);
}

export async function runSync(client: S3Client, io: TransferIo, options: TransferOptions, from: string, to: string): Promise<number> {
  const src = parseS3Url(from);
  const dst = parseS3Url(to);
  if ((src && dst) || (!src && !dst)) throw new TransferUsageError('sync needs a local directory and an s3://bucket/prefix, in either order');
  const remoteUrl = (src ?? dst) as S3Url;
  if (!remoteUrl.bucket) throw new TransferUsageError('sync needs a bucket: s3://bucket/prefix');
  const prefix = remoteUrl.key === '' || remoteUrl.key.endsWith('/') ? remoteUrl.key : `${remoteUrl.key}/`;
  const localDir = src ? to : from;
  const direction = dst ? 'up' : 'down';
  const sink = sinkOf(io, options);
  if (direction === 'up' && !(await stat(localDir).catch(() => undefined))?.isDirectory()) throw new TransferUsageError(`${localDir} is not a directory`);
  const limits = await fetchLimits(client, (t) => io.err(t));
  const progress = new Progress(sink, 0, direction === 'up' ? 'upload' : 'download');
  const event = eventsFor(io, sink);
  const ctx: RunContext = { client, limits, limiter: new Limiter(options.concurrency), concurrency: options.concurrency, progress, stateDir: options.stateDir, ...(options.partSize ? { partSize: options.partSize } : {}), event };
  const [local, remote] = await Promise.all([
    direction === 'up' ? walkFiles(localDir) : walkFiles(localDir).catch(() => new Map<string, { size: number; mtimeMs: number }>()),
    listObjects(ctx, remoteUrl.bucket, prefix),
  ]);
  const items = planSync(direction, localDir, prefix, local, remote);
  const totalBytes = items.reduce((n, i) => n + i.bytes, 0);
  const url = (key: string) => client.describe(remoteUrl.bucket, key);
  for (const i of options.dryRun ? items : []) {
    const [a, b] = direction === 'up' ? [i.local, url(i.key)] : [url(i.key), i.local];
    event({ event: 'plan', op: direction === 'up' ? 'upload' : 'download', source: a, target: b, bytes: i.bytes, reason: i.reason }, `(dry run) ${direction === 'up' ? 'upload' : 'download'}: ${a} → ${b}  ${formatBytes(i.bytes)} (${i.reason})`);
  }
  const unchangedCount = (direction === 'up' ? local.size : remote.size) - items.length;
  if (options.dryRun) {
    event({ event: 'summary', dryRun: true, files: items.length, bytes: totalBytes, unchanged: unchangedCount }, `(dry run) ${items.length} file(s), ${formatBytes(totalBytes)} to ${direction === 'up' ? 'upload' : 'download'}; ${unchangedCount} up to date`);
    return 0;
  }
  progress.grow(totalBytes);
  const started = Date.now();
  let moved = 0;
  let filesDone = 0;
  const results: FileResult[] = [];
  // Files in parallel; every request of every file shares the one limit of requests in flight.
  await pool(items, options.concurrency, async (i) => {
    progress.setLabel(`${filesDone + 1}/${items.length} ${i.rel}`);
    const r = direction === 'up' ? await uploadFile(ctx, i.local, remoteUrl.bucket, i.key) : await downloadFile(ctx, remoteUrl.bucket, i.key, i.local, i.remote);
    filesDone++;
    moved += r.bytes;
    results.push(r);
    if (sink.json) io.out(`${JSON.stringify({ event: 'done', ...r, reason: i.reason })}\n`);
    else event({}, summary(r));
  });
  progress.finish();
  const seconds = (Date.now() - started) / 1000;
  event(
    { event: 'summary', files: filesDone, bytes: moved, unchanged: unchangedCount, seconds, bytesPerSecond: seconds > 0 ? Math.round(moved / seconds) : 0 },
    `${filesDone} file(s) ${direction === 'up' ? 'uploaded' : 'downloaded'}, ${formatBytes(moved)} in ${formatSeconds(seconds)}; ${unchangedCount} up to date`,
  );
  return 0;
}
