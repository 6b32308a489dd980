// Where a bench writes: bench/out/ (untracked) by default, so a user's run never touches the repository; the
// tracked figures the README and docs/BENCHMARKS.md show change only with --update-docs.
import { join, relative } from 'node:path';

export interface BenchOutput {
  /** The directory results go to. */
  readonly dir: string;
  /** True when that is the tracked bench/results/ the docs show. */
  readonly updatesDocs: boolean;
  /** The flags given, checked against the bench's own. */
  readonly flags: ReadonlySet<string>;
  /** The directory as the user would type it, for the closing line. */
  readonly shown: string;
}

/** The tracked results the docs show: bench/results/. */
export const DOCS_RESULTS_DIR = join(__dirname, 'results');
/** The default, untracked (.gitignore): bench/out/. */
export const DEFAULT_OUT_DIR = join(__dirname, 'out');

/**
 * Parses `--update-docs`, `--out DIR` and the bench's own boolean flags; anything else stops the run with the flags
 * it knows (a typo must not run a long bench with the wrong settings).
 */
export function benchOutput(argv: readonly string[], known: Readonly<Record<string, string>>, usage: string): BenchOutput {
  const flags = new Set<string>();
  let out: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--out') {
      out = argv[++i];
      if (out === undefined) fail(`--out needs a directory`, known, usage);
    } else if (arg === '--update-docs' || arg in known) {
      flags.add(arg);
    } else if (arg === '--save') {
      fail('--save is now --update-docs (without it, results go to bench/out/)', known, usage);
    } else {
      fail(`unknown option ${arg}`, known, usage);
    }
  }
  const updatesDocs = flags.has('--update-docs');
  if (updatesDocs && out !== undefined) fail('--update-docs writes bench/results/; give it or --out, not both', known, usage);
  const dir = updatesDocs ? DOCS_RESULTS_DIR : out ?? DEFAULT_OUT_DIR;
  return { dir, updatesDocs, flags, shown: relative(process.cwd(), dir) || dir };
}

function fail(problem: string, known: Readonly<Record<string, string>>, usage: string): never {
  const lines = Object.entries({
    ...known,
    '--out DIR': 'write the results to DIR (default bench/out/, untracked)',
    '--update-docs': 'write them to bench/results/, the tracked figures the README and docs/BENCHMARKS.md show',
  }).map(([flag, what]) => `  ${flag.padEnd(14)} ${what}`);
  process.stderr.write(`${problem}\n\nUsage: ${usage}\n${lines.join('\n')}\n`);
  process.exit(2);
}
