// The composition root: from one backend's ports to the whole store (object service, key lifecycle, access
// keys, admin API, S3 API). The API Lambda, the rotation and housekeeping Lambdas, the embedded server and the
// test harnesses all build the store here, so no wiring is repeated and none can be half done.
import { ChainedCredentialStore, StaticCredentialStore, type CredentialStore, type RootCredentials } from './core/access';
import { AccessKeyStore } from './core/access-keys';
import { Garbage } from './core/garbage';
import { AuthenticatedIndex } from './core/index-auth/authenticated-index';
import { IndexKey } from './core/index-auth/index-key';
import { KeyLifecycle, type LifecycleConfig, type RewrapHooks } from './core/key-lifecycle';
import type { SealedSecrets } from './core/key-lifecycle/rotation-job';
import { S3_LIMITS } from './core/limits';
import type { Logger } from './core/logger';
import { ObjectService, type ObjectServiceHooks } from './core/object-service';
import type { StorePorts } from './core/ports';
import { IndexRecovery } from './core/recovery/recover';
import { makeAdminApi, type AdminApi } from './api/admin-api';
import type { LimitsContext } from './api/payload-limits';
import { makeS3Api, type S3Api } from './api/s3-api';
import { memorySpool, type BodySpool } from './http/spool';

export interface CoreSettings {
  /** Request limits; the completion's minimum part size follows them. @default S3's own (S3_LIMITS) */
  readonly limits?: LimitsContext;
  readonly logger?: Logger;
  /** Plaintext bytes per sealed frame; tests use small frames. @default the format's 64 KiB */
  readonly frameSize?: number;
  /** Fault-injection seams for the reliability suite; production passes none. */
  readonly hooks?: ObjectServiceHooks;
  readonly lifecycleConfig?: Partial<LifecycleConfig>;
  readonly rewrapHooks?: RewrapHooks;
  readonly now?: () => Date;
}

export interface StoreSettings extends CoreSettings {
  /** The region SigV4 credentials must be scoped to. */
  readonly region: string;
  /** Where a body is held while it is hashed for the signature (curl --aws-sigv4). @default in memory */
  readonly spool?: BodySpool;
}

/** The parts every runtime has: what the scheduled jobs need, and what the API runs on. */
export interface StoreCore {
  readonly service: ObjectService;
  readonly lifecycle: KeyLifecycle;
  readonly accessKeys: AccessKeyStore;
  /** The index every part above uses: the ports' own, with every row authenticated. */
  readonly index: AuthenticatedIndex;
  readonly indexKey: IndexKey;
  /** `recover --rebuild-index`: rebuilds an emptied index from the blobs (docs/RECOVERY.md). */
  readonly recovery: IndexRecovery;
}

export interface Store extends StoreCore {
  readonly ports: StorePorts;
  readonly credentials: CredentialStore;
  readonly admin: AdminApi;
  readonly api: S3Api;
}

export function composeCore(ports: StorePorts, settings: CoreSettings = {}): StoreCore {
  const { vault, blobs } = ports;
  const limits = settings.limits ?? { limits: S3_LIMITS };
  // Every row any part reads is authenticated here, once: nothing above this line sees the raw index.
  const indexKey = new IndexKey({ index: ports.index, vault, defaultKeyId: ports.defaultKeyId, ...(settings.now ? { now: settings.now } : {}) });
  const index = new AuthenticatedIndex(ports.index, indexKey, settings.logger);
  // Access keys seal their secrets under the active CMK, which the lifecycle decides; the lifecycle rewraps those
  // secrets in turn. The arrow defers the lookup until a call, when both exist.
  const accessKeys: AccessKeyStore = new AccessKeyStore({
    index,
    vault,
    activeKeys: { activeKeyId: (): Promise<string> => lifecycle.activeKeys.activeKeyId() },
    ...(settings.now ? { now: settings.now } : {}),
    ...(settings.logger ? { logger: settings.logger } : {}),
  });
  const lifecycle: KeyLifecycle = new KeyLifecycle({
    vault,
    admin: ports.admin,
    blobs,
    index,
    defaultKeyId: ports.defaultKeyId,
    sealedSecrets: allSecrets([accessKeys, indexKey]),
    ...(settings.lifecycleConfig ? { config: settings.lifecycleConfig } : {}),
    ...(settings.rewrapHooks ? { hooks: settings.rewrapHooks } : {}),
    ...(settings.logger ? { logger: settings.logger } : {}),
    ...(settings.now ? { now: settings.now } : {}),
  });
  const service = new ObjectService({
    vault,
    blobs,
    index,
    keys: lifecycle.activeKeys,
    chosenKeys: lifecycle.chosenKeys,
    minPartSize: limits.limits.minPartBytes,
    ...(settings.frameSize !== undefined ? { frameSize: settings.frameSize } : {}),
    ...(settings.hooks ? { hooks: settings.hooks } : {}),
    ...(settings.logger ? { logger: settings.logger } : {}),
    ...(settings.now ? { now: settings.now } : {}),
  });
  const recovery = new IndexRecovery({
    index,
    blobs,
    vault,
    garbage: new Garbage(blobs, index, settings.logger),
    // Every CMK a recovered object is wrapped under becomes known to the lifecycle (standby, as `keys create
    // --adopt`); the job counts its objects on its next run.
    registerKey: (keyId) => lifecycle.adopt(keyId),
    now: settings.now ?? (() => new Date()),
    ...(settings.logger ? { logger: settings.logger } : {}),
  });
  return { service, lifecycle, accessKeys, index, indexKey, recovery };
}

/** The secrets wrapped under CMKs besides data keys, as one for the key lifecycle: it rewraps and counts them all. */
function allSecrets(all: readonly SealedSecrets[]): SealedSecrets {
  return {
    rewrapSecrets: async (destinationKeyId, destinationMaterialId) => {
      let rewrapped = 0;
      let errors = 0;
      for (const s of all) {
        const r = await s.rewrapSecrets(destinationKeyId, destinationMaterialId);
        rewrapped += r.rewrapped;
        errors += r.errors;
      }
      return { rewrapped, errors };
    },
    countSealedUnder: async (keyId) => {
      let n = 0;
      for (const s of all) n += await s.countSealedUnder(keyId);
      return n;
    },
  };
}

export function composeStore(ports: StorePorts, root: RootCredentials, settings: StoreSettings): Store {
  const core = composeCore(ports, settings);
  const credentials = new ChainedCredentialStore([new StaticCredentialStore(root.accessKeyId, root.secretAccessKey), core.accessKeys]);
  const admin = makeAdminApi({ lifecycle: core.lifecycle, accessKeys: core.accessKeys, recovery: core.recovery, limits: (settings.limits ?? { limits: S3_LIMITS }).limits });
  const api = makeS3Api({
    service: core.service,
    credentials,
    admin,
    region: settings.region,
    limits: settings.limits ?? { limits: S3_LIMITS },
    spool: settings.spool ?? memorySpool,
    ...(settings.logger ? { logger: settings.logger } : {}),
    ...(settings.now ? { now: settings.now } : {}),
  });
  return { ...core, ports, credentials, admin, api };
}
