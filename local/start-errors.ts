// Why `npm start` could not start, in words a newcomer can act on: the two failures people meet in their first
// hour (a native module that did not build or load, a port already taken) instead of a stack trace.

/** What went wrong with better-sqlite3's native module, as far as the load error tells. */
type NativeProblem =
  | { readonly kind: 'package' }
  | { readonly kind: 'missing' }
  | { readonly kind: 'version'; readonly builtFor: string | undefined }
  | { readonly kind: 'other'; readonly reason: string };

const errorCode = (e: unknown): string | undefined => (e instanceof Error ? (e as NodeJS.ErrnoException).code : undefined);

/** Classifies a load failure of better-sqlite3 (undefined: the error is something else). */
function nativeProblemOf(e: unknown): NativeProblem | undefined {
  if (!(e instanceof Error)) return undefined;
  const message = e.message;
  if (message.includes('NODE_MODULE_VERSION')) return { kind: 'version', builtFor: /NODE_MODULE_VERSION (\d+)/.exec(message)?.[1] };
  // The `bindings` package's message when no build of better_sqlite3.node exists at any path it tries.
  if (message.includes('Could not locate the bindings file') || (message.includes('better_sqlite3.node') && errorCode(e) === 'MODULE_NOT_FOUND')) return { kind: 'missing' };
  if (errorCode(e) === 'MODULE_NOT_FOUND' && message.includes("'better-sqlite3'")) return { kind: 'package' };
  // dlopen failures: a build for another CPU or C library, a truncated file.
  if (message.includes('better_sqlite3.node')) return { kind: 'other', reason: message.split('\n')[0] ?? message };
  return undefined;
}

const TOOLCHAIN = [
  '     Where npm cannot download a prebuilt binary for this platform and Node.js version, this compiles SQLite',
  '     from source: it needs python3, make and a C++ compiler (Debian/Ubuntu: sudo apt-get install python3 make g++;',
  '     Fedora: sudo dnf install python3 make gcc-c++; macOS: xcode-select --install) and takes a few minutes,',
  '     printing nothing meanwhile.',
];

/**
 * The explanation for a failure to load better-sqlite3's native module (better_sqlite3.node), or undefined when
 * `e` is another error. `nodeVersion` and `moduleVersion` are this Node.js's (process.version, process.versions.modules).
 */
export function explainNativeModuleError(e: unknown, nodeVersion = process.version, moduleVersion = process.versions.modules): string | undefined {
  const problem = nativeProblemOf(e);
  if (problem === undefined) return undefined;
  const what =
    problem.kind === 'package'
      ? 'the better-sqlite3 package is not installed.'
      : problem.kind === 'missing'
      ? 'it was never built: npm install could neither download a prebuilt binary nor compile one.'
      : problem.kind === 'version'
      ? `it was built for another Node.js version (NODE_MODULE_VERSION ${problem.builtFor ?? '?'}); this Node.js, ${nodeVersion}, needs NODE_MODULE_VERSION ${moduleVersion}.`
      : `it did not load: ${problem.reason}`;
  const fix =
    problem.kind === 'package'
      ? ['  1. Install the dependencies, in the sealstore directory: npm install']
      : ['  1. Rebuild it for this Node.js, in the sealstore directory: npm rebuild better-sqlite3'];
  return [
    "sealstore: the embedded backend cannot start: better-sqlite3's native module (better_sqlite3.node), which holds",
    'its SQLite index, did not load.',
    `Why: ${what}`,
    'What to do:',
    ...fix,
    ...TOOLCHAIN,
    `  2. Check that it loads: node -e "new (require('better-sqlite3'))(':memory:')"`,
    '  3. npm start again.',
    '(--backend aws does not need it.)',
    '',
  ].join('\n');
}

/** The explanation for a listen failure on `host`:`port` (taken, or privileged), or undefined for another error. */
export function explainListenError(e: unknown, host: string, port: number): string | undefined {
  const code = errorCode(e);
  const other = port > 0 && port < 65535 ? port + 1 : 9001;
  const elsewhere = `npm start -- --port ${other} (or PORT=${other} npm start)`;
  if (code === 'EADDRINUSE') {
    return [
      `sealstore: port ${port} on ${host} is already in use: another sealstore or another program listens there.`,
      `Stop that program, or start on another port: ${elsewhere}.`,
      '',
    ].join('\n');
  }
  if (code === 'EACCES') {
    return [
      `sealstore: this user may not listen on port ${port} on ${host} (ports below 1024 need privileges).`,
      `Start on a port from 1024 up: ${elsewhere}.`,
      '',
    ].join('\n');
  }
  if (code === 'EADDRNOTAVAIL') {
    return [`sealstore: ${host} is not an address of this machine, so nothing can listen on it.`, 'Pick one that is: npm start -- --host 127.0.0.1 (or HOST=127.0.0.1 npm start).', ''].join('\n');
  }
  return undefined;
}
