// The node:http front's own duties: a connection stays usable after a small body was refused part-way, and the
// spool directory (bodies held while their undeclared hash is checked) belongs to the server, start to close.
import { mkdtemp, mkdir, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openEmbeddedBackend } from '../../lambdas/adapters/embedded';
import { startServer, type RunningServer } from '../../local/server';
import { testCreds } from '../support/embedded-target';
import { s3Path, signedHeaders, signedRequest } from '../support/signed-fetch';

const creds = testCreds();

/** Collects what the server writes on one socket; `until` waits for a pattern to have arrived. */
function recorder(socket: Socket): { until(pattern: RegExp, timeoutMs: number): Promise<string> } {
  let seen = '';
  const waiters: Array<() => void> = [];
  socket.on('data', (d: Buffer) => {
    seen += d.toString('latin1');
    for (const w of waiters.splice(0)) w();
  });
  return {
    until: (pattern, timeoutMs) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no ${String(pattern)} within ${timeoutMs} ms; got:\n${seen}`)), timeoutMs);
        const check = () => {
          if (pattern.test(seen)) {
            clearTimeout(timer);
            resolve(seen);
          } else waiters.push(check);
        };
        check();
      }),
  };
}

describe('the node:http front', () => {
  let dir: string;
  let server: RunningServer;
  let spoolDir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sealstore-front-'));
    spoolDir = join(dir, 'spool');
    // What a crashed server left in its spool directory.
    await mkdir(spoolDir);
    await writeFile(join(spoolDir, 'spool-left-by-a-crash'), 'stale');
    server = await startServer({ backend: await openEmbeddedBackend(join(dir, 'data')), credentials: creds, spoolDir });
    expect((await signedRequest(server.url, creds, { method: 'PUT', path: '/front' })).status).toBe(200);
  });
  afterAll(async () => {
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('empties the spool directory at start and leaves no spooled body behind a request', async () => {
    const body = Buffer.alloc(200_000, 7);
    const put = await signedRequest(server.url, creds, { method: 'PUT', path: s3Path('front', 'curl-style'), body, omitContentSha256: true });
    expect(put.status).toBe(200);
    const left = await readdir(spoolDir).catch(() => []);
    expect(left).toEqual([]);
  });

  it('keeps a keep-alive connection usable after refusing a small body part-way', async () => {
    // A 60,000-byte aws-chunked body whose first chunk header is malformed: refused after its first bytes, while
    // more than Node's 16 KiB read buffer of it is still to come. The rest must be read and dropped, or the next
    // request on the connection waits behind it until the socket times out.
    const length = 60_000;
    const headers = await signedHeaders(server.url, creds, {
      method: 'PUT',
      path: s3Path('front', 'chunked'),
      omitContentSha256: true,
      headers: { 'x-amz-content-sha256': 'STREAMING-UNSIGNED-PAYLOAD-TRAILER', 'content-encoding': 'aws-chunked', 'x-amz-decoded-content-length': '10' },
    });
    const { port } = new URL(server.url);
    const socket = connect(Number(port), '127.0.0.1');
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    const seen = recorder(socket);
    try {
      const head = [`PUT ${s3Path('front', 'chunked')} HTTP/1.1`, ...Object.entries({ ...headers, 'content-length': String(length) }).map(([k, v]) => `${k}: ${v}`), '', ''].join('\r\n');
      socket.write(head);
      socket.write('zz;not-a-size\r\n');
      await seen.until(/HTTP\/1\.1 400[\s\S]*<\/Error>/, 10_000);
      socket.write(Buffer.alloc(length - 'zz;not-a-size\r\n'.length, 0x61));
      const list = await signedHeaders(server.url, creds, { method: 'GET', path: '/front' });
      socket.write([`GET /front HTTP/1.1`, ...Object.entries(list).map(([k, v]) => `${k}: ${v}`), '', ''].join('\r\n'));
      const all = await seen.until(/<ListBucketResult[\s\S]*<\/ListBucketResult>/, 10_000);
      expect(all).toMatch(/HTTP\/1\.1 200 OK/);
    } finally {
      socket.destroy();
    }
  });

  it('removes its spool directory at close', async () => {
    const own = await mkdtemp(join(tmpdir(), 'sealstore-front-own-'));
    const spool = join(own, 'spool');
    const s = await startServer({ backend: await openEmbeddedBackend(join(own, 'data')), credentials: creds, spoolDir: spool });
    try {
      await signedRequest(s.url, creds, { method: 'PUT', path: '/own' });
      await signedRequest(s.url, creds, { method: 'PUT', path: s3Path('own', 'k'), body: Buffer.from('held while hashed'), omitContentSha256: true });
    } finally {
      await s.close();
    }
    await expect(stat(spool)).rejects.toMatchObject({ code: 'ENOENT' });
    await rm(own, { recursive: true, force: true });
  });
});
