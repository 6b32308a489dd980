// Raw SigV4-signed HTTP requests, for what an SDK will not send: bad signatures, skew, odd ranges, huge bodies.
import { HttpRequest } from '@smithy/protocol-http';
import { createHash } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { s3Signer } from '../../lambdas/http/signer';

export interface Creds {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

export interface RawResponse {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: Buffer;
}

export interface SignedRequestOptions {
  readonly method: string;
  /** Path with S3 encoding applied by the caller when needed, e.g. '/b/a%20b'. */
  readonly path: string;
  readonly query?: Record<string, string>;
  readonly headers?: Record<string, string>;
  readonly body?: Buffer;
  readonly signingDate?: Date;
  readonly region?: string;
  /** Sign with these instead (e.g. a wrong secret). */
  readonly creds?: Creds;
  readonly unsignedPayload?: boolean;
  /** Sign without x-amz-content-sha256, as curl --aws-sigv4 does (the signer then hashes the body). */
  readonly omitContentSha256?: boolean;
  /** Flip a body bit after signing. */
  readonly tamperBody?: boolean;
}

/** S3's path encoding: every byte but unreserved characters and '/'. */
export function s3Path(bucket: string, key?: string): string {
  const enc = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return key === undefined ? `/${enc(bucket)}` : `/${enc(bucket)}/${key.split('/').map(enc).join('/')}`;
}

/** The signed headers (and query) of a request, as a client would send them. */
async function sign(baseUrl: string, creds: Creds, opts: SignedRequestOptions, body: Buffer): Promise<{ headers: Record<string, string>; query: string }> {
  const url = new URL(baseUrl);
  const signer = s3Signer({ credentials: opts.creds ?? creds, region: opts.region ?? 'us-east-1' });
  const req = new HttpRequest({
    method: opts.method,
    protocol: 'http:',
    hostname: url.hostname,
    port: Number(url.port),
    path: opts.path,
    query: opts.query ?? {},
    headers: {
      host: url.host,
      ...(opts.omitContentSha256 ? {} : { 'x-amz-content-sha256': opts.unsignedPayload ? 'UNSIGNED-PAYLOAD' : createHash('sha256').update(body).digest('hex') }),
      ...(opts.headers ?? {}),
    },
    body,
  });
  const signed = await signer.sign(req, { signingDate: opts.signingDate ?? new Date() });
  const query = Object.entries(signed.query ?? {})
    .map(([k, v]) => (v === '' || v === null ? encodeURIComponent(k) : `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`))
    .join('&');
  return { headers: signed.headers, query };
}

/** Signed headers for a request whose body the caller sends itself (UNSIGNED-PAYLOAD or a declared hash). */
export async function signedHeaders(baseUrl: string, creds: Creds, opts: SignedRequestOptions): Promise<Record<string, string>> {
  return (await sign(baseUrl, creds, opts, Buffer.alloc(0))).headers;
}

export async function signedRequest(baseUrl: string, creds: Creds, opts: SignedRequestOptions): Promise<RawResponse> {
  const body = Buffer.from(opts.body ?? Buffer.alloc(0));
  const { headers, query } = await sign(baseUrl, creds, opts, body);
  if (opts.tamperBody) body[0] = (body[0] ?? 0) ^ 1;
  return send(baseUrl, opts.method, query ? `${opts.path}?${query}` : opts.path, headers, body);
}

export function send(baseUrl: string, method: string, pathAndQuery: string, headers: Record<string, string>, body: Buffer): Promise<RawResponse> {
  const url = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: url.hostname, port: Number(url.port), method, path: pathAndQuery, headers: { ...headers, 'content-length': String(body.length) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** The <Code> of an S3 XML error body. */
export function errorCode(res: RawResponse): string | undefined {
  return /<Code>([^<]*)<\/Code>/.exec(res.body.toString('utf8'))?.[1];
}
