// The Lambda front of the S3 API: API Gateway event in, the shared API's response out, streamed back when the
// runtime supports response streaming. Only the event adaptation lives here; the API is the one every front runs.
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { requestFromEvent } from '../api/lambda-event';
import { errorResponse, type ApiResponse } from '../api/response';
import type { S3Api } from '../api/s3-api';
import { newRequestId } from '../core/ids';

export type ApiHandler = (event: APIGatewayProxyEvent) => Promise<ApiResponse>;

export function makeHandler(api: S3Api): ApiHandler {
  return async (event) => {
    let parsed: ReturnType<typeof requestFromEvent>;
    try {
      parsed = requestFromEvent(event);
    } catch (e) {
      return errorResponse(e, event.path, newRequestId(), event.httpMethod);
    }
    return api(parsed.request, parsed.canonicalPath === undefined ? {} : { canonicalPath: parsed.canonicalPath });
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
 * which the client sees as a truncated transfer rather than wrong bytes. `afterResponse` runs once the client has
 * its answer and before the invocation ends: work left in the background would freeze with the container.
 */
export function streamingHandler(
  runtime: LambdaStreamingRuntime,
  handle: (event: APIGatewayProxyEvent) => Promise<ApiResponse>,
  afterResponse?: () => Promise<void>,
): unknown {
  return runtime.streamifyResponse(async (event, responseStream) => {
    const response = await handle(event);
    const out = runtime.HttpResponseStream.from(responseStream, { statusCode: response.statusCode, headers: { ...response.headers } });
    const body = Buffer.isBuffer(response.body) ? Readable.from([response.body]) : response.body;
    try {
      // The runtime writes the metadata prelude (status, headers) on the first write() and never on end(): an
      // answer whose body yields no bytes (an empty object's GET) would reach API Gateway with no status at all.
      out.write(Buffer.alloc(0));
      await pipeline(body, out);
    } finally {
      await afterResponse?.();
    }
  });
}
