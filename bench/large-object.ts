// The 1 GiB object: peak RSS of a sealstore server process streaming it in and out, a 1 KiB range GET out of
// it (latency and ciphertext bytes read), and key-vault calls per PUT and per GET.
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3ServiceException, type S3Client } from '@aws-sdk/client-s3';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { openEmbeddedBackend } from '../lambdas/adapters/embedded';
import { startServer } from '../local/server';
import { startChildServer } from './child-server';
import { benchClient } from './client';
import { PortCounter } from '../test/support/port-wrappers';
import { round, summarize, type Summary } from './stats';
import { KiB, MiB, multipartUpload } from './targets';

const BUCKET = 'large';
const KEY = 'one-gib';

export interface RssPhase {
  readonly baselineMiB: number;
  readonly peakMiB: number;
  readonly growthMiB: number;
  readonly seconds: number;
}

export interface LargeObjectReport {
  readonly objectBytes: number;
  /** How the object got into the store. */
  readonly seededBy: string;
  readonly rss: { readonly in: RssPhase; readonly multipartIn: RssPhase; readonly out: RssPhase; readonly vmHwmMiB: number };
  readonly rangeGet1KiB: { readonly latencyMs: Summary; readonly ciphertextBytesReadPerGet: number; readonly blobReadsPerGet: number; readonly requests: number };
  readonly vaultCalls: { readonly perPut: number; readonly perGet: number; readonly perRangeGet: number; readonly otherPerRequest: number };
}

function procStatus(pid: number): { rss: number; hwm: number } {
  const text = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(text)?.[1] ?? Number.NaN);
  return { rss: kb('VmRSS') / 1024, hwm: kb('VmHWM') / 1024 };
}

/** Samples the child's resident set every 20 ms while `work` runs. */
async function sampleRss(pid: number, work: () => Promise<void>): Promise<RssPhase> {
  const baseline = procStatus(pid).rss;
  let peak = baseline;
  const timer = setInterval(() => (peak = Math.max(peak, procStatus(pid).rss)), 20);
  const start = process.hrtime.bigint();
  try {
    await work();
  } finally {
    clearInterval(timer);
  }
  peak = Math.max(peak, procStatus(pid).rss);
  return { baselineMiB: round(baseline, 1), peakMiB: round(peak, 1), growthMiB: round(peak - baseline, 1), seconds: round(Number(process.hrtime.bigint() - start) / 1e9, 2) };
}

async function drain(body: Readable): Promise<number> {
  let n = 0;
  for await (const c of body) n += (c as Buffer).length;
  return n;
}

async function ensureBucket(s3: S3Client): Promise<void> {
  try {
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  } catch (e) {
    if (!(e instanceof S3ServiceException) || !/BucketAlready/.test(e.name)) throw e;
  }
}

export async function measureLargeObject(dataDir: string, body: Buffer, log: (line: string) => void): Promise<LargeObjectReport> {
  const child = await startChildServer('sealstore', dataDir);
  const s3 = benchClient(child.endpoint);
  await ensureBucket(s3);
  let vmHwm = 0;
  // One PUT of the whole GiB: the embedded server streams it (S3's 5 GiB limit), so memory must stay flat.
  const rssIn = await sampleRss(child.pid, async () => {
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: KEY, Body: body, ContentLength: body.length }));
  });
  const rssMultipartIn = await sampleRss(child.pid, async () => {
    await multipartUpload(s3, BUCKET, `${KEY}-multipart`, body, 4);
  });
  log(`  1 GiB in: single PUT peak ${rssIn.peakMiB} MiB (+${rssIn.growthMiB}), multipart (8 MiB parts, 4 in flight) peak ${rssMultipartIn.peakMiB} MiB (+${rssMultipartIn.growthMiB})`);
  const rssOut = await sampleRss(child.pid, async () => {
    const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: KEY }));
    const n = await drain(got.Body as Readable);
    if (n !== body.length) throw new Error(`1 GiB GET returned ${n} bytes`);
  });
  vmHwm = procStatus(child.pid).hwm;
  s3.destroy();
  await child.stop();
  const seededBy = 'one PutObject of 1 GiB over HTTP (streamed), then a multipart upload of the same bytes';

  // In-process, with counting ports: range reads and key-vault calls.
  const counter = new PortCounter();
  const counts = () => ({
    generateDataKey: counter.count('vault', 'generateDataKey'),
    decrypt: counter.count('vault', 'decrypt'),
    otherVaultCalls: counter.others('vault', 'generateDataKey', 'decrypt'),
    blobGets: counter.count('blobs', 'get'),
    blobBytesRead: counter.blobBytesRead,
  });
  const backend = counter.wrap(await openEmbeddedBackend(dataDir));
  const server = await startServer({ backend, credentials: { accessKeyId: 'BENCHCOUNT', secretAccessKey: 'bench-count-secret' } });
  const local = benchClient({ url: server.url, accessKeyId: 'BENCHCOUNT', secretAccessKey: 'bench-count-secret' });
  try {
    const requests = 40;
    const latencies: number[] = [];
    const before = counts();
    for (let i = 0; i < requests; i++) {
      const start = Math.floor(Math.random() * (body.length - KiB));
      const t = process.hrtime.bigint();
      const got = await local.send(new GetObjectCommand({ Bucket: BUCKET, Key: KEY, Range: `bytes=${start}-${start + KiB - 1}` }));
      const bytes = Buffer.from(await got.Body!.transformToByteArray());
      latencies.push(Number(process.hrtime.bigint() - t) / 1e6);
      if (!bytes.equals(body.subarray(start, start + KiB))) throw new Error(`range GET at ${start} returned wrong bytes`);
    }
    const rangeGet1KiB = {
      latencyMs: summarize(latencies.map((x) => round(x, 2))),
      ciphertextBytesReadPerGet: (counts().blobBytesRead - before.blobBytesRead) / requests,
      blobReadsPerGet: (counts().blobGets - before.blobGets) / requests,
      requests,
    };
    const perRangeGet = (counts().decrypt - before.decrypt) / requests;

    const small = randomBytes(MiB);
    const n = 20;
    const c0 = counts();
    for (let i = 0; i < n; i++) await local.send(new PutObjectCommand({ Bucket: BUCKET, Key: `kms-${i}`, Body: small }));
    const c1 = counts();
    for (let i = 0; i < n; i++) await drain((await local.send(new GetObjectCommand({ Bucket: BUCKET, Key: `kms-${i}` }))).Body as Readable);
    const c2 = counts();
    return {
      objectBytes: body.length,
      seededBy,
      rss: { in: rssIn, multipartIn: rssMultipartIn, out: rssOut, vmHwmMiB: round(vmHwm, 1) },
      rangeGet1KiB,
      vaultCalls: {
        perPut: (c1.generateDataKey - c0.generateDataKey + c1.decrypt - c0.decrypt) / n,
        perGet: (c2.decrypt - c1.decrypt + c2.generateDataKey - c1.generateDataKey) / n,
        perRangeGet,
        otherPerRequest: (c2.otherVaultCalls - c0.otherVaultCalls) / (2 * n),
      },
    };
  } finally {
    local.destroy();
    await server.close();
  }
}
