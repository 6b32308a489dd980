// The crypto share: sealing and opening through lambdas/core/format against one raw AES-256-GCM pass over
// the same bytes, so the cost of framing, key derivation and commitment is visible on its own.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { Transform } from 'node:stream';
import { createOpener, createSealer, HEADER_SIZE, sealBuffer } from '../lambdas/core/format';
import { ratio, round, summarizeThroughput, type Summary } from './stats';
import { MiB } from './targets';

const CHUNK = 64 * 1024; // how bytes arrive from a socket or a file
const id = { bucket: 'bench', objectId: 'bench-object', partNumber: 1 };

export interface CryptoRow {
  readonly size: string;
  readonly bytes: number;
  readonly sealMiBs: Summary;
  readonly rawEncryptMiBs: Summary;
  readonly openMiBs: Summary;
  readonly rawDecryptMiBs: Summary;
  /** seal throughput / raw AES-GCM throughput (1 = framing is free). */
  readonly sealVsRaw: number;
  readonly openVsRaw: number;
}

function chunks(bytes: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let o = 0; o < bytes.length; o += CHUNK) out.push(bytes.subarray(o, o + CHUNK));
  return out;
}

async function drive(stream: Transform, input: readonly Buffer[]): Promise<void> {
  stream.on('data', () => undefined);
  const done = new Promise<void>((resolve, reject) => stream.on('end', resolve).on('error', reject));
  for (const c of input) if (!stream.write(c)) await new Promise((r) => stream.once('drain', r));
  stream.end();
  await done;
}

async function mibPerSec(bytes: number, fn: () => unknown): Promise<number> {
  const minSeconds = 0.25;
  let n = 0;
  const start = process.hrtime.bigint();
  let elapsed = 0;
  while (elapsed < minSeconds || n < 2) {
    await fn();
    n++;
    elapsed = Number(process.hrtime.bigint() - start) / 1e9;
  }
  return (bytes * n) / MiB / elapsed;
}

export async function measureCrypto(label: string, size: number, runs: number): Promise<CryptoRow> {
  const key = randomBytes(32);
  const plaintext = randomBytes(size);
  const input = chunks(plaintext);
  const { sealed } = sealBuffer(key, id, plaintext);
  const header = sealed.subarray(0, HEADER_SIZE);
  const frames = chunks(sealed.subarray(HEADER_SIZE));
  const iv = randomBytes(12);
  const enc = createCipheriv('aes-256-gcm', key, iv);
  const rawCiphertext = chunks(Buffer.concat([...input.map((c) => enc.update(c)), enc.final()]));
  const tag = enc.getAuthTag();

  const fns = [
    () => drive(createSealer(key, id), input),
    () => {
      const c = createCipheriv('aes-256-gcm', key, randomBytes(12));
      for (const x of input) c.update(x);
      c.final();
    },
    () => drive(createOpener(key, id, { header, plaintextSize: size }), frames),
    () => {
      const d = createDecipheriv('aes-256-gcm', key, iv);
      d.setAuthTag(tag);
      for (const x of rawCiphertext) d.update(x);
      d.final();
    },
  ];
  const samples: number[][] = fns.map(() => []);
  for (const fn of fns) await fn(); // warm-up
  for (let r = 0; r < runs; r++) for (const [i, fn] of fns.entries()) samples[i]!.push(await mibPerSec(size, fn));
  const [seal, rawEnc, open, rawDec] = samples.map((s) => summarizeThroughput(s.map((x) => round(x, 1)))) as [Summary, Summary, Summary, Summary];
  return {
    size: label,
    bytes: size,
    sealMiBs: seal,
    rawEncryptMiBs: rawEnc,
    openMiBs: open,
    rawDecryptMiBs: rawDec,
    sealVsRaw: round(ratio(seal.median, rawEnc.median), 3),
    openVsRaw: round(ratio(open.median, rawDec.median), 3),
  };
}
