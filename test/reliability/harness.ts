// The reliability harness: an embedded server over fault-injectable ports, a model of what clients were
// promised, and the invariant check (acknowledged writes readable byte-identical, deletes gone, nothing
// half-written visible, orphans swept).
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { Agent } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openEmbeddedBackend } from '../../lambdas/adapters/embedded';
import { startServer, type RunningServer } from '../../local/server';
import { testCreds } from '../support/embedded-target';
import { FaultInjector } from '../support/faults';
import type { Creds } from '../support/signed-fetch';

export const sha = (b: Buffer | Uint8Array): string => createHash('sha256').update(b).digest('hex');

export interface Harness {
  readonly url: string;
  readonly creds: Creds;
  readonly dataDir: string;
  readonly server: RunningServer;
  readonly faults: FaultInjector;
  /** A client that never retries, so a test sees the very first error. */
  readonly s3: S3Client;
  client(maxAttempts?: number): S3Client;
  close(): Promise<void>;
}

export async function startHarness(options: { frameSize?: number } = {}): Promise<Harness> {
  const dataDir = await mkdtemp(join(tmpdir(), 'sealstore-rel-'));
  const faults = new FaultInjector();
  const backend = faults.wrap(await openEmbeddedBackend(dataDir));
  const creds = testCreds();
  const server = await startServer({ backend, credentials: creds, frameSize: options.frameSize });
  const clients: S3Client[] = [];
  const client = (maxAttempts = 1): S3Client => {
    const c = new S3Client({
      endpoint: server.url,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: creds,
      maxAttempts,
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      requestHandler: { httpAgent: new Agent({ keepAlive: true, maxSockets: 64 }) },
    });
    clients.push(c);
    return c;
  };
  const s3 = client();
  return {
    url: server.url,
    creds,
    dataDir,
    server,
    faults,
    s3,
    client,
    close: async () => {
      for (const c of clients) c.destroy();
      await server.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** The status and S3 code of a failed call, or undefined if it succeeded. */
export async function outcome(p: Promise<unknown>): Promise<{ status: number; code: string } | undefined> {
  try {
    await p;
    return undefined;
  } catch (e) {
    if (!(e instanceof S3ServiceException)) throw e;
    return { status: e.$metadata.httpStatusCode ?? 0, code: e.name };
  }
}

/** What a client may retry: throttling, unavailability and internal errors, never a 4xx. */
export const RETRYABLE = new Set(['503 SlowDown', '503 ServiceUnavailable', '500 InternalError']);

/**
 * What each key may hold. After an acknowledged PUT or DELETE exactly one state is allowed; a write whose
 * outcome the client could not know (an error after the commit, or concurrent writers) widens the set.
 */
export class Model {
  private readonly allowed = new Map<string, Set<string | null>>();

  acknowledgedPut(key: string, body: Buffer): void {
    this.allowed.set(key, new Set([sha(body)]));
  }

  acknowledgedDelete(key: string): void {
    this.allowed.set(key, new Set([null]));
  }

  /** A write that may or may not have landed. */
  uncertain(key: string, body: Buffer | null): void {
    const set = this.allowed.get(key) ?? new Set<string | null>([null]);
    set.add(body === null ? null : sha(body));
    this.allowed.set(key, set);
  }

  /** Any of these digests (null: absent) may be what the key holds. */
  allowDigests(key: string, digests: Iterable<string | null>): void {
    this.allowed.set(key, new Set(digests));
  }

  keys(): string[] {
    return [...this.allowed.keys()];
  }

  allows(key: string, digest: string | null): boolean {
    return this.allowed.get(key)?.has(digest) ?? digest === null;
  }

  /** Collapses a key to what was actually read, once writers are quiet. */
  settle(key: string, digest: string | null): void {
    this.allowed.set(key, new Set([digest]));
  }
}

/** Reads one key: its body digest, or null if absent. */
export async function readDigest(s3: S3Client, bucket: string, key: string): Promise<string | null> {
  try {
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return sha(await got.Body!.transformToByteArray());
  } catch (e) {
    if (e instanceof S3ServiceException && e.name === 'NoSuchKey') return null;
    throw e;
  }
}

export async function listAll(s3: S3Client, bucket: string): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }));
    for (const c of page.Contents ?? []) out.set(c.Key!, c.Size ?? -1);
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return out;
}

/** Every file under the blob root, grouped: committed blobs, rewrapped-metadata sidecars, anything else. */
export async function blobFiles(dataDir: string): Promise<{ blobs: number; sidecars: number; other: string[] }> {
  const result = { blobs: 0, sidecars: 0, other: [] as string[] };
  const walk = async (dir: string): Promise<void> => {
    for (const name of await readdir(dir)) {
      const p = join(dir, name);
      if ((await stat(p)).isDirectory()) await walk(p);
      else if (name.endsWith('.blob')) result.blobs++;
      else if (name.endsWith('.md')) result.sidecars++;
      else if (p !== join(dataDir, 'blobs', 'layout-2')) result.other.push(p);
    }
  };
  await walk(join(dataDir, 'blobs'));
  return result;
}

/**
 * The invariants, checked with faults off and writers quiet: every key reads as the model allows, the listing
 * shows exactly the live keys with their sizes, and after a sweep exactly one blob remains per live object.
 */
export async function checkInvariants(h: Harness, bucket: string, model: Model, extraLiveObjects = 0): Promise<{ live: number; swept: number }> {
  const listed = await listAll(h.s3, bucket);
  let live = 0;
  for (const key of model.keys()) {
    const digest = await readDigest(h.s3, bucket, key);
    if (!model.allows(key, digest)) throw new Error(`key ${key} reads ${digest ?? 'absent'}, which no acknowledged or in-doubt write put there`);
    expect(listed.has(key)).toBe(digest !== null);
    if (digest !== null) live++;
    model.settle(key, digest);
  }
  for (const key of listed.keys()) {
    if (!model.keys().includes(key)) throw new Error(`listing shows ${key}, which no client wrote`);
  }
  const { blobsDeleted } = await h.server.service.sweep(0);
  const files = await blobFiles(h.dataDir);
  expect(files.other).toEqual([]);
  expect(files.blobs).toBe(live + extraLiveObjects);
  return { live, swept: blobsDeleted };
}

export async function createBucket(s3: S3Client, bucket: string): Promise<void> {
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
}

export const put = (s3: S3Client, bucket: string, key: string, body: Buffer) =>
  s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));

export const del = (s3: S3Client, bucket: string, key: string) => s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));

/** Retries what the server says is retryable, as a well-behaved client would (short backoff for tests). */
export async function retrying<T>(fn: () => Promise<T>, attempts = 8): Promise<{ value: T; retries: number }> {
  for (let i = 0; ; i++) {
    try {
      return { value: await fn(), retries: i };
    } catch (e) {
      const retryable = e instanceof S3ServiceException && RETRYABLE.has(`${e.$metadata.httpStatusCode} ${e.name}`);
      if (!retryable || i + 1 >= attempts) throw e;
      await new Promise((resolve) => setTimeout(resolve, 5 * 2 ** i));
    }
  }
}
