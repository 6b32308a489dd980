// Progress of `sealstore cp` / `sync`: on a terminal one line redrawn in place (bar, bytes, percent, throughput,
// ETA) a few times a second; otherwise JSON lines, one event per line, for scripts and logs.

export interface ProgressSink {
  out(text: string): void;
  /** Redraw one line in place (a terminal), or write JSON lines. */
  readonly tty: boolean;
  readonly json: boolean;
  readonly columns?: number;
  readonly now?: () => number;
}

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

export function formatBytes(n: number): string {
  let v = n;
  let u = 0;
  while (v >= 1024 && u < UNITS.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${v} B` : `${v.toFixed(v >= 100 ? 0 : 1)} ${UNITS[u]}`;
}

export function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return '--';
  const t = Math.max(0, Math.round(s));
  if (t < 60) return `${t}s`;
  if (t < 3600) return `${Math.floor(t / 60)}m${String(t % 60).padStart(2, '0')}s`;
  return `${Math.floor(t / 3600)}h${String(Math.floor((t % 3600) / 60)).padStart(2, '0')}m`;
}

/** Throughput over the last few seconds, so the ETA follows the current rate rather than the average since start. */
class Rate {
  private readonly samples: Array<[number, number]> = [];
  add(t: number, bytes: number): void {
    this.samples.push([t, bytes]);
    while (this.samples.length > 2 && t - (this.samples[0]?.[0] ?? t) > 5000) this.samples.shift();
  }
  perSecond(): number {
    const first = this.samples[0];
    const last = this.samples[this.samples.length - 1];
    if (!first || !last || last[0] - first[0] < 200) return 0;
    return ((last[1] - first[1]) * 1000) / (last[0] - first[0]);
  }
}

/**
 * One progress display for a run: `total` bytes across its files. `add` as bytes move (negative to take back a
 * failed attempt); it redraws at most every `intervalMs`.
 */
export class Progress {
  private done = 0;
  private readonly rate = new Rate();
  private readonly started: number;
  private lastDraw = 0;
  private drawn = false;
  private label = '';
  private readonly intervalMs: number;

  constructor(private readonly sink: ProgressSink, private total: number, private readonly op: string) {
    this.started = this.now();
    this.intervalMs = sink.tty && !sink.json ? 200 : 1000;
    this.rate.add(this.started, 0);
  }

  private now(): number {
    return this.sink.now?.() ?? Date.now();
  }

  /** What the bar says it is moving (a file name; `sync` adds "3/10"). */
  setLabel(label: string): void {
    this.label = label;
  }

  /** Bytes already in place before this run (resumed parts): counted as done, not as throughput. */
  skip(bytes: number): void {
    this.done += bytes;
  }

  grow(bytes: number): void {
    this.total += bytes;
  }

  private moved = 0;

  /** Bytes moved now (negative to take back a failed attempt): done, and counted toward throughput. */
  move(bytes: number): void {
    this.moved += bytes;
    this.done += bytes;
    const t = this.now();
    this.rate.add(t, this.moved);
    if (t - this.lastDraw >= this.intervalMs) this.draw(t);
  }

  snapshot(): { bytes: number; total: number; percent: number; bytesPerSecond: number; etaSeconds: number | null; elapsedSeconds: number } {
    const t = this.now();
    const bps = this.rate.perSecond();
    const left = Math.max(0, this.total - this.done);
    return {
      bytes: this.done,
      total: this.total,
      percent: this.total <= 0 ? 100 : Math.min(100, Math.floor((this.done / this.total) * 1000) / 10),
      bytesPerSecond: Math.round(bps),
      etaSeconds: bps > 0 ? Math.round(left / bps) : left === 0 ? 0 : null,
      elapsedSeconds: Math.round((t - this.started) / 100) / 10,
    };
  }

  private draw(t: number): void {
    this.lastDraw = t;
    const s = this.snapshot();
    if (this.sink.json) {
      this.sink.out(`${JSON.stringify({ event: 'progress', op: this.op, ...(this.label ? { file: this.label } : {}), ...s })}\n`);
      return;
    }
    if (!this.sink.tty) return;
    const columns = Math.max(40, this.sink.columns ?? 80);
    const stats = ` ${s.percent.toFixed(0).padStart(3)}% ${formatBytes(s.bytes)}/${formatBytes(s.total)} ${formatBytes(s.bytesPerSecond)}/s ETA ${s.etaSeconds === null ? '--' : formatSeconds(s.etaSeconds)}`;
    const room = columns - 1 - stats.length;
    const barWidth = Math.max(10, Math.min(30, room - 12));
    const filled = Math.round((Math.min(100, s.percent) / 100) * barWidth);
    const bar = `[${'#'.repeat(filled)}${'.'.repeat(barWidth - filled)}]`;
    const labelRoom = Math.max(0, room - bar.length - 1);
    const label = this.label.length > labelRoom ? `…${this.label.slice(this.label.length - labelRoom + 1)}` : this.label;
    this.sink.out(`\r\x1b[K${label}${label ? ' ' : ''}${bar}${stats}`);
    this.drawn = true;
  }

  /** Draws the final state now (then `finish` ends the line). */
  flush(): void {
    this.draw(this.now());
  }

  /** Ends the in-place line so the next output starts on its own line. */
  finish(): void {
    if (this.sink.tty && !this.sink.json && this.drawn) {
      this.draw(this.now());
      this.sink.out('\n');
      this.drawn = false;
    }
  }
}
