// `npm start`'s entry (bin/server.ts) in a real child process on a free port: for tests of the front door and of
// what the server process itself does (resident memory, signals), apart from the test runner's own heap.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const SERVER = join(__dirname, '../../bin/server.ts');

export interface ServerProcess {
  readonly child: ChildProcess;
  readonly url: string;
  /** Everything the process printed so far (stdout and stderr). */
  output(): string;
  /** Resident set size now, in MiB (Linux /proc). */
  rssMiB(): number;
  /** Stops it with SIGTERM and resolves with the exit code. */
  stop(): Promise<number | null>;
}

/** Node options before the entry: e.g. ['--require', preload] to stage a fault in the server process. */
export interface ServerProcessOptions {
  readonly nodeArgs?: readonly string[];
}

const spawnServer = (args: readonly string[], env: NodeJS.ProcessEnv, options: ServerProcessOptions): ChildProcess =>
  spawn(process.execPath, ['--require', 'tsx/cjs', ...(options.nodeArgs ?? []), SERVER, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });

/** Runs the entry expecting it to stop by itself (a start that fails): its exit code and everything it printed. */
export function runServerToExit(args: readonly string[], env: NodeJS.ProcessEnv, options: ServerProcessOptions = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawnServer(args, env, options);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  return new Promise((resolve) => {
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Starts the entry on a free port (`--port 0` unless `args` name one) and resolves once it serves. */
export function startServerProcess(args: readonly string[], env: NodeJS.ProcessEnv, options: ServerProcessOptions = {}): Promise<ServerProcess> {
  const child = spawnServer(args.includes('--port') ? args : ['--port', '0', ...args], env, options);
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${out}`)), 30_000);
    const onExit = (code: number | null) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}:\n${out}`));
    };
    const check = () => {
      const m = /listening on (http:\/\/[^\s]+)/.exec(out);
      if (m && out.includes('Try it:')) {
        clearTimeout(timer);
        child.stdout!.off('data', check);
        child.off('exit', onExit);
        resolve({
          child,
          url: m[1]!,
          output: () => out,
          rssMiB: () => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1] ?? NaN) / 1024,
          stop: () => {
            const exited = exitOf(child);
            if (child.exitCode === null) child.kill('SIGTERM');
            return exited;
          },
        });
      }
    };
    child.stdout!.on('data', check);
    child.once('exit', onExit);
  });
}

export function exitOf(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}
