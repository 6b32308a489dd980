// The embedded server: each HTTP request becomes an API Gateway proxy event for the very same handler.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { ChainedCredentialStore, StaticCredentialStore, type CredentialStore } from '../lambdas/core/access';
import { ObjectService, type ObjectServiceHooks } from '../lambdas/core/object-service';
import type { BlobStore, KeyAdmin, KeyVault, ObjectIndex } from '../lambdas/core/ports';
import { AccessKeyStore } from '../lambdas/core/access-keys';
import { KeyLifecycle, type LifecycleConfig, type RewrapHooks } from '../lambdas/core/key-lifecycle';
import { makeAdminApi } from '../lambdas/api/admin-api';
import { MAX_REQUEST_BODY_BYTES } from '../lambdas/core/limits';
import { newRequestId } from '../lambdas/core/ids';
import { makeHandler, type ApiHandler } from '../lambdas/handlers/api-handler';
import { proxyEventFrom } from './proxy-event';
import { consoleLogger, silentLogger, type Logger } from './logger';

export interface RootCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

export interface Backend {
  readonly vault: KeyVault;
  readonly blobs: BlobStore;
  readonly index: ObjectIndex;
  readonly defaultKeyId: string;
  /** Key management for the lifecycle and admin API; the embedded vault is its own. */
  readonly admin?: KeyAdmin;
  close(): Promise<void>;
}

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
}

export interface RunningServer {
  readonly url: string;
  readonly port: number;
  readonly service: ObjectService;
  readonly handler: ApiHandler;
  /** Present when the backend offers key management (KeyAdmin). */
  readonly lifecycle?: KeyLifecycle;
  readonly accessKeys?: AccessKeyStore;
  close(): Promise<void>;
}

/** Root credentials: from the environment, else generated once and kept (0600) in the data directory. */
export async function loadRootCredentials(dataDir: string, env: NodeJS.ProcessEnv = process.env): Promise<{ credentials: RootCredentials; created: boolean }> {
  const id = env['SEALSTORE_ACCESS_KEY_ID'];
  const secret = env['SEALSTORE_SECRET_ACCESS_KEY'];
  if (id && secret) return { credentials: { accessKeyId: id, secretAccessKey: secret }, created: false };
  if (id || secret) throw new Error('Set both SEALSTORE_ACCESS_KEY_ID and SEALSTORE_SECRET_ACCESS_KEY, or neither.');
  const file = join(dataDir, 'root-credentials.json');
  try {
    const saved = JSON.parse(await readFile(file, 'utf8')) as Partial<RootCredentials>;
    if (typeof saved.accessKeyId === 'string' && typeof saved.secretAccessKey === 'string') {
      return { credentials: { accessKeyId: saved.accessKeyId, secretAccessKey: saved.secretAccessKey }, created: false };
    }
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const credentials = {
    accessKeyId: `SEAL${randomBytes(8).toString('hex').toUpperCase()}`,
    secretAccessKey: randomBytes(30).toString('base64url'),
  };
  await writeFile(file, JSON.stringify(credentials, null, 2), { mode: 0o600, flag: 'wx' });
  return { credentials, created: true };
}

export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const logger = options.logger ?? silentLogger;
  const backend = options.backend;
  const admin = backend.admin;
  const lifecycle = admin
    ? new KeyLifecycle({
        vault: backend.vault,
        admin,
        blobs: backend.blobs,
        index: backend.index,
        defaultKeyId: backend.defaultKeyId,
        ...(options.lifecycleConfig ? { config: options.lifecycleConfig } : {}),
        ...(options.rewrapHooks ? { hooks: options.rewrapHooks } : {}),
        logger,
      })
    : undefined;
  const service = new ObjectService({
    vault: backend.vault,
    blobs: backend.blobs,
    index: backend.index,
    keys: lifecycle ? lifecycle.activeKeys : { activeKeyId: async () => backend.defaultKeyId },
    hooks: options.hooks,
    logger,
    frameSize: options.frameSize,
  });
  const accessKeys = lifecycle ? new AccessKeyStore({ index: backend.index, vault: backend.vault, activeKeys: lifecycle.activeKeys }) : undefined;
  if (lifecycle && accessKeys) lifecycle.useSealedSecrets(accessKeys);
  const credentials: CredentialStore = new ChainedCredentialStore([
    new StaticCredentialStore(options.credentials.accessKeyId, options.credentials.secretAccessKey),
    ...(accessKeys ? [accessKeys] : []),
  ]);
  const region = options.region ?? 'us-east-1';
  const adminApi = lifecycle && accessKeys ? makeAdminApi({ lifecycle, accessKeys }) : undefined;
  const handler = makeHandler({ service, credentials, region, logger, ...(adminApi ? { admin: adminApi } : {}) });

  const server = createServer((req, res) => {
    serve(handler, req, res, logger).catch((e: unknown) => {
      logger.error('request crashed', { error: e instanceof Error ? e.stack : String(e) });
      if (!res.headersSent) res.writeHead(500).end();
      else res.destroy();
    });
  });
  server.requestTimeout = 15 * 60 * 1000; // Lambda's own ceiling
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = options.host ?? '127.0.0.1';
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`,
    port: address.port,
    service,
    handler,
    ...(lifecycle ? { lifecycle } : {}),
    ...(accessKeys ? { accessKeys } : {}),
    close: () => closeServer(server, backend),
  };
}

async function closeServer(server: Server, backend: Backend): Promise<void> {
  await new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
  await backend.close();
}

async function serve(handler: ApiHandler, req: IncomingMessage, res: ServerResponse, logger: Logger): Promise<void> {
  const requestId = newRequestId();
  const body = await readBody(req, MAX_REQUEST_BODY_BYTES);
  // An oversized body is cut at the limit + 1 byte: the handler answers EntityTooLarge, as API Gateway
  // would refuse it, and the rest of the upload is not read.
  const event = proxyEventFrom(req, body.bytes, requestId);
  const response = await handler(event);
  const headers: Record<string, string> = { ...response.headers };
  if (body.truncated) headers['connection'] = 'close';
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

async function readBody(req: IncomingMessage, limit: number): Promise<{ bytes: Buffer; truncated: boolean }> {
  const declared = Number(req.headers['content-length'] ?? '0');
  const chunks: Buffer[] = [];
  let size = 0;
  if (declared > limit) {
    // Do not read (or buffer) an upload we will refuse; one byte over the limit is enough to say why.
    req.resume();
    return { bytes: Buffer.alloc(limit + 1), truncated: true };
  }
  for await (const chunk of req) {
    const c = chunk as Buffer;
    size += c.length;
    if (size > limit) {
      req.resume();
      return { bytes: Buffer.alloc(limit + 1), truncated: true };
    }
    chunks.push(c);
  }
  return { bytes: Buffer.concat(chunks, size), truncated: false };
}
