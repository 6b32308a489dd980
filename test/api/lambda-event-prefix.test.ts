// The path a client signed behind an API Gateway prefix (stage or custom-domain base path), whichever way the
// gateway spells requestContext.path: as sent (percent-encoded) or decoded. The artifact suite (test/artifact)
// proves the same through the bundle; this pins the rule in the fast tier.
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { requestFromEvent } from '../../lambdas/api/lambda-event';

const event = (path: string, contextPath: string): APIGatewayProxyEvent =>
  ({ httpMethod: 'GET', path, headers: {}, body: null, isBase64Encoded: false, requestContext: { path: contextPath } }) as unknown as APIGatewayProxyEvent;

describe('requestFromEvent: the signed path behind a prefix', () => {
  it.each([
    ['stage, as sent', '/b/hello%20world%2B%C3%BC.bin', '/prod/b/hello%20world%2B%C3%BC.bin', '/prod/b/hello world+ü.bin'],
    ['stage, decoded', '/b/hello%20world%2B%C3%BC.bin', '/prod/b/hello world+ü.bin', '/prod/b/hello world+ü.bin'],
    ['base path, decoded, a key holding %', '/b/100%25', '/storage/b/100%', '/storage/b/100%'],
    ['base path, decoded, a key holding %2B', '/b/a%252Bb', '/storage/b/a%2Bb', '/storage/b/a%2Bb'],
    ['base path, as sent', '/b/a%3Db', '/storage/b/a%3Db', '/storage/b/a=b'],
  ])('%s', (_what, path, contextPath, signed) => {
    expect(requestFromEvent(event(path, contextPath)).canonicalPath).toBe(signed);
  });

  it.each([
    ['no prefix, as sent', '/b/a%3Db', '/b/a%3Db'],
    ['no prefix, decoded', '/b/a%3Db', '/b/a=b'],
  ])('%s: the request path is the signed path', (_what, path, contextPath) => {
    expect(requestFromEvent(event(path, contextPath)).canonicalPath).toBeUndefined();
  });
});
