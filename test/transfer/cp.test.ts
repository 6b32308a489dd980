// `sealstore cp` and `sync` against both runtimes: the embedded server with S3's limits, and the deployed stack's
// request path (the API Lambda's handler behind an API Gateway stand-in, test/support/lambda-gateway.ts) — parts
// sized from GET /_sealstore/info, byte-identical round trips, retries, resume after SIGKILL and Ctrl-C with only
// the missing parts sent, and the progress bar in a pseudo-terminal. The 1 GiB round trip is cp-large.test.ts.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { choosePartSize, FALLBACK_LIMITS, parseSize, type TransferLimits } from '../../bin/transfer/transfer';
import { S3Client } from '../../bin/transfer/s3-client';
import { LAMBDA_LIMITS, MAX_REQUEST_BODY_BYTES, rangeChunkBytes, S3_LIMITS } from '../../lambdas/core/limits';
import { startEmbedded, type EmbeddedTarget } from '../support/embedded-target';
import { LAMBDA_INVOKE_PAYLOAD_BYTES, startLambdaGateway, type GatewayRecord, type LambdaGateway } from '../support/lambda-gateway';
import { cli, createBucket, credentialsLine, envFor, has, MiB, sha256File, spawnCli, writeFile, type Run } from './helpers';

jest.setTimeout(120_000);

let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'sealstore-cp-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

const uploadParts = (records: readonly GatewayRecord[]) => records.filter((r) => r.method === 'PUT' && r.query['partNumber'] !== undefined);

describe('part sizes', () => {
  const s3: TransferLimits = { ...FALLBACK_LIMITS, mode: 's3', maxObjectBytes: S3_LIMITS.maxObjectBytes, maxPartBytes: S3_LIMITS.maxPartBytes, minPartBytes: S3_LIMITS.minPartBytes };
  it('take the largest part the stack carries, 16 MiB under S3 limits, and grow only when 10,000 parts would not hold the object', () => {
    expect(choosePartSize(1024 * MiB, FALLBACK_LIMITS)).toBe(MAX_REQUEST_BODY_BYTES);
    expect(choosePartSize(1024 * MiB, s3)).toBe(16 * MiB);
    expect(choosePartSize(400 * 1024 * MiB, s3)).toBe(41 * MiB); // 400 GiB / 10,000 = 40.96 MiB, rounded up to whole MiB
    expect(() => choosePartSize(50 * 1024 * MiB, FALLBACK_LIMITS)).toThrow(/do not fit in 10000 parts/);
    expect(choosePartSize(100 * MiB, s3, 8 * MiB)).toBe(8 * MiB);
    expect(() => choosePartSize(100 * MiB, FALLBACK_LIMITS, 8 * MiB)).toThrow(/--part-size must be between 1048576 and 4669440/);
    expect([parseSize('8MiB'), parseSize('5M'), parseSize('4669440'), parseSize('1.5g')]).toEqual([8 * MiB, 5 * MiB, 4669440, 1.5 * 1024 * MiB]);
  });
});

describe('against the embedded server (S3 limits)', () => {
  let target: EmbeddedTarget;
  let env: Record<string, string>;
  beforeAll(async () => {
    target = await startEmbedded();
    env = envFor(target, join(work, 'state-embedded'));
    await createBucket(target, 'cp-embedded');
  });
  afterAll(async () => {
    await target.close();
  });

  it('GET /_sealstore/info states S3 limits, to any valid access key', async () => {
    const created = await target.server.accessKeys.create({ grants: [{ bucket: 'cp-embedded', role: 'read' }] });
    const reader = new S3Client({ endpoint: new URL(target.url), region: 'us-east-1', accessKeyId: created.accessKeyId, secretAccessKey: created.secretAccessKey });
    try {
      const info = await reader.admin('GET', '/info');
      expect(info).toEqual({
        service: 'sealstore',
        limits: {
          mode: 's3',
          maxObjectBytes: S3_LIMITS.maxObjectBytes,
          maxPartBytes: S3_LIMITS.maxPartBytes,
          minPartBytes: 5 * MiB,
          maxParts: 10_000,
          maxDocumentBytes: S3_LIMITS.maxDocumentBytes,
          maxResponseBytes: null,
          rangeChunkBytes: rangeChunkBytes(S3_LIMITS),
        },
      });
      // The same key is still no admin.
      await expect(reader.admin('GET', '/keys')).rejects.toMatchObject({ code: 'AccessDenied' });
    } finally {
      reader.close();
    }
  });

  it('round-trips a 40 MiB file byte for byte as 16 MiB parts, and a small file as one PUT into a prefix', async () => {
    const file = join(work, 'e40.bin');
    await writeFile(file, 40 * MiB + 123);
    const up = await cli(['cp', file, 's3://cp-embedded/big/e40.bin'], env);
    expect(up.err).toBe(credentialsLine(env));
    expect(up.code).toBe(0);
    const done = up.events.find((e) => e['event'] === 'done');
    expect(done).toMatchObject({ op: 'upload', bytes: 40 * MiB + 123, parts: 3, partsSent: 3, partSize: 16 * MiB });
    const down = await cli(['cp', 's3://cp-embedded/big/e40.bin', join(work, 'e40.back')], env);
    expect(down.code).toBe(0);
    expect(await sha256File(join(work, 'e40.back'))).toBe(await sha256File(file));

    const small = join(work, 'small.txt');
    await writeFile(small, 1000);
    const put = await cli(['cp', small, 's3://cp-embedded/docs/'], env);
    expect(put.events.find((e) => e['event'] === 'done')).toMatchObject({ target: 's3://cp-embedded/docs/small.txt', parts: 1 });
    await mkdir(join(work, 'into'));
    expect((await cli(['cp', 's3://cp-embedded/docs/small.txt', join(work, 'into')], env)).code).toBe(0);
    expect(await readFile(join(work, 'into', 'small.txt'))).toEqual(await readFile(small));
    const empty = join(work, 'empty');
    await writeFile(empty, 0);
    expect((await cli(['cp', empty, 's3://cp-embedded/empty'], env)).code).toBe(0);
    expect((await cli(['cp', 's3://cp-embedded/empty', join(work, 'empty.back')], env)).code).toBe(0);
    expect((await stat(join(work, 'empty.back'))).size).toBe(0);
  });

  it('answers usage errors with exit 2 and a missing object with exit 1, leaving no temp file', async () => {
    expect((await cli(['cp', join(work, 'nope'), 's3://cp-embedded/x'], env)).code).toBe(2);
    expect((await cli(['cp', work, 's3://cp-embedded/x'], env)).err).toMatch(/is a directory: use `sealstore sync/);
    expect((await cli(['cp', 's3://a/b', 's3://c/d'], env)).code).toBe(2);
    const missing = await cli(['cp', 's3://cp-embedded/missing', join(work, 'missing')], env);
    expect(missing.code).toBe(1);
    expect(missing.events.at(-1)).toMatchObject({ event: 'error', status: 404 });
    expect((await readdir(work)).filter((n) => n.startsWith('missing'))).toEqual([]);
  });

  it('sync uploads what is missing, of another size or newer, says so under --dry-run, and syncs back down', async () => {
    const dir = join(work, 'tree');
    await mkdir(join(dir, 'a', 'b'), { recursive: true });
    await writeFile(join(dir, 'top.bin'), 3000);
    await writeFile(join(dir, 'a', 'mid.bin'), 20 * MiB); // two parts
    await writeFile(join(dir, 'a', 'b', 'deep.bin'), 10);
    await writeFile(join(dir, 'a', 'b', 'zero'), 0);

    const dry = await cli(['sync', dir, 's3://cp-embedded/tree', '--dry-run'], env);
    expect(dry.code).toBe(0);
    expect(dry.events.filter((e) => e['event'] === 'plan').map((e) => [e['target'], e['reason']])).toEqual([
      ['s3://cp-embedded/tree/a/b/deep.bin', 'missing'],
      ['s3://cp-embedded/tree/a/b/zero', 'missing'],
      ['s3://cp-embedded/tree/a/mid.bin', 'missing'],
      ['s3://cp-embedded/tree/top.bin', 'missing'],
    ]);
    const first = await cli(['sync', dir, 's3://cp-embedded/tree'], env);
    expect(first.code).toBe(0);
    expect(first.events.at(-1)).toMatchObject({ event: 'summary', files: 4, bytes: 20 * MiB + 3010, unchanged: 0 });
    const again = await cli(['sync', dir, 's3://cp-embedded/tree/'], env);
    expect(again.events.at(-1)).toMatchObject({ event: 'summary', files: 0, unchanged: 4 });

    await writeFile(join(dir, 'top.bin'), 3001); // another size
    const later = new Date(Date.now() + 5000);
    await utimes(join(dir, 'a', 'b', 'deep.bin'), later, later); // newer than the object
    const changed = await cli(['sync', dir, 's3://cp-embedded/tree'], env);
    expect(changed.events.filter((e) => e['event'] === 'done').map((e) => [e['target'], e['reason']]).sort()).toEqual([
      ['s3://cp-embedded/tree/a/b/deep.bin', 'newer'],
      ['s3://cp-embedded/tree/top.bin', 'size'],
    ]);

    const back = join(work, 'tree-back');
    const down = await cli(['sync', 's3://cp-embedded/tree', back], env);
    expect(down.code).toBe(0);
    expect(down.events.at(-1)).toMatchObject({ event: 'summary', files: 4 });
    for (const rel of ['top.bin', 'a/mid.bin', 'a/b/deep.bin', 'a/b/zero']) expect({ rel, digest: await sha256File(join(back, rel)) }).toEqual({ rel, digest: await sha256File(join(dir, rel)) });
    expect((await cli(['sync', 's3://cp-embedded/tree', back], env)).events.at(-1)).toMatchObject({ event: 'summary', files: 0, unchanged: 4 });
  });
});

describe("through the deployed stack's request path (API Lambda handler behind an API Gateway stage)", () => {
  let gateway: LambdaGateway;
  let env: Record<string, string>;
  let hold: ((r: GatewayRecord) => { delayMs?: number; failWith?: number } | undefined) | undefined;
  beforeAll(async () => {
    gateway = await startLambdaGateway({ before: (r) => hold?.(r) });
    env = envFor(gateway, join(work, 'state-gateway'));
    await createBucket(gateway, 'cp-stack');
  });
  afterAll(async () => {
    await gateway.close();
  });
  beforeEach(() => {
    hold = undefined;
    gateway.records.length = 0;
  });

  it("GET /_sealstore/info states the stack's limits", async () => {
    const client = new S3Client({ endpoint: new URL(gateway.url), region: 'us-east-1', ...gateway.creds });
    try {
      expect((await client.admin('GET', '/info'))['limits']).toEqual({
        mode: 'lambda',
        maxObjectBytes: MAX_REQUEST_BODY_BYTES,
        maxPartBytes: MAX_REQUEST_BODY_BYTES,
        minPartBytes: MiB,
        maxParts: 10_000,
        maxDocumentBytes: LAMBDA_LIMITS.maxDocumentBytes,
        maxResponseBytes: 200_000_000,
        rangeChunkBytes: 5 * MiB,
      });
    } finally {
      client.close();
    }
  });

  it('round-trips a 30 MiB file in parts and ranges that each fit one invocation, retrying a part that failed', async () => {
    const file = join(work, 's30.bin');
    await writeFile(file, 30 * MiB + 7);
    let failed = false;
    hold = (r) => {
      if (r.query['partNumber'] === '3' && !failed) {
        failed = true;
        return { failWith: 502 };
      }
      return undefined;
    };
    const up = await cli(['cp', file, 's3://cp-stack/s30.bin'], env);
    expect(up.err).toBe(credentialsLine(env));
    expect(up.events.at(-1)).toMatchObject({ event: 'done', parts: 7, partSize: MAX_REQUEST_BODY_BYTES });
    const parts = uploadParts(gateway.records);
    expect(parts.map((r) => `${r.query['partNumber']}:${r.status}`).sort()).toEqual(['1:200', '2:200', '3:200', '3:502', '4:200', '5:200', '6:200', '7:200']);
    expect(Math.max(...gateway.records.map((r) => r.eventBytes))).toBeLessThanOrEqual(LAMBDA_INVOKE_PAYLOAD_BYTES);

    gateway.records.length = 0;
    const down = await cli(['cp', 's3://cp-stack/s30.bin', join(work, 's30.back'), '--concurrency', '3'], env);
    expect(down.code).toBe(0);
    const gets = gateway.records.filter((r) => r.method === 'GET' && !r.path.startsWith('/_sealstore'));
    expect(gets.map((r) => r.responseBytes)).toEqual([...Array<number>(6).fill(5 * MiB), 7]);
    expect(Math.max(...gets.map((r) => r.responseBytes))).toBe(5 * MiB);
    expect(await sha256File(join(work, 's30.back'))).toBe(await sha256File(file));
  });

  it('is as strict as the stack: a body past the limit is EntityTooLarge, one past the invocation payload never reaches the handler', async () => {
    const client = new S3Client({ endpoint: new URL(gateway.url), region: 'us-east-1', ...gateway.creds }, { attempts: 1 });
    try {
      await expect(client.call({ method: 'PUT', bucket: 'cp-stack', key: 'too-big', body: Buffer.alloc(MAX_REQUEST_BODY_BYTES + 1) })).rejects.toMatchObject({ status: 400, code: 'EntityTooLarge' });
      await expect(client.call({ method: 'PUT', bucket: 'cp-stack', key: 'too-big', body: Buffer.alloc(4_800_000) })).rejects.toMatchObject({ status: 413 });
      expect(gateway.records.at(-1)).toMatchObject({ status: 413 });
    } finally {
      client.close();
    }
  });

  it('resumes an upload killed mid-way and one stopped with Ctrl-C, sending each missing part once and no other', async () => {
    const file = join(work, 'resume.bin');
    await writeFile(file, 40 * MiB + 5); // 9 parts of 4,669,440 bytes
    const stateDir = join(work, 'state-resume');
    const renv = { ...env, SEALSTORE_TRANSFER_DIR: stateDir };
    hold = (r) => (r.query['partNumber'] !== undefined ? { delayMs: 250 } : undefined);
    const args = ['cp', file, 's3://cp-stack/resumed.bin', '--concurrency', '2'];
    const partsInState = async () => {
      const names = await readdir(stateDir).catch(() => [] as string[]);
      const name = names.find((n) => n.endsWith('.json'));
      if (!name) return 0;
      try {
        return Object.keys((JSON.parse(await readFile(join(stateDir, name), 'utf8')) as { parts: object }).parts).length;
      } catch {
        return 0;
      }
    };
    const runUntil = async (parts: number, signal: NodeJS.Signals): Promise<Run> => {
      const { child, done } = spawnCli(args, renv);
      while ((await partsInState()) < parts && child.exitCode === null) await new Promise((r) => setTimeout(r, 20));
      child.kill(signal);
      return done;
    };

    const killed = await runUntil(3, 'SIGKILL');
    expect(killed.code).toBe(137);
    const afterKill = uploadParts(gateway.records).filter((r) => r.status === 200).length;

    const stopped = await runUntil(afterKill + 2, 'SIGINT');
    expect(stopped.code).toBe(130);
    expect(stopped.events[0]).toMatchObject({ event: 'start', resumed: true, parts: 9 });
    expect(Number(stopped.events[0]?.['partsReused'])).toBeGreaterThanOrEqual(afterKill);
    expect(stopped.events.at(-1)).toMatchObject({ event: 'interrupted' });
    expect(stopped.err).toMatch(/interrupted: \d of 9 parts of .* are uploaded\nrun the same command again to resume: sealstore cp /);

    const finished = await spawnCli(args, renv).done;
    expect(finished.err).toBe(credentialsLine(renv));
    expect(finished.code).toBe(0);
    const done = finished.events.at(-1) ?? {};
    expect(done).toMatchObject({ event: 'done', parts: 9, resumed: true });
    expect(Number(done['partsReused'])).toBeGreaterThan(0);

    // Every part reached the store exactly once across the three runs: a resumed run sends only what is missing.
    const stored = uploadParts(gateway.records).filter((r) => r.status === 200).map((r) => Number(r.query['partNumber']));
    expect(stored.sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(await readdir(stateDir)).toEqual([]);
    hold = undefined;
    expect((await cli(['cp', 's3://cp-stack/resumed.bin', join(work, 'resumed.back')], env)).code).toBe(0);
    expect(await sha256File(join(work, 'resumed.back'))).toBe(await sha256File(file));
  });

  it('starts over when the source changed since the interrupted upload', async () => {
    const file = join(work, 'changing.bin');
    await writeFile(file, 12 * MiB);
    const controller = new AbortController();
    hold = (r) => {
      if (r.query['partNumber'] === '2') controller.abort();
      return r.query['partNumber'] !== undefined ? { delayMs: 50 } : undefined;
    };
    const first = await cli(['cp', file, 's3://cp-stack/changing.bin', '--concurrency', '1'], env, { signal: controller.signal });
    expect(first.code).toBe(130);
    hold = undefined;
    await writeFile(file, 11 * MiB);
    const second = await cli(['cp', file, 's3://cp-stack/changing.bin'], env);
    expect(second.events.find((e) => e['event'] === 'restart')).toMatchObject({ reason: expect.stringMatching(/source/) });
    expect(second.events.at(-1)).toMatchObject({ event: 'done', resumed: false, bytes: 11 * MiB });
    expect((await cli(['cp', 's3://cp-stack/changing.bin', join(work, 'changing.back')], env)).code).toBe(0);
    expect(await sha256File(join(work, 'changing.back'))).toBe(await sha256File(file));
  });

  describe('in a pseudo-terminal', () => {
    const runInPty = async (command: string[], env2: Record<string, string>): Promise<{ code: number; out: string } | string> => {
      const quoted = command.map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(' ');
      const childEnv = { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '/tmp', TERM: 'xterm', COLUMNS: '100', ...env2 };
      const via: [string, string[]] | undefined = (await has('script'))
        ? ['script', ['-qfec', quoted, '/dev/null']]
        : (await has('python3'))
        ? ['python3', ['-c', 'import pty,sys; sys.exit(pty.spawn(sys.argv[1:]) >> 8)', ...command]]
        : undefined;
      if (!via) return 'neither script (util-linux) nor python3 is installed';
      return new Promise((resolve) => {
        execFile(via[0], via[1], { env: childEnv, timeout: 60_000, maxBuffer: 16 * MiB }, (error, stdout) => {
          resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, out: stdout });
        });
      });
    };

    it('draws one line in place: bar, bytes, percent, throughput and ETA, then a summary', async () => {
      const file = join(work, 'tty.bin');
      await writeFile(file, 20 * MiB);
      hold = (r) => (r.query['partNumber'] !== undefined ? { delayMs: 300 } : undefined);
      const result = await runInPty([process.execPath, join(__dirname, '..', '..', 'bin', 'sealstore.js'), 'cp', file, 's3://cp-stack/tty.bin', '--concurrency', '2'], env);
      if (typeof result === 'string') {
        console.warn(`SKIPPED: the progress bar in a pseudo-terminal: ${result}`);
        return;
      }
      expect(result.code).toBe(0);
      expect(result.out).not.toMatch(/"event"/);
      const redraws = result.out.split('\r\x1b[K').slice(1);
      expect(redraws.length).toBeGreaterThanOrEqual(3);
      const mid = redraws.find((l) => /\[#*\.+\]/.test(l) && / [1-9]\d?% /.test(l));
      expect(mid).toMatch(/^tty\.bin \[[#.]+\] +\d+% [\d.]+ (MiB|KiB)\/20\.0 MiB [\d.]+ (B|KiB|MiB)\/s ETA (\d+s|--)/);
      expect(redraws.every((l) => l.split('\n')[0]!.length < 100)).toBe(true);
      expect(result.out).toMatch(/upload: .*tty\.bin → s3:\/\/cp-stack\/tty\.bin {2}20\.0 MiB in \d+s \([\d.]+ MiB\/s\), 5 parts/);
    });
  });
});
