// The soak workload: many clients doing a random mix of PUT, GET, range GET, LIST and DELETE for a fixed time
// while ports fail now and then; every read is checked against what was written, memory is sampled.
import { GetObjectCommand, ListObjectsV2Command, S3ServiceException, type S3Client } from '@aws-sdk/client-s3';
import { randomBytes } from 'node:crypto';
import { triggers } from '../support/faults';
import { del, put, retrying, sha, type Harness } from './harness';

export interface SoakOptions {
  readonly seconds: number;
  readonly clients: number;
  readonly keys: number;
  /** Chance that any one port call fails (throttle, torn blob write, refused commit), rotating by kind. */
  readonly faultRate: number;
  /** Each client keeps going past the deadline until it has done this many operations: a floor on the work, so the
   * counts asserted on do not depend on how fast the machine is. */
  readonly minOpsPerClient: number;
}

export interface SoakReport {
  readonly seconds: number;
  readonly clients: number;
  readonly ops: Record<'put' | 'get' | 'range' | 'list' | 'delete', number>;
  readonly retries: number;
  readonly faults: number;
  readonly violations: string[];
  readonly rssMiB: { readonly start: number; readonly peak: number; readonly end: number };
  readonly heapMiB: { readonly start: number; readonly end: number };
  /** Per key, every body digest ever sent to it (null: a delete), for the final check. */
  readonly versions: Map<string, Set<string | null>>;
}

const MiB = 1024 * 1024;
const rss = () => process.memoryUsage().rss / MiB;
const heap = () => process.memoryUsage().heapUsed / MiB;

/** Sizes skewed small, as object stores see them, with the odd multi-MiB object. */
function pickSize(r: number): number {
  if (r < 0.6) return Math.floor(r * 8000);
  if (r < 0.95) return 8000 + Math.floor(r * 200_000);
  return 1 * MiB + Math.floor((r - 0.95) * 60 * MiB);
}

export async function runSoak(h: Harness, bucket: string, options: SoakOptions): Promise<SoakReport> {
  const ops = { put: 0, get: 0, range: 0, list: 0, delete: 0 };
  const versions = new Map<string, Set<string | null>>();
  const violations: string[] = [];
  let retries = 0;
  const startRss = rss();
  const startHeap = heap();
  let peakRss = startRss;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, rss())), 100);
  const deadline = Date.now() + options.seconds * 1000;

  // Faults rotate by kind each second; each is rare enough that a retrying client always gets through.
  const kinds = ['vault', 'blob', 'commit'] as const;
  let tick = 0;
  const rotate = () => {
    const when = triggers.chance(options.faultRate, 7 + tick);
    const kind = kinds[tick++ % kinds.length];
    if (kind === 'vault') h.faults.set({ vault: { kind: 'throttled', when } });
    else if (kind === 'blob') h.faults.set({ blobWrite: { afterBytes: 1500, when } });
    else h.faults.set({ indexCommit: { lost: 'before', when } });
  };
  rotate();
  const rotator = setInterval(rotate, 1000);

  const allowed = (key: string) => {
    let set = versions.get(key);
    if (!set) versions.set(key, (set = new Set<string | null>([null])));
    return set;
  };

  const client = async (s3: S3Client, seed: number) => {
    let x = seed;
    const rand = () => ((x = (x * 1103515245 + 12345) >>> 0) / 0x1_0000_0000);
    for (let done = 0; Date.now() < deadline || done < options.minOpsPerClient; done++) {
      const key = `k${Math.floor(rand() * options.keys)}`;
      const r = rand();
      try {
        if (r < 0.35) {
          const body = randomBytes(pickSize(rand()));
          allowed(key).add(sha(body));
          const n = (await retrying(() => put(s3, bucket, key, body))).retries;
          retries += n;
          ops.put++;
        } else if (r < 0.7) {
          const { value, retries: n } = await retrying(() => readOrAbsent(s3, bucket, key));
          retries += n;
          if (!allowed(key).has(value)) violations.push(`GET ${key} returned ${value ?? 'absent'}, never written`);
          ops.get++;
        } else if (r < 0.8) {
          const { value, retries: n } = await retrying(() => rangeOrAbsent(s3, bucket, key, 1000));
          retries += n;
          ops.range++;
          if (value !== undefined && value > 1000) violations.push(`range GET of ${key} returned ${value} bytes for 1000 asked`);
        } else if (r < 0.9) {
          const { value: page, retries: n } = await retrying(() => s3.send(new ListObjectsV2Command({ Bucket: bucket, MaxKeys: 50 })));
          retries += n;
          for (const c of page.Contents ?? []) if (!versions.has(c.Key ?? '')) violations.push(`LIST shows ${c.Key}, never written`);
          ops.list++;
        } else {
          allowed(key).add(null);
          const n = (await retrying(() => del(s3, bucket, key))).retries;
          retries += n;
          ops.delete++;
        }
      } catch (e) {
        violations.push(`${e instanceof S3ServiceException ? `${e.$metadata.httpStatusCode} ${e.name}` : String(e)} on ${key}`);
      }
    }
  };

  try {
    await Promise.all(Array.from({ length: options.clients }, (_, i) => client(h.client(), 12345 + i * 7919)));
  } finally {
    clearInterval(rotator);
    clearInterval(sampler);
    h.faults.clear();
  }
  return {
    seconds: options.seconds,
    clients: options.clients,
    ops,
    retries,
    faults: h.faults.counts.vault + h.faults.counts.blobWrite + h.faults.counts.indexCommit,
    violations,
    rssMiB: { start: startRss, peak: Math.max(peakRss, rss()), end: rss() },
    heapMiB: { start: startHeap, end: heap() },
    versions,
  };
}

async function readOrAbsent(s3: S3Client, bucket: string, key: string): Promise<string | null> {
  try {
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return sha(await got.Body!.transformToByteArray());
  } catch (e) {
    if (e instanceof S3ServiceException && e.name === 'NoSuchKey') return null;
    throw e;
  }
}

/** Bytes a 1 KiB-ish range GET returned; undefined when the key is absent or empty (416). */
async function rangeOrAbsent(s3: S3Client, bucket: string, key: string, length: number): Promise<number | undefined> {
  try {
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, Range: `bytes=0-${length - 1}` }));
    return (await got.Body!.transformToByteArray()).length;
  } catch (e) {
    if (e instanceof S3ServiceException && (e.name === 'NoSuchKey' || e.name === 'InvalidRange')) return undefined;
    throw e;
  }
}

export function summaryLine(r: SoakReport, live: number, swept: number): string {
  const total = Object.values(r.ops).reduce((a, b) => a + b, 0);
  const f = (n: number) => n.toFixed(0);
  return (
    `soak: ${r.clients} clients, ${r.seconds} s, ${total} ops (put ${r.ops.put}, get ${r.ops.get}, range ${r.ops.range}, ` +
    `list ${r.ops.list}, delete ${r.ops.delete}), ${r.faults} injected faults, ${r.retries} client retries, ` +
    `${r.violations.length} invariant violations, ${live} live objects, ${swept} blobs swept, ` +
    `rss ${f(r.rssMiB.start)}→${f(r.rssMiB.end)} MiB (peak ${f(r.rssMiB.peak)}), heap ${f(r.heapMiB.start)}→${f(r.heapMiB.end)} MiB`
  );
}
