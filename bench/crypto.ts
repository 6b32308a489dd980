// The crypto share: sealing and opening through lambdas/core/format against one raw AES-256-GCM pass over
// the same bytes, so the cost of framing, key derivation and commitment is visible on its own.
import { cryptoWorkloads } from './crypto-workloads';
import { ratio, round, summarizeThroughput, type Summary } from './stats';
import { MiB } from './targets';


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
  const w = cryptoWorkloads(size);
  // Typed wide: the array literal would otherwise collapse to `() => void` and hide that seal/open return promises.
  const fns: ReadonlyArray<() => unknown> = [w.seal, w.rawEncrypt, w.open, w.rawDecrypt];
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
