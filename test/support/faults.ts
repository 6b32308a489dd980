// Fault injection at the port boundary (built on port-wrappers.ts): wraps a Backend's key vault, blob store and index so tests can make
// any call throttle, fail, stall, tear a blob write midway, or lose an index commit, then switch faults off.
import { Readable } from 'node:stream';
import { ServiceUnavailableError, SlowDownError } from '../../lambdas/core/errors';
import type { BlobStore, KeyVault, RecordIndex, WriteOp } from '../../lambdas/core/ports';
import type { Backend } from '../../local/server';
import { interceptBlobs, interceptIndex, interceptVault } from './port-wrappers';

/** Decides, call by call, whether a fault fires. */
export type Trigger = () => boolean;

export const triggers = {
  always: (): Trigger => () => true,
  /** Fires on the next `n` calls, then never again. */
  times(n: number): Trigger {
    let left = n;
    return () => left-- > 0;
  },
  /** Fires with probability `p`, from a seeded generator so a failing run can be replayed. */
  chance(p: number, seed = 1): Trigger {
    let s = seed >>> 0 || 1;
    return () => {
      // xorshift32: deterministic, good enough to spread faults.
      s ^= s << 13;
      s >>>= 0;
      s ^= s >>> 17;
      s ^= s << 5;
      s >>>= 0;
      return s / 0x1_0000_0000 < p;
    };
  },
};

export type VaultOp = 'generateDataKey' | 'decrypt' | 'reEncrypt' | 'describeKey' | 'encrypt';

/**
 * How the key vault misbehaves: `throttled` is KMS's request quota (the adapter's SlowDownError), `down` an
 * outage as the KMS adapter reports it (ServiceUnavailableError), `unreachable` a raw network failure the
 * adapter did not classify, `slow` a stall before answering correctly.
 */
export type VaultFault =
  | { readonly kind: 'throttled' | 'down' | 'unreachable'; readonly when: Trigger; readonly ops?: readonly VaultOp[] }
  | { readonly kind: 'slow'; readonly delayMs: number; readonly when: Trigger; readonly ops?: readonly VaultOp[] };

/** A blob write whose body stream errors after `afterBytes` bytes reached the store. */
export interface BlobWriteFault {
  readonly afterBytes: number;
  readonly when: Trigger;
}

/**
 * An index commit (transact) that fails. `before`: nothing applied (a refused or timed-out request);
 * `after`: applied, but the acknowledgement is lost (a timeout after DynamoDB committed).
 */
export interface IndexCommitFault {
  readonly lost: 'before' | 'after';
  readonly when: Trigger;
  /** Only commits whose operations match are candidates (default: every commit). */
  readonly ops?: (ops: readonly WriteOp[]) => boolean;
}

export interface FaultPlan {
  readonly vault?: VaultFault;
  readonly blobWrite?: BlobWriteFault;
  readonly indexCommit?: IndexCommitFault;
}

export interface FaultCounts {
  vault: number;
  blobWrite: number;
  indexCommit: number;
}

/** Thrown by injected faults that are not typed store errors, so tests can tell them from real bugs. */
export class InjectedFault extends Error {
  constructor(message: string) {
    super(`injected fault: ${message}`);
    this.name = 'InjectedFault';
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Passes `afterBytes` bytes through, then errors, as a socket that drops mid-upload would. Pull-based, so the
 * error reaches whoever is reading, when it reads.
 */
function tearAfter(body: Readable, afterBytes: number): Readable {
  return Readable.from(
    (async function* torn() {
      let seen = 0;
      for await (const chunk of body) {
        const bytes = chunk as Buffer;
        const room = afterBytes - seen;
        if (bytes.length < room) {
          seen += bytes.length;
          yield bytes;
          continue;
        }
        if (room > 0) yield bytes.subarray(0, room);
        throw new InjectedFault(`blob body stream torn after ${afterBytes} bytes`);
      }
    })(),
    { objectMode: false },
  );
}

/** Holds the current plan (swap it at any time) and wraps ports so every call consults it. */
export class FaultInjector {
  private plan: FaultPlan = {};
  readonly counts: FaultCounts = { vault: 0, blobWrite: 0, indexCommit: 0 };

  set(plan: FaultPlan): void {
    this.plan = plan;
  }

  clear(): void {
    this.plan = {};
  }

  wrap(backend: Backend): Backend {
    return { ...backend, vault: this.wrapVault(backend.vault), blobs: this.wrapBlobs(backend.blobs), index: this.wrapIndex(backend.index), close: () => backend.close() };
  }

  wrapVault(inner: KeyVault): KeyVault {
    return interceptVault(inner, async ({ op }, proceed) => {
      const fault = this.plan.vault;
      if (!fault || (fault.ops && !fault.ops.includes(op as VaultOp)) || !fault.when()) return proceed();
      this.counts.vault++;
      switch (fault.kind) {
        case 'slow':
          await sleep(fault.delayMs);
          return proceed();
        case 'throttled':
          throw new SlowDownError(`${op}: key vault request quota exceeded (injected)`);
        case 'down':
          throw new ServiceUnavailableError(`${op}: key vault is temporarily unavailable (injected)`);
        case 'unreachable':
          throw new InjectedFault(`${op}: connect ECONNREFUSED`);
      }
    });
  }

  wrapBlobs(inner: BlobStore): BlobStore {
    return interceptBlobs(inner, ({ op, args }, proceed) => {
      const fault = this.plan.blobWrite;
      if (op !== 'put' || !fault || !fault.when()) return proceed();
      this.counts.blobWrite++;
      const [blobId, body, ...rest] = args;
      return proceed([blobId, tearAfter(body as Readable, fault.afterBytes), ...rest]);
    });
  }

  wrapIndex(inner: RecordIndex): RecordIndex {
    return interceptIndex(inner, async ({ op, args }, proceed) => {
      const fault = this.plan.indexCommit;
      if (op !== 'transact' || !fault || (fault.ops && !fault.ops(args[0] as readonly WriteOp[])) || !fault.when()) return proceed();
      this.counts.indexCommit++;
      if (fault.lost === 'after') {
        await proceed();
        throw new InjectedFault('index commit applied but its acknowledgement was lost');
      }
      throw new InjectedFault('index commit refused');
    });
  }
}
