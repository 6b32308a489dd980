// `npm start` (bin/server.ts, a real child process) under Ctrl-C and impatient clients: SIGINT lets an upload in
// flight finish and be stored, a second SIGINT exits at once, and a client that hangs up mid-upload is routine
// (info), not an error an operator must act on.
import { CreateBucketCommand, GetBucketTaggingCommand, GetObjectCommand } from '@aws-sdk/client-s3';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { request, type ClientRequest, type IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { s3Client } from './s3-suite';
import { exitOf, startServerProcess, type ServerProcess } from '../support/server-process';
import { s3Path, signedHeaders } from '../support/signed-fetch';

const creds = { accessKeyId: 'SHUTDOWNROOT', secretAccessKey: randomBytes(24).toString('hex') };
const BUCKET = 'shutdown';

const started: ServerProcess[] = [];

/** Resolves once the process has printed `text` (it may have already); fails with what it did print otherwise. */
function printed(server: ServerProcess, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (error?: Error) => {
      server.child.stdout!.off('data', check);
      server.child.stderr!.off('data', check);
      server.child.off('exit', gone);
      clearTimeout(timer);
      if (error) reject(error);
      else resolve();
    };
    const check = () => {
      if (server.output().includes(text)) done();
    };
    const gone = () => done(new Error(`exited before printing ${JSON.stringify(text)}:\n${server.output()}`));
    const timer = setTimeout(() => done(new Error(`never printed ${JSON.stringify(text)}:\n${server.output()}`)), 20_000);
    server.child.stdout!.on('data', check);
    server.child.stderr!.on('data', check);
    server.child.once('exit', gone);
    check();
  });
}

/**
 * A PUT whose body the test sends itself: resolves once the server has authenticated it and asked for the body
 * (100 Continue), so the request is certainly in flight in the server.
 */
async function beginUpload(url: string, key: string, length: number): Promise<{ req: ClientRequest; response: Promise<IncomingMessage> }> {
  const path = s3Path(BUCKET, key);
  const headers = await signedHeaders(url, creds, { method: 'PUT', path, unsignedPayload: true, headers: { expect: '100-continue', 'content-length': String(length) } });
  const { hostname, port } = new URL(url);
  const req = request({ host: hostname, port: Number(port), method: 'PUT', path, headers });
  const response = new Promise<IncomingMessage>((resolve, reject) => {
    req.once('response', resolve);
    req.once('error', reject);
  });
  response.catch(() => undefined); // some cases expect it to fail; they await it themselves
  await new Promise<void>((resolve, reject) => {
    req.once('continue', () => resolve());
    req.once('error', reject);
    req.flushHeaders();
  });
  return { req, response };
}

describe('npm start: shutting down and hung-up clients', () => {
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'sealstore-shutdown-'));
  });
  afterEach(() => {
    // A failed case must not leave its server holding the data directory.
    for (const server of started.splice(0)) if (server.child.exitCode === null) server.child.kill('SIGKILL');
  });
  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });
  const env = () => ({ SEALSTORE_DATA_DIR: dataDir, SEALSTORE_ACCESS_KEY_ID: creds.accessKeyId, SEALSTORE_SECRET_ACCESS_KEY: creds.secretAccessKey });
  const body = randomBytes(3 * 1024 * 1024);

  it('logs a client that hangs up mid-upload at info, finishes an upload in flight on SIGINT, and stores it', async () => {
    const server = await startServerProcess(['--verbose'], env());
    started.push(server);
    const s3 = s3Client({ url: server.url, creds });
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));

    // A client that gives up half way: routine for a server, so no error-level line.
    const abandoned = await beginUpload(server.url, 'abandoned.bin', body.length);
    abandoned.req.write(body.subarray(0, body.length / 2));
    abandoned.req.destroy();
    await printed(server, '"message":"client disconnected mid-request"');
    // A client asking for what the store does not do (501) is the client's to act on: info, not error.
    await expect(s3.send(new GetBucketTaggingCommand({ Bucket: BUCKET }))).rejects.toMatchObject({ name: 'NotImplemented' });

    // Ctrl-C during an upload: the server stops accepting, the upload finishes and is answered 200.
    const upload = await beginUpload(server.url, 'in-flight.bin', body.length);
    upload.req.write(body.subarray(0, 1024 * 1024));
    const exited = exitOf(server.child);
    server.child.kill('SIGINT');
    await printed(server, 'SIGINT: not accepting new connections; finishing 1 request in flight (up to 10 s; Ctrl-C again to exit now)\n');
    upload.req.end(body.subarray(1024 * 1024));
    expect((await upload.response).statusCode).toBe(200);
    expect(await exited).toBe(0);
    expect(server.output()).toContain('\nclosed\n');
    s3.destroy();

    const lines = server.output().split('\n').filter((l) => l.startsWith('{'));
    const levels = lines.map((l) => JSON.parse(l) as { level: string; message: string; error?: string });
    expect(levels.filter((l) => l.level === 'error')).toEqual([]);
    const disconnect = levels.find((l) => l.message === 'client disconnected mid-request');
    expect(disconnect).toMatchObject({ level: 'info' });
    expect(levels.find((l) => (l as { code?: string }).code === 'NotImplemented')).toMatchObject({ level: 'info', message: 'request failed' });
    expect(JSON.stringify(disconnect)).not.toContain('    at '); // no stack for a routine event
  }, 90_000);

  it('has stored the upload that SIGINT let finish; a second SIGINT exits at once, cutting what is in flight', async () => {
    const server = await startServerProcess([], env());
    started.push(server);
    const s3 = s3Client({ url: server.url, creds });
    const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'in-flight.bin' }));
    expect(Buffer.from(await got.Body!.transformToByteArray()).equals(body)).toBe(true);
    s3.destroy();

    const upload = await beginUpload(server.url, 'cut.bin', body.length);
    upload.req.write(body.subarray(0, 1024));
    const exited = exitOf(server.child);
    server.child.kill('SIGINT');
    await printed(server, 'Ctrl-C again to exit now');
    server.child.kill('SIGINT');
    expect(await exited).toBe(130);
    expect(server.output()).toContain('SIGINT again: exiting now, cutting 1 request in flight\n');
    await expect(upload.response).rejects.toThrow();
  }, 60_000);
});
