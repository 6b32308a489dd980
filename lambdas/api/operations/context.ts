// What every S3 operation handler receives: the authenticated request, who made it, and the store.
import type { Readable } from 'node:stream';
import type { Action, Principal } from '../../core/access';
import type { ObjectService } from '../../core/object-service';
import type { CheckedBody } from '../../http/body-checks';
import type { S3Op, S3Route } from '../../http/router';
import type { S3Request } from '../../http/request';
import type { PayloadLimit } from '../../http/sigv4';
import type { ApiResponse } from '../response';
import type { LimitsContext } from '../payload-limits';

/** A route that names an S3 operation (not the admin API). */
export type S3OperationRoute = Extract<S3Route, { op: S3Op }>;

export interface OperationContext {
  readonly req: S3Request;
  readonly route: S3OperationRoute;
  readonly principal: Principal;
  readonly requestId: string;
  readonly service: ObjectService;
  readonly region: string;
  readonly limits: LimitsContext;
  /** The route's bucket and key ('' where the route has none). */
  readonly bucket: string;
  readonly key: string;
  /** Throws AccessDenied unless the caller's grants allow `action` (on `bucket`, when given). */
  can(action: Action, bucket?: string): void;
  /**
   * The request payload as a verified stream, under `limit`. A payload declared larger is refused here, before
   * anything is read. Open it only when the operation is ready to consume it.
   */
  payload(limit: PayloadLimit): CheckedBody;
  /** Checks the declared payload length against `limit` without opening the body. */
  checkPayloadLength(limit: PayloadLimit): void;
  /** A small XML or JSON body read whole, under the document limit. */
  document(): Promise<Buffer>;
}

export type Operation = (ctx: OperationContext) => Promise<ApiResponse>;

/** Reads a stream whole; for bodies a limit already bounds. */
export async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
