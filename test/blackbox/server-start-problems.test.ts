// What `npm start` (bin/server.ts, a real child process) says when it cannot start: a native module that did not
// build or load, a port already taken; and that root credentials created by a failed start are still shown once.
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runServerToExit, startServerProcess } from '../support/server-process';

const BROKEN_NATIVE_MODULE = ['--require', join(__dirname, '../support/broken-native-module.ts')];
const fromEnvNone = { SEALSTORE_ACCESS_KEY_ID: '', SEALSTORE_SECRET_ACCESS_KEY: '' };

describe('npm start when it cannot start', () => {
  let dataDir: string;
  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'sealstore-start-'));
  });
  afterEach(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('explains a better-sqlite3 built for another Node.js in plain words, with what to run, and no stack trace', async () => {
    const run = await runServerToExit(['--port', '0'], { ...fromEnvNone, SEALSTORE_DATA_DIR: dataDir, SEALSTORE_TEST_NATIVE_FAULT: 'version' }, { nodeArgs: BROKEN_NATIVE_MODULE });
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(
      [
        "sealstore: the embedded backend cannot start: better-sqlite3's native module (better_sqlite3.node), which holds",
        'its SQLite index, did not load.',
        `Why: it was built for another Node.js version (NODE_MODULE_VERSION 108); this Node.js, ${process.version}, needs NODE_MODULE_VERSION ${process.versions.modules}.`,
        'What to do:',
        '  1. Rebuild it for this Node.js, in the sealstore directory: npm rebuild better-sqlite3',
        '     Where npm cannot download a prebuilt binary for this platform and Node.js version, this compiles SQLite',
        '     from source: it needs python3, make and a C++ compiler (Debian/Ubuntu: sudo apt-get install python3 make g++;',
        '     Fedora: sudo dnf install python3 make gcc-c++; macOS: xcode-select --install) and takes a few minutes,',
        '     printing nothing meanwhile.',
        `  2. Check that it loads: node -e "new (require('better-sqlite3'))(':memory:')"`,
        '  3. npm start again.',
        '(--backend aws does not need it.)',
        '',
      ].join('\n'),
    );
  });

  it('explains a better-sqlite3 whose native module was never built', async () => {
    const run = await runServerToExit(['--port', '0'], { ...fromEnvNone, SEALSTORE_DATA_DIR: dataDir, SEALSTORE_TEST_NATIVE_FAULT: 'missing' }, { nodeArgs: BROKEN_NATIVE_MODULE });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('\nWhy: it was never built: npm install could neither download a prebuilt binary nor compile one.\nWhat to do:\n  1. Rebuild it for this Node.js, in the sealstore directory: npm rebuild better-sqlite3\n');
    expect(run.stderr).not.toMatch(/\n\s+at /); // no stack frames
  });

  it('names a port in use and what to do, exits 1, and shows the credentials it created on the next start, once', async () => {
    const holder: Server = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const port = (holder.address() as { port: number }).port;
    const env = { ...fromEnvNone, SEALSTORE_DATA_DIR: dataDir };
    try {
      const refused = await runServerToExit(['--port', String(port)], env);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toBe(
        `sealstore: port ${port} on 127.0.0.1 is already in use: another sealstore or another program listens there.\n` +
          `Stop that program, or start on another port: npm start -- --port ${port + 1} (or PORT=${port + 1} npm start).\n`,
      );
      expect(refused.stdout).not.toContain('secret access key');
    } finally {
      await new Promise((resolve) => holder.close(resolve));
    }

    // The failed start created the credentials; the first start that serves prints them, saying why now.
    const second = await startServerProcess([], env);
    expect(second.output()).toContain(`root credentials (printed once: the start that created them stopped before printing them; saved in ${dataDir}/root-credentials.json, mode 0600):`);
    expect(second.output()).toMatch(/ {2}access key id: {5}SEAL[0-9A-F]{16}\n {2}secret access key: \S{40}\n/);
    expect(await second.stop()).toBe(0);

    const third = await startServerProcess([], env);
    expect(third.output()).not.toContain('secret access key');
    expect(third.output()).toContain(`root credentials: ${dataDir}/root-credentials.json\n`);
    expect(await third.stop()).toBe(0);
  }, 90_000);
});
