// Turns any thrown value into S3's error response; only StoreErrors speak, everything else is a generic 500.
import { StoreError } from '../core/errors';
import { renderErrorXml } from './xml-render';

export interface ErrorResponse {
  readonly statusCode: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

const GENERIC_MESSAGE = 'We encountered an internal error. Please try again.';

/**
 * `method` matters for HEAD: S3 answers HEAD errors with the status alone, no body.
 * Unknown errors never leak their message or stack to the client; the caller logs them.
 */
export function renderError(err: unknown, resource: string, requestId: string, method = 'GET'): ErrorResponse {
  const known = err instanceof StoreError;
  const statusCode = known ? err.statusCode : 500;
  const code = known ? err.code : 'InternalError';
  // IntegrityError and friends render as InternalError: their detail is for logs, not for callers.
  const speaks = known && code !== 'InternalError';
  const message = speaks ? err.message : GENERIC_MESSAGE;
  const extra = speaks ? err.extra : {};
  const headers: Record<string, string> = { ...(known ? err.responseHeaders : {}), 'x-amz-request-id': requestId };
  if (method.toUpperCase() === 'HEAD') return { statusCode, headers, body: '' };
  headers['content-type'] = 'application/xml';
  return { statusCode, headers, body: renderErrorXml({ code, message, resource, requestId, extra }) };
}
