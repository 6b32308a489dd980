// What an API call answers, whichever front carries it: status, headers, and a body that may stream.
import type { Readable } from 'node:stream';
import { renderError } from '../http/errors';

export interface ApiResponse {
  readonly statusCode: number;
  readonly headers: Readonly<Record<string, string>>;
  /** A Readable streams (GET bodies); a front must cut the connection if it errors mid-way, never pad it. */
  readonly body: Buffer | Readable;
}

const XML = 'application/xml';

export function respond(statusCode: number, headers: Record<string, string>, body: Buffer | Readable = Buffer.alloc(0)): ApiResponse {
  return { statusCode, headers, body };
}

export function xmlResponse(requestId: string, xml: string, extraHeaders: Record<string, string> = {}, statusCode = 200): ApiResponse {
  return respond(statusCode, { 'content-type': XML, 'x-amz-request-id': requestId, ...extraHeaders }, Buffer.from(xml, 'utf8'));
}

/** S3's XML error answer for `error` (a StoreError's code and status; anything else an InternalError). */
export function errorResponse(error: unknown, resource: string, requestId: string, method: string): ApiResponse {
  const rendered = renderError(error, resource, requestId, method);
  return respond(rendered.statusCode, rendered.headers, Buffer.from(rendered.body, 'utf8'));
}
