// Turns a node:http request into the API Gateway REST proxy event that Lambda would receive for it.
import type { APIGatewayProxyEvent } from 'aws-lambda';
import type { IncomingMessage } from 'node:http';
import { emptyMap } from '../lambdas/api/event';

export function proxyEventFrom(req: IncomingMessage, body: Buffer, requestId: string): APIGatewayProxyEvent {
  const rawUrl = req.url ?? '/';
  const q = rawUrl.indexOf('?');
  // REST APIs hand the Lambda the path still percent-encoded, and the query decoded: do the same.
  const path = q < 0 ? rawUrl : rawUrl.slice(0, q);
  const multiValueQueryStringParameters: Record<string, string[]> = emptyMap();
  const queryStringParameters: Record<string, string> = emptyMap();
  if (q >= 0) {
    for (const pair of rawUrl.slice(q + 1).split('&')) {
      if (pair === '') continue;
      const eq = pair.indexOf('=');
      const name = safeDecode(eq < 0 ? pair : pair.slice(0, eq));
      const value = eq < 0 ? '' : safeDecode(pair.slice(eq + 1));
      (multiValueQueryStringParameters[name] ??= []).push(value);
      queryStringParameters[name] = value;
    }
  }
  const headers: Record<string, string> = emptyMap();
  const multiValueHeaders: Record<string, string[]> = emptyMap();
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = (req.rawHeaders[i] ?? '').toLowerCase();
    const value = req.rawHeaders[i + 1] ?? '';
    (multiValueHeaders[name] ??= []).push(value);
    headers[name] = value;
  }
  const hasQuery = Object.keys(queryStringParameters).length > 0;
  return {
    httpMethod: req.method ?? 'GET',
    path,
    resource: '/{proxy+}',
    headers,
    multiValueHeaders,
    queryStringParameters: hasQuery ? queryStringParameters : null,
    multiValueQueryStringParameters: hasQuery ? multiValueQueryStringParameters : null,
    pathParameters: null,
    stageVariables: null,
    body: body.length > 0 ? body.toString('base64') : null,
    isBase64Encoded: body.length > 0,
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      authorizer: null,
      protocol: `HTTP/${req.httpVersion}`,
      httpMethod: req.method ?? 'GET',
      identity: {
        accessKey: null, accountId: null, apiKey: null, apiKeyId: null, caller: null, clientCert: null,
        cognitoAuthenticationProvider: null, cognitoAuthenticationType: null, cognitoIdentityId: null,
        cognitoIdentityPoolId: null, principalOrgId: null, sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
        user: null, userAgent: req.headers['user-agent'] ?? null, userArn: null,
      },
      path,
      stage: '$default',
      requestId,
      requestTimeEpoch: Date.now(),
      resourceId: 'local',
      resourcePath: '/{proxy+}',
    },
  };
}

/** '+' means space in query strings; a malformed escape is kept literally, as API Gateway does. */
function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    return s;
  }
}
