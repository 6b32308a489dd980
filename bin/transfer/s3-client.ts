// A small S3 client for `sealstore cp` and `sync`: SigV4-signed requests over node:http(s) with a keep-alive agent,
// the endpoint's base path kept (a deployed stack's stage, …/prod), bodies streamed from file ranges with their
// SHA-256 signed, and each request retried on network errors and 5xx. No SDK: the transfer code needs exact
// control over bodies, progress, aborts and retries, and the same signer the admin CLI and the server use.
import { HttpRequest } from '@smithy/protocol-http';
import { createHash } from 'node:crypto';
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { Readable } from 'node:stream';
import { s3Signer } from '../../lambdas/http/signer';

export interface Endpoint {
  readonly endpoint: URL;
  readonly region: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

/** An S3 error answer (or a transport failure, code 'NetworkError', status 0). */
export class S3Error extends Error {
  constructor(readonly code: string, message: string, readonly status: number) {
    super(message);
  }
  /** Worth another attempt: the network, a 5xx, throttling, a request the server timed out. */
  get retryable(): boolean {
    return this.status === 0 || this.status >= 500 || this.status === 429 || ['RequestTimeout', 'SlowDown', 'InternalError'].includes(this.code);
  }
}

/** Thrown when the caller's AbortSignal fires (Ctrl-C). */
export class AbortedError extends Error {
  constructor() {
    super('interrupted');
  }
}

export interface RequestBody {
  readonly length: number;
  readonly sha256: string;
  /** A fresh stream of the same bytes for each attempt. */
  open(): Readable;
}

export interface S3Call {
  readonly method: 'GET' | 'PUT' | 'POST' | 'HEAD' | 'DELETE';
  readonly bucket?: string;
  readonly key?: string;
  readonly query?: Readonly<Record<string, string>>;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: Buffer | RequestBody;
  /** Bytes of the request body as they leave (progress); negative to take back an attempt that failed. */
  readonly onSent?: (bytes: number) => void;
}

export interface S3Response {
  readonly status: number;
  readonly headers: IncomingMessage['headers'];
}

export interface ClientOptions {
  readonly signal?: AbortSignal;
  /** Attempts per request, the first included. @default 5 */
  readonly attempts?: number;
  /** Sockets kept per host. @default 8 */
  readonly maxSockets?: number;
  /** Pause before retry n (0-based); tests pass a short one. @default 250 ms × 2^n, at most 8 s, with jitter */
  readonly backoffMs?: (attempt: number) => number;
  /** A socket idle this long is cut and the request retried. @default 120 s */
  readonly idleTimeoutMs?: number;
}

/** S3's path encoding: every byte but unreserved characters (and '/' between key segments). */
export const uriEscape = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

const EMPTY_SHA256 = createHash('sha256').digest('hex');

export class S3Client {
  private readonly agent: HttpAgent | HttpsAgent;
  private readonly signer;
  private readonly basePath: string;

  constructor(readonly target: Endpoint, private readonly options: ClientOptions = {}) {
    const agentOptions = { keepAlive: true, maxSockets: options.maxSockets ?? 8 };
    this.agent = target.endpoint.protocol === 'https:' ? new HttpsAgent(agentOptions) : new HttpAgent(agentOptions);
    this.signer = s3Signer({ credentials: { accessKeyId: target.accessKeyId, secretAccessKey: target.secretAccessKey }, region: target.region });
    this.basePath = target.endpoint.pathname.replace(/\/+$/, '');
  }

  close(): void {
    this.agent.destroy();
  }

  /** The URL a bucket and key name, for messages. */
  describe(bucket: string, key: string): string {
    return `s3://${bucket}/${key}`;
  }

  /** One call, retried; the whole response body read into memory (documents, small objects). */
  async call(call: S3Call): Promise<S3Response & { body: Buffer }> {
    return this.withRetries(call, async (res) => ({ status: res.statusCode ?? 0, headers: res.headers, body: await readBody(res) }));
  }

  /**
   * One call, retried as a whole: `consume` reads the successful response's body (e.g. into a file at an offset)
   * and must be safe to run again from the start on a retry.
   */
  async stream<T>(call: S3Call, consume: (res: IncomingMessage) => Promise<T>): Promise<T> {
    return this.withRetries(call, consume);
  }

  /** The admin API (JSON), signed like S3. */
  async admin(method: 'GET' | 'POST', route: string): Promise<Record<string, unknown>> {
    const res = await this.withRetries({ method }, async (r) => ({ status: r.statusCode ?? 0, body: await readBody(r) }), `/_sealstore${route}`);
    return JSON.parse(res.body.toString('utf8')) as Record<string, unknown>;
  }

  private async withRetries<T>(call: S3Call, consume: (res: IncomingMessage) => Promise<T>, rawPath?: string): Promise<T> {
    const attempts = this.options.attempts ?? 5;
    for (let attempt = 0; ; attempt++) {
      this.checkAborted();
      let sent = 0;
      try {
        return await this.once(call, consume, (n) => {
          sent += n;
          call.onSent?.(n);
        }, rawPath);
      } catch (e) {
        if (sent > 0) call.onSent?.(-sent);
        if (this.options.signal?.aborted) throw new AbortedError();
        if (!(e instanceof S3Error) || !e.retryable || attempt + 1 >= attempts) throw e;
        await sleep(this.options.backoffMs?.(attempt) ?? Math.min(8000, 250 * 2 ** attempt) * (0.5 + Math.random() / 2), this.options.signal);
      }
    }
  }

  private checkAborted(): void {
    if (this.options.signal?.aborted) throw new AbortedError();
  }

  private async once<T>(call: S3Call, consume: (res: IncomingMessage) => Promise<T>, onSent: (n: number) => void, rawPath?: string): Promise<T> {
    const { endpoint } = this.target;
    const objectPath =
      rawPath ?? (call.bucket === undefined ? '/' : `/${uriEscape(call.bucket)}${call.key === undefined ? '' : `/${call.key.split('/').map(uriEscape).join('/')}`}`);
    const path = `${this.basePath}${objectPath}`;
    const query = call.query ?? {};
    const body = call.body;
    const length = body === undefined ? 0 : body.length;
    const sha256 = body === undefined ? EMPTY_SHA256 : Buffer.isBuffer(body) ? createHash('sha256').update(body).digest('hex') : body.sha256;
    const signed = await this.signer.sign(
      new HttpRequest({
        method: call.method,
        protocol: endpoint.protocol,
        hostname: endpoint.hostname,
        ...(endpoint.port ? { port: Number(endpoint.port) } : {}),
        path,
        query: { ...query },
        headers: {
          host: endpoint.host,
          'x-amz-content-sha256': sha256,
          ...(call.method === 'PUT' || call.method === 'POST' ? { 'content-length': String(length) } : {}),
          ...(call.headers ?? {}),
        },
      }),
    );
    const qs = Object.keys(query)
      .sort()
      .map((k) => `${uriEscape(k)}=${uriEscape(query[k] ?? '')}`)
      .join('&');
    const send = endpoint.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      const fail = (e: unknown) => {
        if (settled) return;
        settled = true;
        cleanup();
        reject(e instanceof Error ? e : new Error(String(e)));
      };
      const req = send(
        { host: endpoint.hostname, port: endpoint.port || undefined, method: call.method, path: qs ? `${path}?${qs}` : path, headers: signed.headers, agent: this.agent },
        (res) => {
          const status = res.statusCode ?? 0;
          if (status >= 300 && status !== 304) {
            readBody(res).then((b) => fail(errorOf(status, b, call)), fail);
            return;
          }
          consume(res).then(
            (v) => {
              if (settled) return;
              settled = true;
              cleanup();
              resolve(v);
            },
            (e: unknown) => fail(e instanceof S3Error || e instanceof AbortedError ? e : new S3Error('NetworkError', `reading the answer: ${(e as Error).message}`, 0)),
          );
        },
      );
      const onAbort = () => {
        req.destroy();
        fail(new AbortedError());
      };
      const cleanup = () => this.options.signal?.removeEventListener('abort', onAbort);
      this.options.signal?.addEventListener('abort', onAbort, { once: true });
      req.setTimeout(this.options.idleTimeoutMs ?? 120_000, () => req.destroy(new Error('no progress for too long')));
      req.on('error', (e) => fail(new S3Error('NetworkError', `cannot reach sealstore at ${endpoint.origin}: ${e.message}`, 0)));
      if (body === undefined) req.end();
      else if (Buffer.isBuffer(body)) {
        req.end(body);
        onSent(body.length);
      } else {
        const stream = body.open();
        stream.on('data', (c: Buffer) => onSent(c.length));
        stream.on('error', (e) => {
          req.destroy();
          fail(e);
        });
        stream.pipe(req);
      }
    });
  }
}

function errorOf(status: number, body: Buffer, call: S3Call): S3Error {
  const text = body.toString('utf8');
  const code = /<Code>([^<]*)<\/Code>/.exec(text)?.[1] ?? (status === 404 ? 'NotFound' : status === 412 ? 'PreconditionFailed' : `HTTP${status}`);
  const message = /<Message>([^<]*)<\/Message>/.exec(text)?.[1] ?? (text.slice(0, 300) || `${call.method} answered ${status}`);
  return new S3Error(code, unescapeXml(message), status);
}

export function unescapeXml(s: string): string {
  return s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&#(\d+);/g, (_m, n: string) => String.fromCodePoint(Number(n))).replace(/&amp;/g, '&');
}

async function readBody(res: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of res) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new AbortedError());
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(new AbortedError());
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** The text of every `<name>…</name>` in a document, in order (flat S3 answers only). */
export function xmlValues(xml: string, name: string): string[] {
  const out: string[] = [];
  const re = new RegExp(`<${name}>([\\s\\S]*?)</${name}>`, 'g');
  for (let m = re.exec(xml); m !== null; m = re.exec(xml)) out.push(unescapeXml(m[1] ?? ''));
  return out;
}

/** The blocks `<name>…</name>` (e.g. each <Contents> or <Part>), for xmlValues on each. */
export const xmlBlocks = (xml: string, name: string): string[] => {
  const out: string[] = [];
  const re = new RegExp(`<${name}>([\\s\\S]*?)</${name}>`, 'g');
  for (let m = re.exec(xml); m !== null; m = re.exec(xml)) out.push(m[1] ?? '');
  return out;
};
