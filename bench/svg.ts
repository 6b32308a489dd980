// A grouped bar chart of the throughput table as a standalone SVG, drawn by hand (no dependency).
import type { ThroughputRow } from './throughput';

const COLORS: Record<string, string> = { floor: '#9e9e9e', s3rver: '#4e79a7', sealstore: '#e15759' };
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** One panel per operation; one group of bars per (size, concurrency); bar height = median MiB/s, whisker = p99. */
export function throughputSvg(rows: readonly ThroughputRow[], title: string): string {
  const systems = [...new Set(rows.flatMap((r) => Object.keys(r.systems)))];
  const ops = ['put', 'get'] as const;
  const groups = [...new Set(rows.map((r) => `${r.size} c${r.concurrency}`))];
  const barW = 12;
  const groupW = systems.length * barW + 14;
  const left = 60;
  const panelH = 220;
  const top = 50;
  // Wide enough for the title, the legend and the last group's slanted label, whatever the number of groups: a
  // --quick run's three groups once made a chart narrower than its own title, cut off on the right.
  const longestLabel = Math.max(0, ...groups.map((g) => g.length));
  const slantedLabel = Math.ceil(longestLabel * 5.4 * Math.cos(Math.PI * (35 / 180)));
  const width = Math.max(
    left + groups.length * groupW + Math.max(20, slantedLabel),
    left + Math.ceil(title.length * 8.5) + 20, // 14 px bold sans-serif: at most ~8.5 px a character
    left + systems.length * 110 + 20,
    ops.length > 0 ? 420 : 0,
  );
  const height = top + ops.length * (panelH + 70) + 10;
  // The scale covers every bar and every whisker (a p99 run faster than the median must not leave the panel).
  const max = Math.max(1, ...rows.flatMap((r) => Object.values(r.systems).flatMap((s) => ('mibPerSec' in s ? [s.mibPerSec.median, s.mibPerSec.p99] : []))));
  // Log scale: the floor runs an order of magnitude above the HTTP systems, and small objects far below.
  const floorV = 0.1;
  const scale = (v: number) => (Math.log10(Math.max(v, floorV) / floorV) / Math.log10(Math.max(max, 1) / floorV)) * panelH;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="10">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${left}" y="20" font-size="14" font-weight="bold">${esc(title)}</text>`,
  ];
  systems.forEach((s, i) => {
    const x = left + i * 110;
    out.push(`<rect x="${x}" y="30" width="10" height="10" fill="${COLORS[s] ?? '#59a14f'}"/><text x="${x + 14}" y="39">${esc(s)}</text>`);
  });
  ops.forEach((op, p) => {
    const y0 = top + p * (panelH + 70) + 10;
    const base = y0 + panelH;
    out.push(`<text x="${left}" y="${y0 - 2}" font-weight="bold">${op.toUpperCase()} MiB/s, log scale (bar: median; whisker: p99 run)</text>`);
    for (let v = floorV; v <= max * 1.0001; v *= 10) {
      const y = base - scale(v);
      out.push(`<line x1="${left - 4}" x2="${width - 20}" y1="${y}" y2="${y}" stroke="#e0e0e0"/><text x="${left - 6}" y="${y + 3}" text-anchor="end">${v >= 1 ? v.toFixed(0) : v.toFixed(1)}</text>`);
    }
    groups.forEach((g, gi) => {
      const row = rows.find((r) => r.op === op && `${r.size} c${r.concurrency}` === g);
      const gx = left + gi * groupW + 7;
      systems.forEach((s, si) => {
        const res = row?.systems[s];
        const x = gx + si * barW;
        if (!res || !('mibPerSec' in res)) {
          out.push(`<text x="${x + barW / 2}" y="${base - 3}" text-anchor="middle" fill="#b00">×</text>`);
          return;
        }
        const h = scale(res.mibPerSec.median);
        out.push(`<rect x="${x}" y="${base - h}" width="${barW - 2}" height="${h}" fill="${COLORS[s] ?? '#59a14f'}"><title>${esc(`${s} ${op} ${g}: ${res.mibPerSec.median} MiB/s`)}</title></rect>`);
        const py = base - scale(res.mibPerSec.p99);
        out.push(`<line x1="${x + (barW - 2) / 2}" x2="${x + (barW - 2) / 2}" y1="${base - h}" y2="${py}" stroke="black"/>`);
      });
      out.push(`<text transform="translate(${gx + (systems.length * barW) / 2},${base + 10}) rotate(35)" font-size="9">${esc(g)}</text>`);
    });
    out.push(`<line x1="${left}" x2="${width - 20}" y1="${base}" y2="${base}" stroke="black"/>`);
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
