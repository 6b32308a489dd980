// The module graph of the production code: no import cycles, and each layer imports only the layers below it
// (docs/CONTRIBUTING.md). Reads the sources' import statements — type-only imports count too, since a cycle of
// types is still two modules that must change together.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const ROOT = resolve(__dirname, '..', '..');
const PRODUCTION = ['lambdas', 'lib', 'bin', 'local'];

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return name.endsWith('.ts') && !name.endsWith('.d.ts') ? [path] : [];
  });
}

const IMPORT = /^\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|^\s*import\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|require\(\s*['"]([^'"]+)['"]\s*\)/gm;

/** The specifiers a module imports, as written. */
function specifiers(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(IMPORT)].map((m) => m[1] ?? m[2] ?? m[3] ?? m[4] ?? '').filter((s) => s !== '');
}

function resolveLocal(from: string, spec: string): string | undefined {
  if (!spec.startsWith('.')) return undefined;
  const base = resolve(dirname(from), spec);
  for (const candidate of [`${base}.ts`, join(base, 'index.ts'), base]) {
    try {
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      // not this one
    }
  }
  throw new Error(`${relative(ROOT, from)} imports ${spec}, which does not resolve`);
}

const files = PRODUCTION.flatMap((dir) => sources(join(ROOT, dir)));
const written = new Map(files.map((f) => [f, specifiers(f)]));
const graph = new Map(files.map((f) => [f, (written.get(f) ?? []).map((s) => resolveLocal(f, s)).filter((x): x is string => x !== undefined)]));
const rel = (f: string) => relative(ROOT, f);

/** Every cycle's modules, by Tarjan's strongly connected components. */
function cycles(): string[][] {
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, counter);
    low.set(v, counter++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(rel(w));
      } while (w !== v);
      if (component.length > 1 || (graph.get(v) ?? []).includes(v)) out.push(component.sort());
    }
  };
  for (const f of files) if (!index.has(f)) visit(f);
  return out;
}

/** Which directories a layer may import from (its own included); anything else local is a layering breach. */
const LAYERS: readonly { readonly layer: string; readonly may: readonly string[]; readonly packages?: RegExp }[] = [
  // The core: sealing, objects, keys, the ports. No HTTP, no AWS, no adapters: of packages, only these built-ins.
  { layer: 'lambdas/core', may: ['lambdas/core'], packages: /^node:(crypto|stream|util|buffer|events|timers\/promises)$/ },
  // The S3 protocol: SigV4, routing, XML, ranges. Knows the core's errors and types, not the adapters.
  { layer: 'lambdas/http', may: ['lambdas/http', 'lambdas/core'] },
  // The adapters implement the core's ports over a backend; they know nothing of HTTP or of each other.
  { layer: 'lambdas/adapters/aws', may: ['lambdas/adapters/aws', 'lambdas/core'] },
  { layer: 'lambdas/adapters/embedded', may: ['lambdas/adapters/embedded', 'lambdas/core'] },
  // The S3 and admin APIs: operations over the core, spoken in lambdas/http's protocol.
  { layer: 'lambdas/api', may: ['lambdas/api', 'lambdas/http', 'lambdas/core'] },
  // The CDK app never loads handler code (it bundles it by path); it shares only the names both must agree on:
  // the encryption-context keys, and the environment variables and table key schema (deployment-names.ts).
  { layer: 'lib', may: ['lib', 'lambdas/core/encryption-context.ts', 'lambdas/core/deployment-names.ts'], packages: /^(?!better-sqlite3|@aws-sdk\/client-)/ },
];

type LayerRule = (typeof LAYERS)[number];

function breaches(rule: LayerRule): string[] {
  const out: string[] = [];
  for (const [file, imports] of graph) {
    if (!rel(file).startsWith(`${rule.layer}/`)) continue;
    for (const target of imports) {
      if (!rule.may.some((allowed) => rel(target) === allowed || rel(target).startsWith(`${allowed}/`))) out.push(`${rel(file)} → ${rel(target)}`);
    }
    if (rule.packages) {
      for (const spec of written.get(file) ?? []) if (!spec.startsWith('.') && !rule.packages.test(spec)) out.push(`${rel(file)} → ${spec}`);
    }
  }
  return out;
}

describe('the production module graph', () => {
  it('reads every production module and its local imports', () => {
    expect(files.length).toBeGreaterThan(100);
    expect(graph.get(join(ROOT, 'lambdas/core/object-service.ts'))).toContain(join(ROOT, 'lambdas/core/multipart.ts'));
  });

  it('has no import cycles (a pair of modules that import each other must change together)', () => {
    expect(cycles()).toEqual([]);
  });

  it('keeps the object service a façade: nothing in the core imports it', () => {
    const facade = join(ROOT, 'lambdas/core/object-service.ts');
    const importers = [...graph].filter(([file, imports]) => rel(file).startsWith('lambdas/core/') && imports.includes(facade)).map(([file]) => rel(file));
    expect(importers).toEqual([]);
  });

  it.each(LAYERS.map((l) => [l.layer, l] as const))('%s imports only the layers below it', (_name, rule) => {
    const checked = files.filter((f) => rel(f).startsWith(`${rule.layer}/`));
    expect(checked.length).toBeGreaterThan(0); // a renamed layer must not pass by checking nothing
    expect(breaches(rule)).toEqual([]);
  });
});

describe('the checker itself', () => {
  it('finds a cycle when there is one', () => {
    const a = join(ROOT, 'lambdas/core/__a.ts');
    const b = join(ROOT, 'lambdas/core/__b.ts');
    graph.set(a, [b]);
    graph.set(b, [a]);
    files.push(a, b);
    try {
      expect(cycles()).toContainEqual(['lambdas/core/__a.ts', 'lambdas/core/__b.ts']);
    } finally {
      graph.delete(a);
      graph.delete(b);
      files.splice(files.indexOf(a), 2);
    }
  });

  it('finds a layering breach when there is one', () => {
    const core = LAYERS.find((l) => l.layer === 'lambdas/core')!;
    const intruder = join(ROOT, 'lambdas/core/__intruder.ts');
    graph.set(intruder, [join(ROOT, 'lambdas/http/request.ts')]);
    written.set(intruder, ['../http/request', 'node:http']);
    try {
      expect(breaches(core)).toEqual(['lambdas/core/__intruder.ts → lambdas/http/request.ts', 'lambdas/core/__intruder.ts → node:http']);
    } finally {
      graph.delete(intruder);
      written.delete(intruder);
    }
  });

  it('refuses packages outside the core allow-list, bare http and sqlite included', () => {
    const core = LAYERS.find((l) => l.layer === 'lambdas/core')!;
    for (const spec of ['http', 'node:http', 'node:sqlite', 'aws-sdk', '@aws-sdk/client-kms', 'better-sqlite3']) expect(core.packages?.test(spec)).toBe(false);
    for (const spec of ['node:crypto', 'node:stream']) expect(core.packages?.test(spec)).toBe(true);
  });
});
