// Both fronts run the same API code: the node:http server and the Lambda handler hand the same transport-neutral
// request to the S3 API that the composition root builds, so the same signed requests get the same answers, and
// the stack's request limit holds on both (the embedded server applies it with --lambda-limits).
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { HttpRequest } from '@smithy/protocol-http';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { openEmbeddedBackend, type EmbeddedBackend } from '../../lambdas/adapters/embedded';
import { composeStore } from '../../lambdas/compose-store';
import { LAMBDA_LIMITS, MAX_REQUEST_BODY_BYTES } from '../../lambdas/core/limits';
import { makeHandler, type ApiHandler } from '../../lambdas/handlers/api-handler';
import { s3Signer } from '../../lambdas/http/signer';
import { startServer, type RunningServer } from '../../local/server';
import { request as httpRequest } from 'node:http';
import { s3Path, send, signedHeaders } from '../support/signed-fetch';
import { testCreds } from '../support/embedded-target';

const creds = testCreds();
const signer = s3Signer({ credentials: creds, region: 'us-east-1' });

interface Call {
  readonly method: string;
  readonly path: string;
  readonly query?: Record<string, string>;
  readonly body?: Buffer;
}

interface Answer {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: Buffer;
}

/** Signs a call as an SDK would (signed payload hash) for the given host. */
async function signed(call: Call, host: string): Promise<{ headers: Record<string, string>; body: Buffer }> {
  const body = call.body ?? Buffer.alloc(0);
  const request = new HttpRequest({
    method: call.method,
    hostname: host.split(':')[0] ?? host,
    path: call.path,
    query: call.query ?? {},
    headers: { host, 'x-amz-content-sha256': createHash('sha256').update(body).digest('hex'), ...(body.length > 0 ? { 'content-length': String(body.length) } : {}) },
    body,
  });
  const out = await signer.sign(request, { signingDate: new Date() });
  return { headers: out.headers, body };
}

/**
 * The same call as API Gateway would hand it to the Lambda: path still encoded, body base64. With a `stage`, the
 * client signed `/<stage><path>` and the event's path lacks the stage (the request context's path has it).
 */
async function viaLambda(handler: ApiHandler, call: Call, stage?: string): Promise<Answer> {
  const host = 'abc123.execute-api.us-east-1.amazonaws.com';
  const { headers, body } = await signed(stage === undefined ? call : { ...call, path: `/${stage}${call.path}` }, host);
  const event = {
    httpMethod: call.method,
    path: call.path,
    resource: '/{proxy+}',
    headers,
    multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]])),
    queryStringParameters: call.query ?? null,
    multiValueQueryStringParameters: call.query ? Object.fromEntries(Object.entries(call.query).map(([k, v]) => [k, [v]])) : null,
    pathParameters: null,
    stageVariables: null,
    body: body.length > 0 ? body.toString('base64') : null,
    isBase64Encoded: body.length > 0,
    requestContext: { path: stage === undefined ? call.path : `/${stage}${call.path}`, stage: stage ?? 'prod' },
  } as unknown as APIGatewayProxyEvent;
  const response = await handler(event);
  const out = Buffer.isBuffer(response.body) ? response.body : Buffer.concat(await Readable.from(response.body).toArray());
  return { status: response.statusCode, headers: { ...response.headers }, body: out };
}

async function viaHttp(server: RunningServer, call: Call): Promise<Answer> {
  const host = new URL(server.url).host;
  const { headers, body } = await signed(call, host);
  const qs = new URLSearchParams(call.query ?? {}).toString();
  const res = await send(server.url, call.method, qs ? `${call.path}?${qs}` : call.path, headers, body);
  const flat: Record<string, string> = {};
  for (const [k, v] of Object.entries(res.headers)) if (typeof v === 'string') flat[k] = v;
  return { status: res.status, headers: flat, body: res.body };
}

/** What must agree between the fronts: status, the S3 headers, and the body with request ids taken out. */
function comparable(a: Answer): unknown {
  const keep = ['content-type', 'etag', 'x-amz-server-side-encryption', 'content-range', 'accept-ranges'];
  const headers = Object.fromEntries(keep.filter((k) => a.headers[k] !== undefined).map((k) => [k, k === 'etag' ? 'ETAG' : a.headers[k]]));
  const body = a.body
    .toString('utf8')
    .replace(/<RequestId>[^<]*<\/RequestId>/g, '<RequestId/>')
    .replace(/<LastModified>[^<]*<\/LastModified>/g, '<LastModified/>')
    .replace(/<ETag>[^<]*<\/ETag>/g, '<ETag/>')
    .replace(/<CreationDate>[^<]*<\/CreationDate>/g, '<CreationDate/>');
  return { status: a.status, headers, body };
}

describe('the node:http front and the Lambda front', () => {
  let dirs: string[] = [];
  let lambdaPorts: EmbeddedBackend;
  let handler: ApiHandler;
  let server: RunningServer;

  beforeAll(async () => {
    const [a, b] = await Promise.all([mkdtemp(join(tmpdir(), 'sealstore-front-l-')), mkdtemp(join(tmpdir(), 'sealstore-front-h-'))]);
    dirs = [a, b];
    // The API Lambda's composition (lambdas/handlers/api.ts), over embedded ports instead of AWS ones.
    lambdaPorts = await openEmbeddedBackend(a);
    handler = makeHandler(composeStore(lambdaPorts, creds, { region: 'us-east-1', limits: { limits: LAMBDA_LIMITS } }).api);
    server = await startServer({ backend: await openEmbeddedBackend(b), credentials: creds, lambdaLimits: true });
  });
  afterAll(async () => {
    await server?.close();
    await lambdaPorts?.close();
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('answer the same sequence of signed requests the same way', async () => {
    const body = randomBytes(70_000);
    const calls: Call[] = [
      { method: 'PUT', path: '/fronts' },
      { method: 'PUT', path: s3Path('fronts', 'dir/a b+ü.bin'), body },
      { method: 'GET', path: s3Path('fronts', 'dir/a b+ü.bin') },
      { method: 'HEAD', path: s3Path('fronts', 'dir/a b+ü.bin') },
      { method: 'GET', path: '/fronts', query: { 'list-type': '2', prefix: 'dir/' } },
      { method: 'GET', path: s3Path('fronts', 'missing') },
      { method: 'PUT', path: '/Not_A_Bucket' },
      { method: 'DELETE', path: s3Path('fronts', 'dir/a b+ü.bin') },
      { method: 'GET', path: s3Path('fronts', 'dir/a b+ü.bin') },
    ];
    for (const call of calls) {
      const lambda = await viaLambda(handler, call);
      const http = await viaHttp(server, call);
      expect({ call: `${call.method} ${call.path}`, answer: comparable(http) }).toEqual({ call: `${call.method} ${call.path}`, answer: comparable(lambda) });
    }
    const got = await viaLambda(handler, { method: 'GET', path: s3Path('fronts', 'missing') });
    expect(got.status).toBe(404);
  });

  it('the Lambda front verifies a signature made over the stage path, keys that need encoding included', async () => {
    const body = Buffer.from('through the stage');
    for (const key of ['k', 'dir/hello world+ü.bin', 'a=b', "x*y (z)!~'"]) {
      const put = await viaLambda(handler, { method: 'PUT', path: s3Path('fronts', key), body }, 'prod');
      expect({ key, status: put.status, body: put.status === 200 ? '' : put.body.toString() }).toEqual({ key, status: 200, body: '' });
      const got = await viaLambda(handler, { method: 'GET', path: s3Path('fronts', key) }, 'prod');
      expect({ key, body: got.body.toString() }).toEqual({ key, body: 'through the stage' });
    }
  });

  it('both refuse a body one byte over what API Gateway carries, naming the limit, and take one at the limit', async () => {
    const over = Buffer.alloc(MAX_REQUEST_BODY_BYTES + 1, 1);
    const atLimit = Buffer.alloc(MAX_REQUEST_BODY_BYTES, 2);
    const lambda = await viaLambda(handler, { method: 'PUT', path: s3Path('fronts', 'big'), body: over });
    const http = await viaHttp(server, { method: 'PUT', path: s3Path('fronts', 'big'), body: over });
    for (const answer of [lambda, http]) {
      expect(answer.status).toBe(400);
      expect(answer.body.toString()).toContain('<Code>EntityTooLarge</Code>');
      expect(answer.body.toString()).toContain(
        `Your proposed upload of 4669441 bytes exceeds the 4669440-byte limit of one request through API Gateway and Lambda`,
      );
      expect(answer.body.toString()).toContain('multipart upload in parts of 1048576 to 4669440 bytes');
      expect(answer.body.toString()).toContain('<MaxSizeAllowed>4669440</MaxSizeAllowed><ProposedSize>4669441</ProposedSize>');
    }
    // The embedded server says why it applies the stack's limit; the Lambda, behind API Gateway, need not.
    expect(http.body.toString()).toContain('this server applies it because it runs with --lambda-limits');
    expect(lambda.body.toString()).not.toContain('--lambda-limits');
    expect((await viaLambda(handler, { method: 'PUT', path: s3Path('fronts', 'at-limit'), body: atLimit })).status).toBe(200);
    expect((await viaHttp(server, { method: 'PUT', path: s3Path('fronts', 'at-limit'), body: atLimit })).status).toBe(200);
  });

  it('a body that declares no length is cut off at the limit, and its EntityTooLarge does not pass the cut-off count as ProposedSize', async () => {
    // Transfer-Encoding: chunked, UNSIGNED-PAYLOAD: nothing tells the server the size before it has read past the limit.
    const headers = await signedHeaders(server.url, creds, { method: 'PUT', path: s3Path('fronts', 'streamed'), unsignedPayload: true, headers: { 'transfer-encoding': 'chunked' } });
    const url = new URL(server.url);
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpRequest({ host: url.hostname, port: url.port, method: 'PUT', path: s3Path('fronts', 'streamed'), headers });
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
      });
      // The server may answer and close while the rest is still being sent.
      req.on('error', (e: NodeJS.ErrnoException) => (e.code === 'EPIPE' || e.code === 'ECONNRESET' ? undefined : reject(e)));
      const piece = Buffer.alloc(256 * 1024, 3);
      let sent = 0;
      const more = () => {
        while (sent <= MAX_REQUEST_BODY_BYTES + piece.length) {
          sent += piece.length;
          if (!req.write(piece)) return void req.once('drain', more);
        }
        req.end();
      };
      more();
    });
    expect(answer.status).toBe(400);
    expect(answer.body).toContain('<Code>EntityTooLarge</Code>');
    expect(answer.body).toContain(`Your proposed upload of more than ${MAX_REQUEST_BODY_BYTES} bytes (the request declared no length) exceeds`);
    expect(answer.body).toContain(`<MaxSizeAllowed>${MAX_REQUEST_BODY_BYTES}</MaxSizeAllowed>`);
    expect(answer.body).not.toContain('<ProposedSize>');
    expect((await viaHttp(server, { method: 'GET', path: s3Path('fronts', 'streamed') })).status).toBe(404);
  });

  it('are both built by the composition root, and nothing else builds an S3 API', async () => {
    const source = (p: string) => readFile(join(__dirname, '../..', p), 'utf8');
    const lambdaEntry = await source('lambdas/handlers/api.ts');
    const localServer = await source('local/server.ts');
    expect(lambdaEntry).toMatch(/composeStore\(/);
    expect(lambdaEntry).toMatch(/makeHandler\(store\.api\)/);
    expect(localServer).toMatch(/composeStore\(/);
    expect(localServer).toMatch(/serveHttp\(store\.api,/);
    for (const file of ['lambdas/handlers/api.ts', 'lambdas/handlers/api-handler.ts', 'local/server.ts', 'local/http-front.ts', 'bin/server.ts']) {
      expect({ file, buildsItsOwnApi: /makeS3Api\(|OPERATIONS\[/.test(await source(file)) }).toEqual({ file, buildsItsOwnApi: false });
    }
  });
});
