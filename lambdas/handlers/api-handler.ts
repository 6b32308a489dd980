// The API Lambda's logic as a factory: event in, response out. Lambda, the embedded server and tests share it.
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Writable } from 'node:stream';
import { makeS3Api, type S3ApiDeps } from '../api/s3-api';
import { requestFromEvent, type ApiResponse } from '../api/event';
import { renderError } from '../http/errors';
import { newRequestId } from '../core/ids';

export type ApiHandler = (event: APIGatewayProxyEvent) => Promise<ApiResponse>;

export function makeHandler(deps: S3ApiDeps): ApiHandler {
  const api = makeS3Api(deps);
  return async (event) => {
    let parsed: ReturnType<typeof requestFromEvent>;
    try {
      parsed = requestFromEvent(event);
    } catch (e) {
      const r = renderError(e, event.path, newRequestId(), event.httpMethod);
      return { statusCode: r.statusCode, headers: r.headers, body: Buffer.from(r.body, 'utf8') };
    }
    return api(parsed.request, parsed.canonicalPath);
  };
}

/** The slice of the Lambda runtime's `awslambda` global that response streaming uses. */
export interface LambdaStreamingRuntime {
  streamifyResponse(fn: (event: APIGatewayProxyEvent, responseStream: Writable) => Promise<void>): unknown;
  HttpResponseStream: {
    from(stream: Writable, metadata: { statusCode: number; headers: Record<string, string> }): Writable;
  };
}

/**
 * Wraps a handler for Lambda response streaming (API Gateway transfer mode STREAM): headers first, then the
 * body piped through, so a large GET never sits in memory. A stream error mid-body aborts the response,
 * which the client sees as a truncated transfer rather than wrong bytes.
 */
export function streamingHandler(runtime: LambdaStreamingRuntime, handle: (event: APIGatewayProxyEvent) => Promise<ApiResponse>): unknown {
  return runtime.streamifyResponse(async (event, responseStream) => {
    const response = await handle(event);
    const out = runtime.HttpResponseStream.from(responseStream, { statusCode: response.statusCode, headers: { ...response.headers } });
    const body = Buffer.isBuffer(response.body) ? Readable.from([response.body]) : response.body;
    await pipeline(body, out);
  });
}
