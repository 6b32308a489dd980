// The one way tests and benchmarks wrap the store's ports (key vault, blob store, index): every call passes through
// an interceptor that may count it, delay it, fail it, change its arguments or wrap its result. Counting
// (PortCounter) and fault injection (faults.ts) are both built on it. The op tables below are typed as complete:
// a method added to or removed from a port fails `tsc` here instead of slipping past the wrapper.
import { Transform, type Readable } from 'node:stream';
import type { BlobStore, KeyVault, RecordIndex } from '../../lambdas/core/ports';
import type { Backend } from '../../local/server';

export type PortName = 'vault' | 'blobs' | 'index';

export interface PortCall {
  readonly port: PortName;
  readonly op: string;
  readonly args: readonly unknown[];
}

/** Sees one port call. `proceed` makes it on the wrapped port (with `args` replaced, if given). */
export type Interceptor = (call: PortCall, proceed: (args?: readonly unknown[]) => Promise<unknown>) => Promise<unknown>;

/** Every method of a port: 'call' goes through the interceptor; 'pass' (synchronous queries) is passed through when present. */
type OpTable<P> = { readonly [K in keyof P]-?: 'call' | 'pass' };
const VAULT_OPS: OpTable<KeyVault> = { generateDataKey: 'call', decrypt: 'call', reEncrypt: 'call', describeKey: 'call', encrypt: 'call', trusts: 'pass' };
const BLOB_OPS: OpTable<BlobStore> = { put: 'call', get: 'call', head: 'call', replaceMetadata: 'call', delete: 'call', list: 'call' };
const INDEX_OPS: OpTable<RecordIndex> = { get: 'call', put: 'call', delete: 'call', query: 'call', queryGsi1: 'call', transact: 'call' };

function wrapPort<P extends object>(port: PortName, inner: P, ops: OpTable<P>, intercept: Interceptor): P {
  const wrapped: Record<string, unknown> = {};
  for (const [op, how] of Object.entries<'call' | 'pass'>(ops)) {
    const method = (inner as Record<string, ((...args: unknown[]) => unknown) | undefined>)[op];
    if (typeof method !== 'function') {
      if (how === 'call') throw new Error(`${port} port has no method ${op}`);
      continue; // an optional method the inner port does not have: the wrapper has none either
    }
    wrapped[op] = how === 'pass' ? method.bind(inner) : (...args: unknown[]) => intercept({ port, op, args }, async (replaced) => method.apply(inner, [...(replaced ?? args)]));
  }
  return wrapped as P;
}

export const interceptVault = (inner: KeyVault, intercept: Interceptor): KeyVault => wrapPort('vault', inner, VAULT_OPS, intercept);
export const interceptBlobs = (inner: BlobStore, intercept: Interceptor): BlobStore => wrapPort('blobs', inner, BLOB_OPS, intercept);
export const interceptIndex = (inner: RecordIndex, intercept: Interceptor): RecordIndex => wrapPort('index', inner, INDEX_OPS, intercept);

/** The backend with its vault, blobs and index intercepted; admin, default key and close pass through. */
export function interceptBackend(backend: Backend, intercept: Interceptor): Backend {
  return {
    ...backend,
    vault: interceptVault(backend.vault, intercept),
    blobs: interceptBlobs(backend.blobs, intercept),
    index: interceptIndex(backend.index, intercept),
    close: () => backend.close(),
  };
}

/** Passes a readable through, calling `seen` with the size of every chunk. */
function metered(source: Readable, seen: (bytes: number) => void): Readable {
  const meter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      seen(chunk.length);
      done(null, chunk);
    },
  });
  source.on('error', (e) => meter.destroy(e));
  return source.pipe(meter);
}

/**
 * Counts port calls by `port.op` (e.g. `vault.decrypt`, `blobs.get`) and the ciphertext bytes read from the blob
 * store: for "one GenerateDataKey per PUT", "a range reads only its frames" and the benchmarks' per-request figures.
 */
export class PortCounter {
  private readonly calls = new Map<string, number>();
  blobBytesRead = 0;

  readonly intercept: Interceptor = async (call, proceed) => {
    const name = `${call.port}.${call.op}`;
    this.calls.set(name, (this.calls.get(name) ?? 0) + 1);
    const result = await proceed();
    return call.port === 'blobs' && call.op === 'get' ? metered(result as Readable, (n) => (this.blobBytesRead += n)) : result;
  };

  /** Calls of one operation since the last reset, e.g. count('vault', 'decrypt'). */
  count(port: PortName, op: string): number {
    return this.calls.get(`${port}.${op}`) ?? 0;
  }

  /** Calls to `port` other than the named operations. */
  others(port: PortName, ...except: string[]): number {
    let n = 0;
    for (const [name, calls] of this.calls) if (name.startsWith(`${port}.`) && !except.includes(name.slice(port.length + 1))) n += calls;
    return n;
  }

  reset(): void {
    this.calls.clear();
    this.blobBytesRead = 0;
  }

  wrap(backend: Backend): Backend {
    return interceptBackend(backend, this.intercept);
  }
  vault(inner: KeyVault): KeyVault {
    return interceptVault(inner, this.intercept);
  }
  blobs(inner: BlobStore): BlobStore {
    return interceptBlobs(inner, this.intercept);
  }
  index(inner: RecordIndex): RecordIndex {
    return interceptIndex(inner, this.intercept);
  }
}
