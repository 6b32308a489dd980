// The deployed stack's request path on a loopback port: an HTTP front that does what API Gateway (REST, proxy
// integration, stage `prod`) does before and after the API Lambda — buffer the whole request body, hand it base64
// in a proxy event that may not exceed Lambda's 6 MiB invocation payload (413 otherwise), strip the stage from the
// path, then stream the handler's answer back, cut at Lambda's 200 MB streamed-response limit — around the API
// Lambda's own composition (lambdas/handlers/api.ts: LAMBDA_LIMITS, makeHandler) over embedded ports.
// It records every request, so tests can check what a client sent and how large each event and answer was.
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { openEmbeddedBackend } from '../../lambdas/adapters/embedded';
import { composeStore, type Store } from '../../lambdas/compose-store';
import { LAMBDA_LIMITS, LAMBDA_MAX_RESPONSE_BYTES } from '../../lambdas/core/limits';
import { makeHandler } from '../../lambdas/handlers/api-handler';
import { testCreds } from './embedded-target';

/** A synchronous Lambda invocation's payload limit (the event as JSON). */
export const LAMBDA_INVOKE_PAYLOAD_BYTES = 6 * 1024 * 1024;

export interface GatewayRecord {
  readonly method: string;
  readonly path: string;
  readonly query: Record<string, string>;
  readonly requestBytes: number;
  readonly eventBytes: number;
  status: number;
  responseBytes: number;
}

export interface GatewayOptions {
  readonly stage?: string;
  /** Runs before each request reaches the handler: a delay (ms) to hold it, or a status to answer instead (a fault). */
  readonly before?: (r: GatewayRecord) => { delayMs?: number; failWith?: number } | undefined;
}

export interface LambdaGateway {
  /** The endpoint a client uses, stage included (http://127.0.0.1:port/prod). */
  readonly url: string;
  readonly creds: { accessKeyId: string; secretAccessKey: string };
  readonly store: Store;
  readonly records: GatewayRecord[];
  close(): Promise<void>;
}

export async function startLambdaGateway(options: GatewayOptions = {}): Promise<LambdaGateway> {
  const stage = options.stage ?? 'prod';
  const dataDir = await mkdtemp(join(tmpdir(), 'sealstore-gateway-'));
  const ports = await openEmbeddedBackend(dataDir);
  const creds = testCreds();
  const store = composeStore(ports, creds, { region: 'us-east-1', limits: { limits: LAMBDA_LIMITS } });
  await store.indexKey.get({ create: true });
  const handle = makeHandler(store.api);
  const records: GatewayRecord[] = [];

  const serve = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://gateway');
    const rawPath = (req.url ?? '/').split('?')[0] ?? '/';
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const c of req) {
      size += (c as Buffer).length;
      // API Gateway's own payload limit; Lambda's is lower and checked on the event below.
      if (size > 10 * 1024 * 1024) {
        res.writeHead(413, { 'content-type': 'application/json', connection: 'close' }).end('{"message":"Request Too Long"}');
        req.destroy();
        return;
      }
      chunks.push(c as Buffer);
    }
    const body = Buffer.concat(chunks);
    if (rawPath !== `/${stage}` && !rawPath.startsWith(`/${stage}/`)) {
      res.writeHead(403, { 'content-type': 'application/json' }).end('{"message":"Missing Authentication Token"}');
      return;
    }
    const path = rawPath.slice(stage.length + 1) || '/';
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(',') : v;
    const query: Record<string, string> = {};
    for (const [k, v] of url.searchParams) query[k] = v;
    const event = {
      httpMethod: req.method ?? 'GET',
      path,
      resource: '/{proxy+}',
      headers,
      multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]])),
      queryStringParameters: Object.keys(query).length > 0 ? query : null,
      multiValueQueryStringParameters: Object.keys(query).length > 0 ? Object.fromEntries(Object.entries(query).map(([k, v]) => [k, [v]])) : null,
      pathParameters: null,
      stageVariables: null,
      body: body.length > 0 ? body.toString('base64') : null,
      isBase64Encoded: body.length > 0,
      requestContext: { path: rawPath, stage },
    };
    // As JSON, without building a second copy of a 6 MB body: base64 needs no escaping, so the body adds its
    // length plus two quotes where `null` stood.
    const eventBytes = Buffer.byteLength(JSON.stringify({ ...event, body: null })) + (event.body === null ? 0 : event.body.length + 2 - 4);
    const record: GatewayRecord = { method: event.httpMethod, path, query, requestBytes: body.length, eventBytes, status: 0, responseBytes: 0 };
    records.push(record);
    if (eventBytes > LAMBDA_INVOKE_PAYLOAD_BYTES) {
      record.status = 413;
      res.writeHead(413, { 'content-type': 'application/json' }).end('{"message":"Request Too Long"}');
      return;
    }
    const fault = options.before?.(record);
    if (fault?.delayMs) await new Promise((r) => setTimeout(r, fault.delayMs));
    if (fault?.failWith) {
      record.status = fault.failWith;
      res.writeHead(fault.failWith, { 'content-type': 'application/json' }).end('{"message":"Internal server error"}');
      return;
    }
    const answer = await handle(event as unknown as APIGatewayProxyEvent);
    record.status = answer.statusCode;
    res.writeHead(answer.statusCode, { ...answer.headers });
    const out = Buffer.isBuffer(answer.body) ? Readable.from([answer.body]) : answer.body;
    for await (const c of out) {
      record.responseBytes += (c as Buffer).length;
      if (record.responseBytes > LAMBDA_MAX_RESPONSE_BYTES) {
        res.destroy();
        return;
      }
      if (!res.write(c)) await new Promise((r) => res.once('drain', r));
    }
    res.end();
  };
  const server = createServer((req, res) => {
    serve(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'application/json' }).end('{"message":"Internal server error"}');
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/${stage}`,
    creds,
    store,
    records,
    close: async () => {
      await new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      });
      await store.service.settle();
      await ports.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
