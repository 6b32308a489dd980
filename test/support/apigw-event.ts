// API Gateway REST proxy events (payload v1) as the gateway builds them for `ANY /{proxy+}` with binary media type
// `*/*`, from a request a client signed against the public URL: through the stage URL
// (https://<api>.execute-api.<region>.amazonaws.com/<stage>/...) or a custom domain's base path mapping
// (https://<domain>/<basePath>/...). `path` is the resource path as sent (percent-encoding kept, no stage or base
// path); requestContext.path is the path the client used, with the stage or base path; pathParameters are decoded.
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { HttpRequest } from '@smithy/protocol-http';
import { createHash, randomUUID } from 'node:crypto';
import { s3Signer } from '../../lambdas/http/signer';

export interface GatewayFront {
  readonly name: string;
  /** The Host the client connects to and signs. */
  readonly host: string;
  /** What precedes the resource path in the client's URL: '/prod' (stage), '/storage' (base path), '' (root mapping). */
  readonly prefix: string;
  readonly stage: string;
  /**
   * How requestContext.path spells the key. AWS documents neither; 'as-sent' keeps the client's percent-encoding,
   * 'decoded' hands it on decoded. The function must get both right.
   */
  readonly contextPath: 'as-sent' | 'decoded';
}

export interface ClientRequest {
  readonly method: string;
  /** The resource path as the client puts it in the URL (S3-encoded), without the stage or base path. */
  readonly path: string;
  readonly query?: Record<string, string>;
  readonly headers?: Record<string, string>;
  readonly body?: Buffer;
  /** API Gateway base64-encodes a body whose content type matches a binary media type (here every type: every body). */
  readonly bodyEncoding?: 'base64' | 'text';
  readonly unsignedPayload?: boolean;
}

export interface Creds {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

const API_ID = 'a1b2c3d4e5';

export function stageFront(stage: string, contextPath: GatewayFront['contextPath'] = 'as-sent'): GatewayFront {
  return { name: `stage /${stage} (requestContext.path ${contextPath})`, host: `${API_ID}.execute-api.us-east-1.amazonaws.com`, prefix: `/${stage}`, stage, contextPath };
}

export function basePathFront(basePath: string, stage: string, contextPath: GatewayFront['contextPath'] = 'as-sent'): GatewayFront {
  return {
    name: `custom domain base path ${basePath === '' ? '(none)' : `/${basePath}`} (requestContext.path ${contextPath})`,
    host: 'storage.example.com',
    prefix: basePath === '' ? '' : `/${basePath}`,
    stage,
    contextPath,
  };
}

const decodeSegments = (p: string) => p.split('/').map((s) => decodeURIComponent(s)).join('/');

/** Signs `req` as a client does against the front's public URL, then builds the event the gateway hands the function. */
export async function signedEvent(front: GatewayFront, creds: Creds, req: ClientRequest, signingDate = new Date()): Promise<APIGatewayProxyEvent> {
  const body = req.body ?? Buffer.alloc(0);
  const signer = s3Signer({ credentials: creds, region: 'us-east-1' });
  const signed = await signer.sign(
    new HttpRequest({
      method: req.method,
      protocol: 'https:',
      hostname: front.host,
      path: `${front.prefix}${req.path}`,
      query: { ...(req.query ?? {}) },
      headers: {
        host: front.host,
        'x-amz-content-sha256': req.unsignedPayload ? 'UNSIGNED-PAYLOAD' : createHash('sha256').update(body).digest('hex'),
        ...(req.headers ?? {}),
      },
      body,
    }),
    { signingDate },
  );
  const headers: Record<string, string> = {
    ...signed.headers,
    'User-Agent': 'aws-sdk-js/3 artifact-test',
    'X-Amzn-Trace-Id': 'Root=1-67890abc-0123456789abcdef01234567',
    'X-Forwarded-For': '198.51.100.7',
    'X-Forwarded-Port': '443',
    'X-Forwarded-Proto': 'https',
    ...(body.length > 0 && { 'Content-Length': String(body.length) }),
  };
  return gatewayEvent(front, req.method, req.path, req.query ?? {}, headers, body, req.bodyEncoding ?? 'base64');
}

/** The event for a request already signed (e.g. by the AWS SDK): `path` as sent, without the front's prefix. */
export function gatewayEvent(
  front: GatewayFront,
  method: string,
  path: string,
  query: Record<string, string | string[]>,
  headers: Record<string, string>,
  body: Buffer,
  bodyEncoding: 'base64' | 'text' = 'base64',
): APIGatewayProxyEvent {
  const queryEntries = Object.entries(query);
  const multiQuery = Object.fromEntries(queryEntries.map(([k, v]) => [k, Array.isArray(v) ? v : [v]]));
  const now = Date.now();
  const proxy = path === '/' ? undefined : decodeSegments(path.slice(1));
  return {
    resource: proxy === undefined ? '/' : '/{proxy+}',
    path,
    httpMethod: method,
    headers,
    multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]])),
    queryStringParameters: queryEntries.length === 0 ? null : Object.fromEntries(queryEntries.map(([k, v]) => [k, Array.isArray(v) ? v[v.length - 1]! : v])),
    multiValueQueryStringParameters: queryEntries.length === 0 ? null : multiQuery,
    pathParameters: proxy === undefined ? null : { proxy },
    stageVariables: null,
    requestContext: {
      resourceId: 'abc123',
      resourcePath: proxy === undefined ? '/' : '/{proxy+}',
      httpMethod: method,
      extendedRequestId: 'Abc=',
      requestTime: new Date(now).toUTCString(),
      path: `${front.prefix}${front.contextPath === 'decoded' ? decodeSegments(path) : path}`,
      accountId: '123456789012',
      protocol: 'HTTP/1.1',
      stage: front.stage,
      domainPrefix: front.host.split('.')[0]!,
      requestTimeEpoch: now,
      requestId: randomUUID(),
      identity: {
        cognitoIdentityPoolId: null,
        accountId: null,
        cognitoIdentityId: null,
        caller: null,
        sourceIp: '198.51.100.7',
        principalOrgId: null,
        accessKey: null,
        cognitoAuthenticationType: null,
        cognitoAuthenticationProvider: null,
        userArn: null,
        userAgent: headers['User-Agent'] ?? headers['user-agent'] ?? null,
        user: null,
        apiKey: null,
        apiKeyId: null,
        clientCert: null,
      },
      domainName: front.host,
      apiId: API_ID,
      authorizer: null,
    },
    body: body.length === 0 ? null : bodyEncoding === 'base64' ? body.toString('base64') : body.toString('utf8'),
    isBase64Encoded: body.length > 0 && bodyEncoding === 'base64',
  };
}
