// An HTTP proxy between one function's AWS SDK (AWS_ENDPOINT_URL) and moto_server that records every AWS call the
// function makes, named as IAM names it: the service from the SigV4 credential scope, the operation from
// X-Amz-Target for the JSON services (DynamoDB, KMS, Secrets Manager) or from method + path + query for S3.
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedCall {
  /** The signing name from the credential scope: s3, kms, dynamodb, secretsmanager… */
  readonly service: string;
  /** The API operation, e.g. GetItem, GenerateDataKey, PutObject, ListObjectsV2. */
  readonly operation: string;
  readonly status: number;
  /** JSON services: the parsed request and response bodies. */
  readonly request?: Record<string, unknown>;
  readonly response?: Record<string, unknown>;
  /** S3: the bucket and key the call names, its copy source, and the keys a DeleteObjects names. */
  readonly bucket?: string;
  readonly key?: string;
  readonly copySource?: string;
  readonly deleteKeys?: string[];
}

/** S3 operation from the REST shape of the request (path-style, as the adapters send it to a custom endpoint). */
export function s3Operation(method: string, key: string | undefined, query: URLSearchParams, headers: IncomingMessage['headers']): string {
  const has = (name: string) => query.has(name);
  if (key === undefined || key === '') {
    if (method === 'GET' && has('list-type')) return 'ListObjectsV2';
    if (method === 'GET' && has('uploads')) return 'ListMultipartUploads';
    if (method === 'GET' && has('versions')) return 'ListObjectVersions';
    if (method === 'GET' && has('location')) return 'GetBucketLocation';
    if (method === 'GET') return 'ListObjects';
    if (method === 'HEAD') return 'HeadBucket';
    if (method === 'POST' && has('delete')) return 'DeleteObjects';
    if (method === 'PUT') return 'CreateBucket';
    if (method === 'DELETE') return 'DeleteBucket';
    return `${method} bucket?${query.toString()}`;
  }
  if (method === 'GET' && has('uploadId')) return 'ListParts';
  if (method === 'GET' && has('tagging')) return 'GetObjectTagging';
  if (method === 'GET') return 'GetObject';
  if (method === 'HEAD') return 'HeadObject';
  if (method === 'PUT' && has('partNumber') && headers['x-amz-copy-source'] !== undefined) return 'UploadPartCopy';
  if (method === 'PUT' && has('partNumber')) return 'UploadPart';
  if (method === 'PUT' && headers['x-amz-copy-source'] !== undefined) return 'CopyObject';
  if (method === 'PUT') return 'PutObject';
  if (method === 'POST' && has('uploads')) return 'CreateMultipartUpload';
  if (method === 'POST' && has('uploadId')) return 'CompleteMultipartUpload';
  if (method === 'DELETE' && has('uploadId')) return 'AbortMultipartUpload';
  if (method === 'DELETE') return 'DeleteObject';
  return `${method} object?${query.toString()}`;
}

const parseJson = (buf: Buffer): Record<string, unknown> | undefined => {
  try {
    return buf.length === 0 ? undefined : (JSON.parse(buf.toString('utf8')) as Record<string, unknown>);
  } catch {
    return undefined;
  }
};

export class RecordingProxy {
  readonly calls: RecordedCall[] = [];
  private server: Server | undefined;
  private port = 0;

  constructor(private readonly target: string) {}

  get endpoint(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    this.server = createServer((req, res) => this.forward(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** The calls recorded since `mark` (an index into `calls`). */
  since(mark: number): RecordedCall[] {
    return this.calls.slice(mark);
  }

  private forward(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const target = new URL(this.target);
      const upstream = httpRequest(
        { host: target.hostname, port: Number(target.port), method: req.method, path: req.url, headers: req.headers },
        (up) => {
          const out: Buffer[] = [];
          up.on('data', (c: Buffer) => out.push(c));
          up.on('end', () => {
            const answer = Buffer.concat(out);
            this.calls.push(this.describe(req, body, up.statusCode ?? 0, answer));
            res.writeHead(up.statusCode ?? 502, up.headers);
            res.end(answer);
          });
        },
      );
      upstream.on('error', (e) => {
        res.writeHead(502).end(String(e));
      });
      upstream.end(body);
    });
  }

  private describe(req: IncomingMessage, body: Buffer, status: number, answer: Buffer): RecordedCall {
    const auth = String(req.headers['authorization'] ?? '');
    const service = /Credential=[^/]+\/[^/]+\/[^/]+\/([^/]+)\//.exec(auth)?.[1] ?? 'unknown';
    const amzTarget = req.headers['x-amz-target'];
    if (typeof amzTarget === 'string') {
      return { service, operation: amzTarget.split('.').pop()!, status, request: parseJson(body), response: parseJson(answer) };
    }
    const url = new URL(req.url ?? '/', 'http://proxy');
    const [, bucket, ...rest] = url.pathname.split('/');
    const key = rest.length === 0 ? undefined : decodeURIComponent(rest.join('/'));
    const operation = s3Operation(req.method ?? 'GET', key, url.searchParams, req.headers);
    const copySource = req.headers['x-amz-copy-source'];
    const deleteKeys = operation === 'DeleteObjects' ? [...body.toString('utf8').matchAll(/<Key>([^<]*)<\/Key>/g)].map((m) => m[1]!) : undefined;
    return {
      service,
      operation,
      status,
      bucket: decodeURIComponent(bucket ?? ''),
      ...(key !== undefined && { key }),
      ...(typeof copySource === 'string' && { copySource: decodeURIComponent(copySource) }),
      ...(deleteKeys !== undefined && { deleteKeys }),
    };
  }
}
