// Reads a V8 .cpuprofile and sums self time by function and by area (crypto, HTTP, SDK parsing, index, ...),
// to say where a sealstore server spends its time.
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface ProfileSummary {
  readonly totalMs: number;
  readonly byArea: Array<{ area: string; ms: number; share: number }>;
  readonly topFunctions: Array<{ fn: string; ms: number; share: number }>;
}

const AREAS: Array<[string, RegExp]> = [
  ['idle (waiting on I/O)', /^\(idle\)$/],
  ['garbage collection', /^\(garbage collector\)$/],
  ['sealed format (lambdas/core/format)', /lambdas\/core\/format\//],
  ['object service', /lambdas\/core\/object-service/],
  ['SigV4 + S3 protocol (lambdas/http, lambdas/api)', /lambdas\/(http|api)\//],
  ['embedded adapters (fs blobs, SQLite, vault)', /lambdas\/adapters\/embedded\//],
  ['local server + proxy event', /\/local\//],
  ['node:crypto / native', /^node:crypto|internal\/crypto/],
  ['node streams', /internal\/streams|node:stream/],
  ['node http/net', /_http_|internal\/http|node:http|net\.js|internal\/net/],
  ['node fs', /internal\/fs|node:fs/],
  ['program (native code)', /^\(program\)$/],
];

export function summarizeProfile(file: string, top = 12): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000));
  const totalMs = (profile.endTime - profile.startTime) / 1000;
  const areas = new Map<string, number>();
  const fns = new Map<string, number>();
  for (const [id, ms] of self) {
    const frame = byId.get(id)?.callFrame;
    if (!frame) continue;
    const name = frame.functionName || '(anonymous)';
    const where = frame.url.replace(/^.*\/work\/main\//, '').replace(/^file:\/\//, '');
    const key = where ? `${name} ${where}:${frame.lineNumber + 1}` : name;
    fns.set(key, (fns.get(key) ?? 0) + ms);
    const area = AREAS.find(([, re]) => re.test(name) || re.test(frame.url))?.[0] ?? (/node_modules/.test(frame.url) ? 'dependencies' : 'other');
    areas.set(area, (areas.get(area) ?? 0) + ms);
  }
  const sorted = (m: Map<string, number>) => [...m.entries()].sort((a, b) => b[1] - a[1]);
  return {
    totalMs: Math.round(totalMs),
    byArea: sorted(areas).map(([area, ms]) => ({ area, ms: Math.round(ms), share: Number((ms / totalMs).toFixed(3)) })),
    topFunctions: sorted(fns).slice(0, top).map(([fn, ms]) => ({ fn, ms: Math.round(ms), share: Number((ms / totalMs).toFixed(3)) })),
  };
}
