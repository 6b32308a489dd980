// The S3 API: routes a request, authenticates it from its headers, then runs its operation from the table in
// ./operations. Every front (node:http, Lambda) calls this with the same transport-neutral request.
// Protocol details (routing, SigV4, ranges, XML) live in lambdas/http; storage lives behind the service.
import { authorize, type CredentialStore, type Principal } from '../core/access';
import { causeOf, ClientDisconnectedError, InvalidArgumentError, NotImplementedError, StoreError } from '../core/errors';
import { newRequestId } from '../core/ids';
import type { Logger } from '../core/logger';
import type { ObjectService } from '../core/object-service';
import type { S3Request } from '../http/request';
import { routeS3 } from '../http/router';
import { refuseCustomerKeys, refuseSseOnReads } from '../http/sse';
import { refuseUnsupportedHeaders } from '../http/unsupported-headers';
import { authenticate, type Authenticated, type PayloadLimit } from '../http/sigv4';
import type { BodySpool } from '../http/spool';
import type { AdminApi } from './admin-api';
import { readAll, type OperationContext } from './operations/context';
import { OPERATIONS } from './operations';
import { refuseUnexpectedOwner } from './operations/expected-owner';
import { anyBodyLimit, documentLimit, type LimitsContext } from './payload-limits';
import { errorResponse, type ApiResponse } from './response';

export interface S3ApiDeps {
  readonly service: ObjectService;
  readonly credentials: CredentialStore;
  readonly admin: AdminApi;
  readonly region: string;
  readonly limits: LimitsContext;
  /** Holds a body whose hash the signature covers but the request does not declare (curl --aws-sigv4). */
  readonly spool: BodySpool;
  readonly now?: () => Date;
  readonly logger?: Logger;
}

export interface ApiCallOptions {
  /** The decoded path the client signed, when a proxy or the addressing changed it (API Gateway stage, virtual host). */
  readonly canonicalPath?: string;
}

export type S3Api = (req: S3Request, options?: ApiCallOptions) => Promise<ApiResponse>;

export function makeS3Api(deps: S3ApiDeps): S3Api {
  const now = deps.now ?? (() => new Date());
  const spoolLimit = anyBodyLimit(deps.limits);
  const docLimit = documentLimit(deps.limits);

  return async function handle(req, options = {}) {
    const requestId = newRequestId();
    let authenticated: Authenticated | undefined;
    try {
      const route = routeS3(req);
      let principal: Principal | undefined;
      authenticated = await authenticate(req, {
        region: deps.region,
        now: now(),
        ...(options.canonicalPath === undefined ? {} : { canonicalPath: options.canonicalPath }),
        spool: deps.spool,
        maxBodyBytes: spoolLimit.maxBytes,
        tooLarge: spoolLimit.tooLarge,
        lookupSecret: async (id) => {
          const found = await deps.credentials.lookup(id);
          principal = found?.principal;
          return found?.secret;
        },
      });
      if (!principal || principal.accessKeyId !== authenticated.accessKeyId) {
        throw new InvalidArgumentError('credentials changed during the request');
      }
      const auth = authenticated;
      const caller = principal;
      const checkLength = (limit: PayloadLimit) => {
        if (auth.payloadLength !== undefined && auth.payloadLength > limit.maxBytes) throw limit.tooLarge(auth.payloadLength);
      };
      const document = () => readAll(auth.openPayload(route.op === 'CompleteMultipartUpload' ? { ...docLimit, checksumHeadersNameObject: true } : docLimit));
      let response: ApiResponse;
      if (route.op === 'Admin') {
        // Each admin route authorises itself: rewrap and rotation are open to the rewrap role, the rest to admin.
        response = await deps.admin({ method: req.method, adminPath: route.adminPath, body: await document() }, principal);
      } else {
        const ctx: OperationContext = {
          req,
          route,
          principal,
          requestId,
          service: deps.service,
          region: deps.region,
          limits: deps.limits,
          bucket: route.bucket ?? '',
          key: route.key ?? '',
          can: (action, bucket) => authorize(caller, action, bucket),
          payload: (limit) => auth.openPayload(limit),
          checkPayloadLength: checkLength,
          document,
        };
        // SSE-C is refused on every operation, SSE-KMS headers on reads, and every header asking for what this store
        // does not have (Object Lock, tagging, storage classes...); an expected bucket owner is checked against the
        // bucket's. All after authentication and before any body is read or anything written.
        refuseCustomerKeys(route.op, req.headers);
        refuseSseOnReads(route.op, req.headers);
        refuseUnsupportedHeaders(route.op, req.headers);
        await refuseUnexpectedOwner(ctx);
        response = await OPERATIONS[route.op](ctx);
      }
      deps.logger?.info('request', { requestId, op: route.op, bucket: route.bucket, status: response.statusCode });
      return { ...response, headers: { ...response.headers, 'x-amz-request-id': requestId } };
    } catch (e) {
      // A client that hangs up mid-upload is routine, not something an operator must act on.
      if (e instanceof ClientDisconnectedError) deps.logger?.info('client disconnected mid-request', { requestId, method: req.method, path: req.path, error: e.message });
      else if (!(e instanceof StoreError)) deps.logger?.error('unexpected error', { requestId, error: e instanceof Error ? e.stack : String(e) });
      // 501 answers a client that asked for something this store does not do: the client's to act on, not the operator's.
      else if (e.statusCode >= 500 && !(e instanceof NotImplementedError)) deps.logger?.error('request failed', { requestId, code: e.code, status: e.statusCode, error: e.message, ...causeOf(e) });
      else deps.logger?.info('request failed', { requestId, code: e.code, status: e.statusCode });
      return errorResponse(e, req.path, requestId, req.method);
    } finally {
      await authenticated?.dispose();
    }
  };
}
