// Test helper: a loopback HTTP server that records raw requests as S3Request values and answers with canned responses.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RawRequest as S3Request } from './verify';

export interface CannedResponse {
  readonly status: number;
  readonly headers?: Record<string, string>;
  readonly body?: string;
}

export interface CaptureServer {
  readonly endpoint: string;
  readonly requests: S3Request[];
  /** What the next requests get; defaults to 200 with an empty body. */
  respondWith(responder: (req: S3Request) => CannedResponse): void;
  close(): Promise<void>;
}

/** The request as an S3 front end would hand it over: decoded path and query, lower-case joined headers, raw body. */
export function toS3Request(message: IncomingMessage, body: Buffer): S3Request {
  const url = message.url ?? '/';
  const q = url.indexOf('?');
  const rawPath = q < 0 ? url : url.slice(0, q);
  const query: Record<string, string> = {};
  if (q >= 0) {
    for (const pair of url.slice(q + 1).split('&')) {
      if (pair === '') continue;
      const eq = pair.indexOf('=');
      const name = decodeURIComponent(eq < 0 ? pair : pair.slice(0, eq));
      query[name] = eq < 0 ? '' : decodeURIComponent(pair.slice(eq + 1));
    }
  }
  const headers: Record<string, string> = {};
  for (let i = 0; i < message.rawHeaders.length; i += 2) {
    const name = (message.rawHeaders[i] ?? '').toLowerCase();
    const value = message.rawHeaders[i + 1] ?? '';
    headers[name] = headers[name] === undefined ? value : `${headers[name]},${value}`;
  }
  return { method: (message.method ?? 'GET').toUpperCase(), path: decodeURIComponent(rawPath), query, headers, body };
}

export async function startCaptureServer(): Promise<CaptureServer> {
  const requests: S3Request[] = [];
  let responder: (req: S3Request) => CannedResponse = () => ({ status: 200 });
  const server: Server = createServer((message, res) => {
    const parts: Buffer[] = [];
    message.on('data', (chunk: Buffer) => parts.push(chunk));
    message.on('end', () => {
      const req = toS3Request(message, Buffer.concat(parts));
      requests.push(req);
      const canned = responder(req);
      res.writeHead(canned.status, canned.headers ?? {});
      res.end(canned.body ?? '');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    respondWith(next) {
      responder = next;
    },
    close: () => new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve()))),
  };
}
