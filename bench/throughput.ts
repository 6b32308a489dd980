// PUT and GET throughput and latency of several systems, cell by cell (object size × concurrency); the
// systems take turns run by run, so a noisy moment hits all of them and every ratio is from the same run.
import { randomBytes } from 'node:crypto';
import { ratio, round, summarize, summarizeThroughput, type Summary } from './stats';
import { GiB, MiB, pool, type BenchTarget } from './targets';

export type Op = 'put' | 'get';

export type SystemResult =
  | { readonly mibPerSec: Summary; readonly latencyMs: Summary; readonly requestsPerRun: number }
  | { readonly unavailable: string };

export interface ThroughputRow {
  readonly op: Op;
  readonly size: string;
  readonly bytes: number;
  readonly concurrency: number;
  readonly systems: Record<string, SystemResult>;
  readonly ratios: Record<string, number>;
}

export interface CellPlan {
  readonly label: string;
  readonly bytes: number;
  readonly concurrency: number;
  readonly runs: number;
  readonly requestsPerRun: number;
}

const msSince = (t: bigint) => Number(process.hrtime.bigint() - t) / 1e6;

interface Samples {
  mibs: number[];
  latencies: number[];
  failure?: string;
}

async function timedRun(count: number, concurrency: number, bytes: number, one: (i: number) => Promise<void>, samples: Samples): Promise<void> {
  const start = process.hrtime.bigint();
  await pool(count, concurrency, async (i) => {
    const t = process.hrtime.bigint();
    await one(i);
    samples.latencies.push(msSince(t));
  });
  samples.mibs.push((count * bytes) / MiB / (msSince(start) / 1000));
}

export function describeFailure(e: unknown): string {
  const err = e as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  const status = err.$metadata?.httpStatusCode;
  return `${status ? `${status} ` : ''}${err.name ?? 'Error'}: ${(err.message ?? String(e)).slice(0, 200)}`;
}

/** One cell: every system PUTs then GETs the same bytes, in turn, `runs` times. */
export async function measureCell(targets: readonly BenchTarget[], plan: CellPlan): Promise<ThroughputRow[]> {
  const body = randomBytes(plan.bytes);
  const prefix = `c${plan.concurrency}-s${plan.bytes}`;
  const samples = new Map<string, Record<Op, Samples>>(targets.map((t) => [t.name, { put: { mibs: [], latencies: [] }, get: { mibs: [], latencies: [] } }]));
  const isLarge = plan.bytes >= GiB;
  const count = isLarge ? 1 : plan.requestsPerRun;
  for (let run = -1; run < plan.runs; run++) {
    const warmUp = run < 0; // one unrecorded round: connections, JIT, page cache
    if (warmUp && isLarge) continue;
    for (const op of ['put', 'get'] as const) {
      for (const target of targets) {
        const s = samples.get(target.name)![op];
        if (s.failure) continue;
        const sink: Samples = warmUp ? { mibs: [], latencies: [] } : s;
        const key = (i: number) => `${prefix}-${i}`;
        try {
          if (isLarge) {
            await timedRun(1, 1, plan.bytes, async () => {
              if (op === 'put') await target.putLarge(key(0), body, plan.concurrency);
              else if ((await target.getLarge(key(0), plan.bytes, plan.concurrency)) !== plan.bytes) throw new Error('short read');
            }, sink);
          } else {
            const n = warmUp ? Math.min(count, plan.concurrency * 2) : count;
            await timedRun(n, plan.concurrency, plan.bytes, async (i) => {
              if (op === 'put') await target.put(key(i), body);
              else if ((await target.get(key(i))) !== plan.bytes) throw new Error('short read');
            }, sink);
          }
        } catch (e) {
          s.failure = describeFailure(e);
          if (op === 'put') samples.get(target.name)!.get.failure = `no object to read: the PUT failed (${s.failure})`;
        }
      }
    }
  }
  return (['put', 'get'] as const).map((op) => {
    const systems: Record<string, SystemResult> = {};
    for (const t of targets) {
      const s = samples.get(t.name)![op];
      systems[t.name] = s.failure
        ? { unavailable: s.failure }
        : { mibPerSec: round3(summarizeThroughput(s.mibs)), latencyMs: round3(summarize(s.latencies)), requestsPerRun: count };
    }
    return { op, size: plan.label, bytes: plan.bytes, concurrency: plan.concurrency, systems, ratios: ratiosOf(systems) };
  });
}

const round3 = (s: Summary): Summary => ({ median: round(s.median, 3), p99: round(s.p99, 3), runs: s.runs });

function medianOf(r: SystemResult | undefined): number {
  return r && 'mibPerSec' in r ? r.mibPerSec.median : Number.NaN;
}

/** sealstore against each other system, as a ratio of median throughputs (> 1: sealstore is faster). */
function ratiosOf(systems: Record<string, SystemResult>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const other of Object.keys(systems)) {
    if (other === 'sealstore') continue;
    out[`sealstore_vs_${other}`] = round(ratio(medianOf(systems['sealstore']), medianOf(systems[other])), 3);
  }
  return out;
}
