// Starts a throwaway moto_server on a free loopback port so AWS adapters can be tested over the wire.
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, isAbsolute, join, sep } from 'node:path';
import { leftOutOfFastTier } from './tier';
import { resolveTool } from './tools';

const START_TIMEOUT_MS = 30_000;

export const motoMissingReason = 'moto_server not found on PATH or in $PYENV_ROOT/shims (pip install "moto[server]"): AWS-backend tests skipped';

/** Dummy credentials: moto accepts any, and the SDK must never reach for real ones in tests. */
export const motoCredentials = { accessKeyId: 'test', secretAccessKey: 'test' } as const;
export const motoRegion = 'us-east-1';

const isExecutable = (file: string): boolean => {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
};

/**
 * The moto_server executable on PATH, else in pyenv's shims ($PYENV_ROOT/shims, for an environment whose PATH
 * was trimmed but still names pyenv), or undefined. Synchronous so test files can decide at collection time.
 */
export function findMotoServer(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const dirs = (env['PATH'] ?? '').split(delimiter).filter((dir) => dir !== '');
  if (env['PYENV_ROOT']) dirs.push(join(env['PYENV_ROOT'], 'shims'));
  return dirs.map((dir) => join(dir, 'moto_server')).find(isExecutable);
}

/** Why the moto_server suites cannot run here (not installed, or the fast tier), or undefined when they can. */
export const motoUnavailable = (): string | undefined =>
  leftOutOfFastTier('moto_server (AWS-backend) tests are') ?? (findMotoServer() === undefined ? motoMissingReason : undefined);

const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitUntilAnswering(endpoint: string, child: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`moto_server exited with ${child.exitCode}: ${log()}`);
    try {
      const response = await fetch(`${endpoint}/moto-api/`, { signal: AbortSignal.timeout(1000) });
      await response.arrayBuffer();
      return;
    } catch {
      await sleep(100);
    }
  }
  throw new Error(`moto_server did not answer on ${endpoint} within ${START_TIMEOUT_MS} ms: ${log()}`);
}

/** The Python that a moto_server script's `#!` line names, when it names one that exists. */
function interpreterOf(script: string): string | undefined {
  try {
    const first = readFileSync(script, 'utf8').split('\n', 1)[0] ?? '';
    const python = /^#!\s*(\S*python[\d.]*)\s*$/.exec(first)?.[1];
    return python !== undefined && isExecutable(python) ? python : undefined;
  } catch {
    return undefined;
  }
}

export interface MotoServer {
  readonly endpoint: string;
  /** Milliseconds from spawn until the server answered HTTP. */
  readonly startupMs: number;
  /** moto_server's own temp directory (its TMPDIR): removed by stop(), and when the start fails. */
  readonly tempDir: string;
  stop(): Promise<void>;
}

/** Spawns moto_server on 127.0.0.1 and a free port; undefined when moto_server is not installed. */
export async function startMoto(): Promise<MotoServer | undefined> {
  const executable = findMotoServer();
  if (executable === undefined) return undefined;
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const started = Date.now();
  // Past the pyenv shim when pyenv can name the script behind it: a second or two less per start under load.
  const behindShim = resolveTool('moto_server');
  const program = isAbsolute(behindShim) && !behindShim.includes(`${sep}shims${sep}`) ? behindShim : executable;
  // moto_server's own interpreter runs it through moto-serialized.py (DynamoDB linearizable, as the real one is).
  const python = interpreterOf(program);
  if (python === undefined) console.warn(`moto_server at ${program} has no python #! line: DynamoDB runs unserialized (concurrent transactions may undo each other)`);
  const [command, args] = python === undefined ? [program, []] : [python, [join(__dirname, 'moto-serialized.py')]];
  // Whatever moto or Python spill into a temp folder (S3 bodies it spools) stays in one directory removed on stop,
  // so a test run, even one that fails or a moto that is killed mid-write, leaves nothing in the system's.
  const tempDir = mkdtempSync(join(tmpdir(), 'sealstore-moto-'));
  const removeTempDir = () => rmSync(tempDir, { recursive: true, force: true });
  const child = spawn(command, [...args, '-H', '127.0.0.1', '-p', String(port)], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, MOTO_ALLOW_NONEXISTENT_REGION: 'false', TMPDIR: tempDir, TEMP: tempDir, TMP: tempDir },
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    // Keep only the tail: moto logs every request to stderr.
    stderr = (stderr + chunk.toString('utf8')).slice(-4000);
  });
  const stop = (): Promise<void> =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    }).finally(removeTempDir);
  try {
    await waitUntilAnswering(endpoint, child, () => stderr);
  } catch (error) {
    await stop();
    throw error;
  }
  return { endpoint, startupMs: Date.now() - started, tempDir, stop };
}

/**
 * A describe block backed by one moto_server for the whole file. When moto_server is missing it
 * registers a single skipped test saying so (and warns), so a missing emulator never passes silently.
 */
export function describeWithMoto(title: string, fn: (ctx: () => { endpoint: string }) => void): void {
  const unavailable = motoUnavailable();
  if (unavailable !== undefined) {
    describe(title, () => {
      console.warn(`${title} SKIPPED: ${unavailable}`);
      it.skip(`skipped: ${unavailable}`, () => undefined);
    });
    return;
  }
  describe(title, () => {
    let moto: MotoServer | undefined;
    beforeAll(async () => {
      moto = await startMoto();
    }, START_TIMEOUT_MS + 5000);
    afterAll(async () => {
      await moto?.stop();
    });
    fn(() => {
      if (moto === undefined) throw new Error('moto_server is not running (beforeAll failed?)');
      return { endpoint: moto.endpoint };
    });
  });
}
