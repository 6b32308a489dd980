// The admin API under /_sealstore/: CMK lifecycle and access keys, as JSON over SigV4-signed HTTP.
// No S3 bucket can be named _sealstore, so these paths never shadow a bucket. The CLI is its client.
import { authorize, type Principal } from '../core/access';
import type { AccessKeyStore } from '../core/access-keys';
import { InvalidArgumentError, InvalidRequestError, MethodNotAllowedError } from '../core/errors';
import type { KeyLifecycle } from '../core/key-lifecycle';
import type { IndexRecovery } from '../core/recovery/recover';
import { LAMBDA_MAX_RESPONSE_BYTES, MAX_PARTS, rangeChunkBytes, S3_LIMITS, type RequestLimits } from '../core/limits';
import { ADMIN_PREFIX } from '../http/router';
import type { ApiResponse } from './response';

export interface AdminApiDeps {
  readonly lifecycle: KeyLifecycle;
  readonly accessKeys: AccessKeyStore;
  /** The index rebuild (`recover --rebuild-index`); absent: its routes answer that this store has none. */
  readonly recovery?: IndexRecovery;
  /** The request limits this store applies, which GET /info tells clients. @default S3's own */
  readonly limits?: RequestLimits;
}

/** One admin call: the method, the path under /_sealstore, the JSON body (read whole, under the document limit). */
export interface AdminRequest {
  readonly method: string;
  readonly adminPath: string;
  readonly body: Buffer;
}

export type AdminApi = (req: AdminRequest, principal: Principal) => Promise<ApiResponse>;

type Body = Record<string, unknown>;
/** One admin operation; the table keys it by 'METHOD path', so the method is stated once. */
interface Route {
  /** 'Rewrap' routes are open to the rewrap role, 'Any' to every authenticated caller; the rest need admin. */
  readonly needs: 'Admin' | 'Rewrap' | 'Any';
  run(body: Body, param: string | undefined): Promise<unknown>;
}

function text(body: Body, name: string, required = true): string | undefined {
  const v = body[name];
  if (v === undefined && !required) return undefined;
  if (typeof v !== 'string' || v === '') throw new InvalidArgumentError(`"${name}" must be a non-empty string`, { ArgumentName: name });
  return v;
}

function int(body: Body, name: string): number | undefined {
  const v = body[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new InvalidArgumentError(`"${name}" must be an integer`, { ArgumentName: name });
  return v;
}

export function makeAdminApi(deps: AdminApiDeps): AdminApi {
  const { lifecycle, accessKeys } = deps;
  const keyRef = (b: Body) => text(b, 'key') ?? '';
  const limits = deps.limits ?? S3_LIMITS;
  const recovery = (): IndexRecovery => {
    if (!deps.recovery) throw new InvalidRequestError('This store was composed without the index rebuild.');
    return deps.recovery;
  };
  const routes: Record<string, Route> = {
    // What a transfer client needs to shape its requests (`sealstore cp`): open to any access key, it tells only
    // what every over-sized request's EntityTooLarge would tell anyway.
    'GET /info': {
      needs: 'Any',
      run: () =>
        Promise.resolve({
          service: 'sealstore',
          limits: {
            mode: limits.mode,
            maxObjectBytes: limits.maxObjectBytes,
            maxPartBytes: limits.maxPartBytes,
            minPartBytes: limits.minPartBytes,
            maxParts: MAX_PARTS,
            maxDocumentBytes: limits.maxDocumentBytes,
            maxResponseBytes: limits.mode === 'lambda' ? LAMBDA_MAX_RESPONSE_BYTES : null,
            rangeChunkBytes: rangeChunkBytes(limits),
          },
        }),
    },
    'GET /keys': { needs: 'Rewrap', run: async () => ({ keys: await lifecycle.list() }) },
    'POST /keys': {
      needs: 'Admin',
      run: async (b) => {
        const adopt = text(b, 'adopt', false);
        if (adopt !== undefined) return { key: await lifecycle.adopt(adopt) };
        const alias = text(b, 'alias', false);
        const description = text(b, 'description', false);
        return { key: await lifecycle.create({ ...(alias ? { alias } : {}), ...(description ? { description } : {}) }) };
      },
    },
    'POST /keys/rotate': { needs: 'Rewrap', run: async (b) => ({ key: await lifecycle.rotate(text(b, 'key', false)) }) },
    'POST /keys/rewrap': { needs: 'Rewrap', run: async () => ({ report: await lifecycle.runJob() }) },
    'POST /keys/rollover': { needs: 'Admin', run: async (b) => lifecycle.rollover(text(b, 'to') ?? '') },
    'POST /keys/disable': { needs: 'Admin', run: async (b) => ({ key: await lifecycle.disable(keyRef(b)) }) },
    'POST /keys/enable': { needs: 'Admin', run: async (b) => ({ key: await lifecycle.enable(keyRef(b)) }) },
    'POST /keys/schedule-deletion': {
      needs: 'Admin',
      run: async (b) => {
        const days = int(b, 'days');
        return lifecycle.scheduleDeletion(keyRef(b), { ...(days === undefined ? {} : { days }), force: b['force'] === true });
      },
    },
    // The dry run of schedule-deletion: a page of the objects the key's deletion would destroy, followed by cursor.
    'POST /keys/deletion-impact': {
      needs: 'Admin',
      run: async (b) => {
        const cursor = text(b, 'cursor', false);
        const limit = int(b, 'limit');
        return lifecycle.deletionImpact(keyRef(b), { ...(cursor === undefined ? {} : { cursor }), ...(limit === undefined ? {} : { limit }) });
      },
    },
    'POST /keys/cancel-deletion': { needs: 'Admin', run: async (b) => ({ key: await lifecycle.cancelDeletion(keyRef(b)) }) },
    // The index rebuild from the blobs (docs/RECOVERY.md): one bounded batch per call, resumable from its checkpoint.
    'POST /recover': {
      needs: 'Admin',
      run: async (b) => ({ progress: await recovery().runBatch(int(b, 'batch')) }),
    },
    'GET /recover': { needs: 'Admin', run: async () => ({ progress: (await recovery().progress()) ?? null }) },
    'POST /recover/report': {
      needs: 'Admin',
      run: async (b) => recovery().report(text(b, 'cursor', false), int(b, 'limit')),
    },
    'GET /access-keys': { needs: 'Admin', run: async () => ({ accessKeys: await accessKeys.list() }) },
    'POST /access-keys': {
      needs: 'Admin',
      run: async (b) => {
        const description = text(b, 'description', false);
        return { accessKey: await accessKeys.create({ grants: b['grants'], ...(description ? { description } : {}) }) };
      },
    },
    'POST /access-keys/:id/disable': { needs: 'Admin', run: async (_b, id) => ({ accessKey: await accessKeys.setStatus(id ?? '', 'Inactive') }) },
    'POST /access-keys/:id/enable': { needs: 'Admin', run: async (_b, id) => ({ accessKey: await accessKeys.setStatus(id ?? '', 'Active') }) },
    'DELETE /access-keys/:id': {
      needs: 'Admin',
      run: async (_b, id) => {
        await accessKeys.delete(id ?? '');
        return { deleted: id };
      },
    },
  };

  /** '/access-keys/SK.../disable' → ('/access-keys/:id/disable', 'SK...'). */
  function match(method: string, path: string): { route: Route; param?: string } {
    const clean = path.replace(/\/+$/, '') || '/';
    const m = /^\/access-keys\/([^/]+)(\/[a-z-]+)?$/.exec(clean);
    const pattern = m ? `/access-keys/:id${m[2] ?? ''}` : clean;
    const route = routes[`${method} ${pattern}`];
    if (route) return m?.[1] === undefined ? { route } : { route, param: m[1] };
    if (Object.keys(routes).some((k) => k.endsWith(` ${pattern}`))) {
      throw new MethodNotAllowedError(`${method} is not allowed on ${ADMIN_PREFIX}${clean}.`, { Method: method, ResourceType: 'ADMIN' });
    }
    throw new InvalidRequestError(`No admin operation at ${ADMIN_PREFIX}${clean}. See docs/KEY-LIFECYCLE.md for the admin API.`);
  }

  return async (req, principal) => {
    const { route, param } = match(req.method, req.adminPath);
    if (route.needs !== 'Any') authorize(principal, route.needs);
    let body: Body = {};
    if (req.body.length > 0) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(req.body.toString('utf8'));
      } catch {
        throw new InvalidArgumentError('The admin API takes a JSON object as its request body.');
      }
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new InvalidArgumentError('The admin API takes a JSON object as its request body.');
      body = parsed as Body;
    }
    const result = await route.run(body, param);
    return { statusCode: 200, headers: { 'content-type': 'application/json' }, body: Buffer.from(JSON.stringify(result), 'utf8') };
  };
}
