// Runs a built Lambda bundle in a child Node process under a stand-in for the Node.js Lambda runtime
// (./lambda-runtime/bootstrap.js), and serves that child the Lambda Runtime API on loopback, as the Lambda
// service does: the child polls for the next event and posts its answer back, streamed or buffered.
// What arrives is returned raw and decoded here (the HTTP integration prelude: JSON metadata, 8 NUL bytes, body).
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';

export const PRELUDE_CONTENT_TYPE = 'application/vnd.awslambda.http-integration-response';
const BOOTSTRAP = path.join(__dirname, 'lambda-runtime', 'bootstrap.js');

export interface RawInvocation {
  /** 'streaming' when the function answered with Lambda-Runtime-Function-Response-Mode: streaming. */
  readonly mode: 'streaming' | 'buffered' | 'error';
  readonly contentType: string | undefined;
  /** The bytes the function sent, in order, exactly as received. */
  readonly raw: Buffer;
  /** How many body chunks the function wrote (a streamed body arrives in several). */
  readonly chunks: number;
  readonly trailers: Record<string, string>;
}

export interface StreamedHttpResponse {
  readonly statusCode: number;
  readonly headers: Record<string, string>;
  readonly multiValueHeaders?: Record<string, string[]>;
  readonly cookies?: string[];
  readonly body: Buffer;
}

/**
 * Splits a streamed HTTP integration response as API Gateway does: the JSON metadata prelude up to the first
 * 8 NUL bytes, then the body. Throws when the function did not stream one (wrong content type, no delimiter).
 */
export function decodeHttpIntegrationResponse(inv: RawInvocation): StreamedHttpResponse {
  if (inv.mode !== 'streaming') throw new Error(`expected a streamed response, got ${inv.mode}: ${inv.raw.toString('utf8').slice(0, 500)}`);
  if (inv.trailers['lambda-runtime-function-error-type']) {
    const body = Buffer.from(inv.trailers['lambda-runtime-function-error-body'] ?? '', 'base64').toString('utf8');
    throw new Error(`the function failed mid-stream: ${inv.trailers['lambda-runtime-function-error-type']} ${body}`);
  }
  if (inv.contentType !== PRELUDE_CONTENT_TYPE) throw new Error(`content type ${inv.contentType}, not ${PRELUDE_CONTENT_TYPE}: no HttpResponseStream.from`);
  const delimiter = inv.raw.indexOf(Buffer.alloc(8));
  if (delimiter < 0) throw new Error(`no metadata prelude: the function wrote ${inv.raw.length} bytes and no 8-NUL delimiter`);
  const metadata = JSON.parse(inv.raw.subarray(0, delimiter).toString('utf8')) as Omit<StreamedHttpResponse, 'body'>;
  return { ...metadata, body: inv.raw.subarray(delimiter + 8) };
}

interface Pending {
  readonly id: string;
  readonly event: unknown;
  readonly resolve: (inv: RawInvocation) => void;
  readonly reject: (e: Error) => void;
}

export interface LambdaProcessOptions {
  /** The asset directory (LAMBDA_TASK_ROOT) and the template's Handler, e.g. 'index.handler'. */
  readonly taskRoot: string;
  readonly handler: string;
  readonly functionName: string;
  readonly memorySize: number;
  readonly timeoutSeconds: number;
  /** The function's environment (the template's Variables, resolved) plus the AWS_* the service sets. */
  readonly environment: Record<string, string>;
}

export class LambdaProcess {
  private readonly queue: Pending[] = [];
  private readonly waiting: ServerResponse[] = [];
  private readonly inflight = new Map<string, Pending>();
  private child: ChildProcess | undefined;
  private server: Server | undefined;
  private output = '';
  private initError: string | undefined;

  constructor(private readonly options: LambdaProcessOptions) {}

  /** Everything the function wrote to stdout and stderr (its log lines), for assertions and failure messages. */
  get logs(): string {
    return this.output;
  }

  async start(): Promise<void> {
    this.server = createServer((req, res) => this.serve(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    const port = (this.server.address() as AddressInfo).port;
    const o = this.options;
    this.child = spawn(process.execPath, [BOOTSTRAP], {
      cwd: o.taskRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        PATH: process.env['PATH'] ?? '/usr/bin:/bin',
        LANG: 'en_US.UTF-8',
        TZ: ':UTC',
        LAMBDA_TASK_ROOT: o.taskRoot,
        LAMBDA_RUNTIME_DIR: path.dirname(BOOTSTRAP),
        _HANDLER: o.handler,
        AWS_LAMBDA_RUNTIME_API: `127.0.0.1:${port}`,
        AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x',
        AWS_LAMBDA_FUNCTION_NAME: o.functionName,
        AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(o.memorySize),
        AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${o.functionName}`,
        AWS_LAMBDA_LOG_STREAM_NAME: '2026/01/01/[$LATEST]0123456789abcdef',
        AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
        ...o.environment,
      },
    });
    const keep = (chunk: Buffer) => {
      this.output = (this.output + chunk.toString('utf8')).slice(-200_000);
    };
    this.child.stdout?.on('data', keep);
    this.child.stderr?.on('data', keep);
    this.child.once('exit', (code, signal) => {
      const why = new Error(`${o.functionName} exited (${code ?? signal}): ${this.initError ?? ''}\n${this.output.slice(-4000)}`);
      for (const p of [...this.queue, ...this.inflight.values()]) p.reject(why);
      this.queue.length = 0;
      this.inflight.clear();
    });
  }

  /** One invocation, as the Lambda service makes it; resolves with what the function sent back. */
  invoke(event: unknown): Promise<RawInvocation> {
    return new Promise<RawInvocation>((resolve, reject) => {
      if (this.child === undefined || this.child.exitCode !== null) return reject(new Error(`${this.options.functionName} is not running`));
      const timer = setTimeout(
        () => reject(new Error(`${this.options.functionName} did not answer within ${this.options.timeoutSeconds} s\n${this.output.slice(-4000)}`)),
        Math.min(this.options.timeoutSeconds, 60) * 1000,
      );
      const pending: Pending = {
        id: randomUUID(),
        event,
        resolve: (inv) => {
          clearTimeout(timer);
          resolve(inv);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      this.queue.push(pending);
      this.dispatch();
    });
  }

  async stop(): Promise<void> {
    for (const res of this.waiting.splice(0)) res.destroy();
    const child = this.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      await new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      });
    }
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private dispatch(): void {
    while (this.queue.length > 0 && this.waiting.length > 0) {
      const pending = this.queue.shift()!;
      const res = this.waiting.shift()!;
      this.inflight.set(pending.id, pending);
      const body = Buffer.from(JSON.stringify(pending.event), 'utf8');
      res.writeHead(200, {
        'content-type': 'application/json',
        'content-length': String(body.length),
        'lambda-runtime-aws-request-id': pending.id,
        'lambda-runtime-deadline-ms': String(Date.now() + this.options.timeoutSeconds * 1000),
        'lambda-runtime-invoked-function-arn': `arn:aws:lambda:us-east-1:123456789012:function:${this.options.functionName}`,
        'lambda-runtime-trace-id': 'Root=1-00000000-000000000000000000000000;Sampled=0',
      });
      res.end(body);
    }
  }

  private serve(req: IncomingMessage, res: ServerResponse): void {
    const url = req.url ?? '';
    if (req.method === 'GET' && url === '/2018-06-01/runtime/invocation/next') {
      this.waiting.push(res);
      this.dispatch();
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      if (url === '/2018-06-01/runtime/init/error') {
        this.initError = raw.toString('utf8');
        res.writeHead(202).end();
        return;
      }
      const match = /^\/2018-06-01\/runtime\/invocation\/([^/]+)\/(response|error)$/.exec(url);
      const pending = match ? this.inflight.get(match[1]!) : undefined;
      if (!match || !pending) {
        res.writeHead(400).end();
        return;
      }
      this.inflight.delete(pending.id);
      const streaming = String(req.headers['lambda-runtime-function-response-mode'] ?? '').toLowerCase() === 'streaming';
      const trailers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.trailers)) if (v !== undefined) trailers[k.toLowerCase()] = v;
      res.writeHead(202, { 'content-type': 'application/json' }).end('{"status":"OK"}');
      pending.resolve({
        mode: match[2] === 'error' ? 'error' : streaming ? 'streaming' : 'buffered',
        contentType: req.headers['content-type'],
        raw,
        chunks: chunks.length,
        trailers,
      });
    });
  }
}
