// The benches write where a user's run cannot touch the repository, and draw a chart nothing cuts off.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { benchOutput } from '../../bench/output';
import { throughputSvg } from '../../bench/svg';
import type { ThroughputRow } from '../../bench/throughput';

const ROOT = join(__dirname, '../..');
const summary = (median: number, p99: number) => ({ median, p99, runs: 5 });

function row(op: 'put' | 'get', size: string, bytes: number, concurrency: number, mibs: number): ThroughputRow {
  const system = (m: number) => ({ mibPerSec: summary(m, m * 0.8), latencyMs: summary(10, 20), requestsPerRun: 48 });
  return { op, size, bytes, concurrency, systems: { floor: system(mibs * 4), s3rver: system(mibs), sealstore: system(mibs * 0.9) }, ratios: { sealstore_vs_s3rver: 0.9, sealstore_vs_floor: 0.23 } };
}

describe('bench output', () => {
  it('goes to the untracked bench/out/ by default, and to the tracked bench/results/ only with --update-docs', () => {
    const byDefault = benchOutput(['--quick'], { '--quick': 'reduced' }, 'npm run bench');
    expect(byDefault).toMatchObject({ dir: join(ROOT, 'bench', 'out'), updatesDocs: false });
    expect(byDefault.flags.has('--quick')).toBe(true);
    expect(benchOutput(['--update-docs'], {}, 'npm run bench')).toMatchObject({ dir: join(ROOT, 'bench', 'results'), updatesDocs: true });
    expect(benchOutput(['--out', '/tmp/elsewhere'], {}, 'npm run bench').dir).toBe('/tmp/elsewhere');
    // git ignores what a default run writes, and tracks what the docs show.
    const ignored = (path: string) => {
      try {
        execFileSync('git', ['check-ignore', '-q', path], { cwd: ROOT });
        return true;
      } catch {
        return false;
      }
    };
    expect(['latest.json', 'throughput.svg', 'format.json'].map((f) => ignored(`bench/out/${f}`))).toEqual([true, true, true]);
    expect(ignored('bench/results/throughput.svg')).toBe(false);
  });

  it('draws a --quick chart (three groups) wide enough for its title, legend and labels', () => {
    const rows = [row('put', '4 KiB', 4096, 8, 1), row('get', '4 KiB', 4096, 8, 2), row('put', '1 MiB', 1 << 20, 8, 100), row('get', '1 MiB', 1 << 20, 8, 110), row('put', '1 GiB', 1 << 30, 4, 200), row('get', '1 GiB', 1 << 30, 4, 300)];
    const title = 'sealstore vs s3rver vs raw file system (quick, 2026-12-02)';
    const svg = throughputSvg(rows, title);
    const width = Number(/<svg[^>]* width="(\d+)"/.exec(svg)?.[1]);
    expect(width).toBeGreaterThanOrEqual(60 + title.length * 8.5);
    const height = Number(/<svg[^>]* height="(\d+)"/.exec(svg)?.[1]);
    // Every text starts inside the picture; every bar and whisker stays inside it.
    for (const [, x] of svg.matchAll(/<text x="([\d.]+)"/g)) expect(Number(x)).toBeLessThan(width);
    for (const [, y1, y2] of svg.matchAll(/<line x1="[\d.]+" x2="[\d.]+" y1="([\d.-]+)" y2="([\d.-]+)"/g)) {
      expect(Math.min(Number(y1), Number(y2))).toBeGreaterThanOrEqual(0);
      expect(Math.max(Number(y1), Number(y2))).toBeLessThanOrEqual(height);
    }
  });
});
