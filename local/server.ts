// The embedded server: a real S3 server on node:http over the store the composition root builds. Bodies stream
// from the socket to the store and back; S3's own size limits apply unless `lambdaLimits` asks for the stack's.
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { isIP, type AddressInfo } from 'node:net';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { composeStore, type Store } from '../lambdas/compose-store';
import type { RootCredentials } from '../lambdas/core/access';
import type { AccessKeyStore } from '../lambdas/core/access-keys';
import { adoptExistingRows } from '../lambdas/core/index-auth/adopt';
import type { KeyLifecycle, LifecycleConfig, RewrapHooks } from '../lambdas/core/key-lifecycle';
import { newRequestId } from '../lambdas/core/ids';
import { LAMBDA_LIMITS, S3_LIMITS, type RequestLimits } from '../lambdas/core/limits';
import { silentLogger, type Logger } from '../lambdas/core/logger';
import type { ObjectService, ObjectServiceHooks } from '../lambdas/core/object-service';
import type { StorePorts } from '../lambdas/core/ports';
import { normalizeDomain } from '../lambdas/http/virtual-host';
import { fileSpool } from './body-spool';
import { serveHttp } from './http-front';

/** A backend as the embedded server takes it: the ports of one adapter package. */
export type Backend = StorePorts;

export interface ServerOptions {
  readonly backend: Backend;
  readonly credentials: RootCredentials;
  readonly host?: string;
  readonly port?: number;
  readonly region?: string;
  readonly hooks?: ObjectServiceHooks;
  readonly logger?: Logger;
  /** Plaintext bytes per sealed frame (tests use small frames). */
  readonly frameSize?: number;
  /** Key lifecycle settings (tests shorten the retire grace). */
  readonly lifecycleConfig?: Partial<LifecycleConfig>;
  readonly rewrapHooks?: RewrapHooks;
  /** Refuse what the deployed stack would refuse: bodies over one API Gateway request, parts under 1 MiB allowed. */
  readonly lambdaLimits?: boolean;
  /** Other request limits outright (tests: a tiny minimum part size, to build many-part objects quickly). */
  readonly limits?: RequestLimits;
  /**
   * Domains whose subdomains address buckets (virtual-hosted style: `bucket.D`). A request to one of these names
   * or to an IP address is path style; a subdomain of anything else is refused. @default localhost, the host the
   * server listens on when it is a name, and this machine's host name
   */
  readonly domains?: readonly string[];
  /**
   * Where bodies are spooled while hashed for their signature (curl --aws-sigv4); the server owns it: emptied at
   * start (what a crash left) and removed at close. @default a fresh temp directory
   */
  readonly spoolDir?: string;
  /**
   * Adopt an index written before rows were authenticated: MAC every row as it stands before serving
   * (`npm start -- --seal-index`). Only for an index its owner trusts.
   */
  readonly sealIndex?: boolean;
}

export interface RunningServer {
  readonly url: string;
  readonly port: number;
  readonly store: Store;
  readonly service: ObjectService;
  readonly lifecycle: KeyLifecycle;
  readonly accessKeys: AccessKeyStore;
  /** The domains whose subdomains address buckets. */
  readonly domains: readonly string[];
  /** Rows `sealIndex` adopted (0 without it). */
  readonly sealedRows: number;
  /** Requests received and not yet answered in full. */
  inFlight(): number;
  /**
   * Stops accepting connections, lets the requests in flight finish for up to `graceMs` (default 0: cut them at
   * once), then closes every connection and the store. Resolves with how many requests the deadline cut.
   */
  close(graceMs?: number): Promise<{ cut: number }>;
}

export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const logger = options.logger ?? silentLogger;
  const limits = options.limits
    ? { limits: options.limits }
    : options.lambdaLimits
    ? { limits: LAMBDA_LIMITS, lambdaLimitsReason: 'this server applies it because it runs with --lambda-limits' }
    : { limits: S3_LIMITS };
  const spoolDir = options.spoolDir ?? join(tmpdir(), `sealstore-spool-${process.pid}-${randomBytes(6).toString('hex')}`);
  await rm(spoolDir, { recursive: true, force: true });
  const store = composeStore(options.backend, options.credentials, {
    region: options.region ?? 'us-east-1',
    limits,
    spool: fileSpool(spoolDir),
    logger,
    ...(options.frameSize !== undefined ? { frameSize: options.frameSize } : {}),
    ...(options.hooks ? { hooks: options.hooks } : {}),
    ...(options.lifecycleConfig ? { lifecycleConfig: options.lifecycleConfig } : {}),
    ...(options.rewrapHooks ? { rewrapHooks: options.rewrapHooks } : {}),
  });

  // The index key opens now, so an index that cannot be authenticated stops the start with its reason, not
  // each request with a 500 (an empty index gets its key here).
  let sealedRows = 0;
  try {
    if (options.sealIndex) sealedRows = await adoptExistingRows(options.backend.index, store.indexKey, store.index);
    else await store.indexKey.get({ create: true });
  } catch (e) {
    await store.ports.close();
    throw e;
  }

  const front = { logger, domains: serverDomains(options) };
  const requests = new InFlight();
  const handle = (expectContinue: boolean) => (req: Parameters<typeof serveHttp>[1], res: Parameters<typeof serveHttp>[2]) => {
    requests.add(res);
    serveHttp(store.api, req, res, front, expectContinue).catch((e: unknown) => {
      // A failure because the client hung up is routine; anything else is a bug an operator must report.
      if (req.socket.destroyed) logger.info('client disconnected mid-request', { method: req.method, path: req.url, error: e instanceof Error ? e.message : String(e) });
      else logger.error('request crashed', { error: e instanceof Error ? e.stack : String(e) });
      if (!res.headersSent) res.writeHead(500, { connection: 'close' }).end();
      else res.destroy();
    });
  };
  const server = createServer(handle(false));
  // With a listener, node leaves 100-continue to us: the client is asked for the body only once it is authenticated.
  server.on('checkContinue', handle(true));
  // Any other expectation cannot be met: 417, as RFC 9110 allows (S3 documents no answer of its own). Node would
  // answer it too, but keep the connection and drain the body; this closes it, so a large body is never read.
  server.on('checkExpectation', (_req: IncomingMessage, res: ServerResponse) => {
    res.writeHead(417, { connection: 'close', 'content-length': '0', 'x-amz-request-id': newRequestId() }).end();
  });
  // A 5 GiB upload may take longer than any fixed deadline; a connection that stops moving is what gets cut.
  server.requestTimeout = 0;
  server.timeout = 120_000;
  // SDK agents keep idle sockets open without a deadline of their own; node's 5 s keep-alive timeout closes
  // them under a client that is just reusing one ("socket hang up"). Keep idle connections for a minute.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
    });
  } catch (e) {
    // A port in use: the caller explains it; the store (and an embedded data directory's lock) is let go first.
    await store.ports.close();
    await rm(spoolDir, { recursive: true, force: true });
    throw e;
  }
  const address = server.address() as AddressInfo;
  const host = options.host ?? '127.0.0.1';
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`,
    port: address.port,
    store,
    service: store.service,
    lifecycle: store.lifecycle,
    accessKeys: store.accessKeys,
    sealedRows,
    domains: front.domains,
    inFlight: () => requests.size,
    close: (graceMs = 0) => closeServer(server, requests, graceMs, store, spoolDir),
  };
}

/** The responses not yet finished, so a shutdown can wait for them. */
class InFlight {
  private readonly open = new Set<ServerResponse>();
  private draining = false;
  private onIdle: (() => void) | undefined;

  get size(): number {
    return this.open.size;
  }

  add(res: ServerResponse): void {
    this.open.add(res);
    // A request that arrives on a kept-alive connection while draining is served, and its connection then closed.
    if (this.draining) res.setHeader('connection', 'close');
    res.once('close', () => {
      this.open.delete(res);
      if (this.open.size === 0) this.onIdle?.();
    });
  }

  /** Resolves when nothing is in flight or after `graceMs`, with how many requests were still open. */
  drain(graceMs: number): Promise<number> {
    this.draining = true;
    // Clients should not send another request on a connection about to close.
    for (const res of this.open) if (!res.headersSent) res.setHeader('connection', 'close');
    if (this.open.size === 0 || graceMs <= 0) return Promise.resolve(this.open.size);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(this.open.size), graceMs);
      this.onIdle = () => {
        clearTimeout(timer);
        resolve(0);
      };
    });
  }
}

/** The configured domains, or: localhost, the listening host if it is a name, and this machine's name. */
export function serverDomains(options: Pick<ServerOptions, 'domains' | 'host'>): string[] {
  const given = options.domains?.map(normalizeDomain).filter((d) => d !== '');
  if (given !== undefined && given.length > 0) return [...new Set(given)];
  const names = ['localhost', options.host ?? '', hostname()].filter((n) => n !== '' && isIP(n) === 0).map(normalizeDomain);
  return [...new Set(names)];
}

async function closeServer(server: Server, requests: InFlight, graceMs: number, store: Store, spoolDir: string): Promise<{ cut: number }> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  const cut = await requests.drain(graceMs);
  server.closeAllConnections();
  await closed;
  // Shredding of replaced objects queued so far finishes before the ports close (the sweep would, later).
  await store.service.settle();
  await store.ports.close();
  await rm(spoolDir, { recursive: true, force: true });
  return { cut };
}
