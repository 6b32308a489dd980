// The Lambda front's input: an API Gateway REST proxy event turned into the transport-neutral S3 request.
// API Gateway has already buffered (and base64-encoded) the body, so here it is a one-chunk stream.
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { bufferBody, decodePath, emptyMap, type S3Request } from '../http/request';

/**
 * The request as the client signed it. API Gateway's `path` drops the stage, but the client signed the
 * stage prefix too, so the canonical path comes from requestContext.path when there is one.
 */
export function requestFromEvent(event: APIGatewayProxyEvent): { request: S3Request; canonicalPath?: string } {
  const headers: Record<string, string> = emptyMap();
  if (event.multiValueHeaders) {
    for (const [name, values] of Object.entries(event.multiValueHeaders)) {
      if (values && values.length > 0) headers[name.toLowerCase()] = values.join(',');
    }
  }
  for (const [name, value] of Object.entries(event.headers ?? {})) {
    if (value !== undefined && headers[name.toLowerCase()] === undefined) headers[name.toLowerCase()] = value;
  }
  const query: Record<string, string> = emptyMap();
  if (event.multiValueQueryStringParameters) {
    for (const [name, values] of Object.entries(event.multiValueQueryStringParameters)) {
      if (values && values.length > 0) query[name] = values[values.length - 1] ?? '';
    }
  }
  for (const [name, value] of Object.entries(event.queryStringParameters ?? {})) {
    if (query[name] === undefined) query[name] = value ?? '';
  }
  const body = event.body == null ? Buffer.alloc(0) : Buffer.from(event.body, event.isBase64Encoded ? 'base64' : 'utf8');
  // REST APIs deliver paths still percent-encoded; the S3 layer works on the decoded key.
  const path = decodePath(event.path);
  const canonicalPath = signedPath(event.requestContext?.path, event.path, path);
  return {
    request: { method: event.httpMethod.toUpperCase(), path, query, headers, body: bufferBody(body) },
    canonicalPath,
  };
}

/**
 * The decoded path the client signed, when the gateway reached the function under a prefix: a stage (`/prod`) or a
 * custom domain's base path. Only the prefix comes from requestContext.path, which may spell the resource path as
 * sent or decoded (a decoded one cannot be decoded again: `100%`, or a key holding `%2B`); the rest is `path`.
 */
function signedPath(contextPath: string | undefined, rawPath: string, path: string): string | undefined {
  if (!contextPath) return undefined;
  let prefix: string | undefined;
  if (contextPath.endsWith(rawPath)) prefix = decodePath(contextPath.slice(0, contextPath.length - rawPath.length));
  else if (contextPath.endsWith(path)) prefix = contextPath.slice(0, contextPath.length - path.length);
  return prefix ? prefix + path : undefined;
}
