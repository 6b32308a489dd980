// An embedded store without HTTP for lifecycle tests: object service + key lifecycle over one temp data dir,
// with a movable clock for the lifecycle (the vault keeps real time).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openEmbeddedBackend, type EmbeddedBackend } from '../../lambdas/adapters/embedded';
import { composeCore } from '../../lambdas/compose-store';
import type { AccessKeyStore } from '../../lambdas/core/access-keys';
import type { KeyLifecycle, LifecycleConfig, RewrapHooks } from '../../lambdas/core/key-lifecycle';
import type { Logger } from '../../lambdas/core/logger';
import type { ObjectService } from '../../lambdas/core/object-service';
import { dataKeyContext } from '../../lambdas/core/sealing-context';
import { parseHeader } from '../../lambdas/core/format';
import type { RecordIndex } from '../../lambdas/core/ports';
import { bytes } from '../support/bytes';
import { objectFromItem, objectsPk, type ObjectRecord } from '../../lambdas/core/records';

export interface Harness {
  readonly backend: EmbeddedBackend;
  readonly service: ObjectService;
  readonly accessKeys: AccessKeyStore;
  /** The index as the store uses it: every row authenticated (the raw one is backend.index). */
  readonly index: RecordIndex;
  /** The lifecycle the object service takes its active key from. */
  readonly lifecycle: KeyLifecycle;
  /** Another lifecycle over the same store (a second runner, or one with crash hooks). */
  makeLifecycle(options?: LifecycleOptions): KeyLifecycle;
  /** Lifecycle clock offset; move it to make rotation due or a grace period pass. */
  advance(ms: number): void;
  now(): Date;
  close(): Promise<void>;
}

export interface LifecycleOptions {
  readonly config?: Partial<LifecycleConfig>;
  readonly hooks?: RewrapHooks;
  /** Where the lifecycle logs (tests of log levels); silent by default. */
  readonly logger?: Logger;
}

export async function openHarness(config: Partial<LifecycleConfig> = {}): Promise<Harness> {
  const dir = await mkdtemp(join(tmpdir(), 'sealstore-lifecycle-'));
  const backend = await openEmbeddedBackend(dir);
  let offset = 0;
  const now = () => new Date(Date.now() + offset);
  // The production wiring (composeCore); each extra lifecycle is another process's view of the same ports.
  const compose = (options: LifecycleOptions = {}) =>
    composeCore(backend, {
      frameSize: 64,
      lifecycleConfig: { retireGraceMs: 0, pendingWindowDays: 7, activeKeyCacheMs: 0, ...config, ...options.config },
      now,
      ...(options.hooks ? { rewrapHooks: options.hooks } : {}),
      ...(options.logger ? { logger: options.logger } : {}),
    });
  const make = (options: LifecycleOptions = {}) => compose(options).lifecycle;
  const { lifecycle: main, accessKeys, service, index } = compose();
  return {
    backend,
    service,
    accessKeys,
    index,
    lifecycle: main,
    makeLifecycle: make,
    advance: (ms) => {
      offset += ms;
    },
    now,
    close: async () => {
      await backend.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export const body = (i: number) => Buffer.from(`object ${i} `.repeat(20 + i));

export async function putMany(h: Harness, bucket: string, n: number): Promise<string[]> {
  await h.service.createBucket(bucket).catch(() => undefined);
  const keys: string[] = [];
  for (let i = 0; i < n; i++) {
    const key = `dir/obj-${String(i).padStart(3, '0')}`;
    await h.service.putObject({ bucket, key, body: bytes(body(i)) });
    keys.push(key);
  }
  return keys;
}

export async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

export async function record(h: Harness, bucket: string, key: string): Promise<ObjectRecord> {
  const item = await h.index.get(objectsPk(bucket), key);
  if (!item) throw new Error(`no ${bucket}/${key}`);
  return objectFromItem(item);
}

/** Reads every object back and checks its bytes; returns the records. */
export async function expectAllReadable(h: Harness, bucket: string, keys: readonly string[]): Promise<ObjectRecord[]> {
  const out: ObjectRecord[] = [];
  for (const [i, key] of keys.entries()) {
    const rec = await h.service.headObject(bucket, key);
    expect((await readAll(await h.service.openObject(rec))).equals(body(i))).toBe(true);
    out.push(rec);
  }
  return out;
}

/**
 * The blob's copy of the wrapped key must open, under the CMK it names, to the same data key as the index copy:
 * a blob alone stays recoverable with KMS.
 */
export async function expectBlobCopiesValid(h: Harness, rec: ObjectRecord): Promise<void> {
  const ctx = dataKeyContext(rec.bucket, rec.objectId);
  const fromIndex = await h.backend.vault.decrypt(rec.wrappedKey, ctx);
  for (const part of rec.parts) {
    const meta = (await h.backend.blobs.head(part.blobId)).metadata;
    const wrapped = Buffer.from(meta['sealstore-wrapped-key'] ?? '', 'base64');
    const fromBlob = await h.backend.vault.decrypt(wrapped, ctx);
    expect(fromBlob.plaintext.equals(fromIndex.plaintext)).toBe(true);
    expect(meta['sealstore-key-id']).toBe(fromBlob.keyId);
    expect(meta['sealstore-key-material']).toBe(fromBlob.keyMaterialId);
    // The format hint follows the blob, not the writer of its last metadata (a rewrap keeps it).
    expect(meta['sealstore-format']).toBe(String(parseHeader(part.header).version));
  }
}
