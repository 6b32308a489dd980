// The embedded server's front: a node:http request becomes the transport-neutral S3 request, its socket stream
// passed straight through as the body (no buffering, no base64), and the API's response goes back out streamed.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { PassThrough, type Readable } from 'node:stream';
import { errorResponse, type ApiResponse } from '../lambdas/api/response';
import type { S3Api } from '../lambdas/api/s3-api';
import { ClientDisconnectedError } from '../lambdas/core/errors';
import { newRequestId } from '../lambdas/core/ids';
import type { Logger } from '../lambdas/core/logger';
import { decodePath, emptyMap, lookup, type RequestBody, type S3Request } from '../lambdas/http/request';
import { addressingOf, unknownHostError } from '../lambdas/http/virtual-host';

/** An unread body up to this size is read and discarded so the connection can be reused; a larger one closes it. */
const DRAIN_LIMIT = 64 * 1024;

interface BodyState {
  opened: boolean;
  ended: boolean;
}

export interface FrontOptions {
  readonly logger: Logger;
  /** Domains whose subdomains name buckets (virtual-hosted style); see lambdas/http/virtual-host.ts. */
  readonly domains: readonly string[];
}

/** Serves one request; `expectContinue` when the client waits for 100 Continue before it sends the body. */
export async function serveHttp(api: S3Api, req: IncomingMessage, res: ServerResponse, options: FrontOptions, expectContinue = false): Promise<void> {
  const { logger } = options;
  const state: BodyState = { opened: false, ended: false };
  let response: ApiResponse;
  try {
    const { request, canonicalPath } = requestFrom(req, res, state, expectContinue, options.domains);
    response = await api(request, canonicalPath === undefined ? {} : { canonicalPath });
  } catch (e) {
    // The front's own refusals (a malformed URI); the API renders everything else itself.
    response = errorResponse(e, req.url ?? '/', newRequestId(), req.method ?? 'GET');
  }
  const headers: Record<string, string> = { ...response.headers };
  if (!state.ended && !req.complete && !drainable(req)) {
    // The body was refused unread (or only partly read): do not read gigabytes to keep a connection alive.
    // A small rest is read and dropped (test/blackbox/http-front.test.ts keeps that connection usable).
    headers['connection'] = 'close';
  }
  const isHead = req.method === 'HEAD';
  if (Buffer.isBuffer(response.body)) {
    if (headers['content-length'] === undefined) headers['content-length'] = String(response.body.length);
    res.writeHead(response.statusCode, headers);
    res.end(isHead ? undefined : response.body);
    return;
  }
  res.writeHead(response.statusCode, headers);
  if (isHead) {
    response.body.destroy();
    res.end();
    return;
  }
  await pipeBody(response.body, res, logger);
}

function drainable(req: IncomingMessage): boolean {
  const declared = Number(req.headers['content-length'] ?? 'NaN');
  return Number.isFinite(declared) && declared <= DRAIN_LIMIT;
}

/** Streams a body out; if the source fails mid-way (tampering found), the connection is cut, never padded. */
function pipeBody(body: Readable, res: ServerResponse, logger: Logger): Promise<void> {
  return new Promise((resolve) => {
    body.on('error', (e) => {
      logger.error('response stream failed; connection aborted', { error: String(e) });
      res.destroy();
      resolve();
    });
    res.on('close', () => {
      body.destroy();
      resolve();
    });
    body.pipe(res);
  });
}

/**
 * The S3 request, path style whatever the client used: a virtual-hosted request's bucket moves from the Host into
 * the path, and the path it signed is kept as its canonical path.
 */
function requestFrom(
  req: IncomingMessage,
  res: ServerResponse,
  state: BodyState,
  expectContinue: boolean,
  domains: readonly string[],
): { request: S3Request; canonicalPath?: string } {
  const rawUrl = req.url ?? '/';
  const q = rawUrl.indexOf('?');
  const query: Record<string, string> = emptyMap();
  if (q >= 0) {
    for (const pair of rawUrl.slice(q + 1).split('&')) {
      if (pair === '') continue;
      const eq = pair.indexOf('=');
      query[decodeQuery(eq < 0 ? pair : pair.slice(0, eq))] = eq < 0 ? '' : decodeQuery(pair.slice(eq + 1));
    }
  }
  const headers: Record<string, string> = emptyMap();
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = (req.rawHeaders[i] ?? '').toLowerCase();
    const value = req.rawHeaders[i + 1] ?? '';
    headers[name] = headers[name] === undefined ? value : `${headers[name]},${value}`;
  }
  const path = decodePath(q < 0 ? rawUrl : rawUrl.slice(0, q));
  const request = (at: string): S3Request => ({ method: (req.method ?? 'GET').toUpperCase(), path: at, query, headers, body: bodyOf(req, res, state, expectContinue) });
  const addressing = addressingOf(lookup(headers, 'host'), domains);
  switch (addressing.style) {
    case 'path':
      return { request: request(path) };
    case 'virtual':
      return { request: request(`/${addressing.bucket}${path.startsWith('/') ? path : `/${path}`}`), canonicalPath: path };
    case 'unknown':
      throw unknownHostError(addressing.host, domains);
  }
}

function bodyOf(req: IncomingMessage, res: ServerResponse, state: BodyState, expectContinue: boolean): RequestBody {
  const lengthHeader = req.headers['content-length'];
  const declaredLength = lengthHeader !== undefined ? Number(lengthHeader) : req.headers['transfer-encoding'] !== undefined ? undefined : 0;
  return {
    declaredLength,
    open: () => {
      if (state.opened) throw new Error('the request body was already opened');
      state.opened = true;
      // Only now, with the signature checked, is the client asked for the body.
      if (expectContinue) res.writeContinue();
      // A stage between the socket and the API: destroying it (an error mid-upload) stops reading without
      // destroying the socket, so the error can still be answered.
      const body = new PassThrough();
      req.on('aborted', () => body.destroy(new ClientDisconnectedError('The client closed the connection before the body was complete.')));
      req.on('error', (e) => body.destroy(new ClientDisconnectedError(`The request body could not be read: ${e.message}`)));
      req.on('end', () => {
        state.ended = true;
      });
      req.pipe(body);
      return body;
    },
  };
}

/** '+' means space in query strings; a malformed escape is kept literally, as API Gateway does. */
function decodeQuery(s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    return s;
  }
}
