import { renderError } from '../../lambdas/http/render-error';
import { IntegrityError, NoSuchKeyError, SlowDownError } from '../../lambdas/core/errors';

describe('renderError', () => {
  it('renders a StoreError with its code, status, message and extra fields', () => {
    const out = renderError(new NoSuchKeyError('The specified key does not exist.', { Key: 'a&b' }), '/b/a&b', 'req-1');
    expect(out.statusCode).toBe(404);
    expect(out.headers).toEqual({ 'content-type': 'application/xml', 'x-amz-request-id': 'req-1' });
    expect(out.body).toContain('<Code>NoSuchKey</Code><Message>The specified key does not exist.</Message><Key>a&amp;b</Key>');
    expect(out.body).toContain('<Resource>/b/a&amp;b</Resource><RequestId>req-1</RequestId>');
  });

  it('keeps 503 SlowDown speaking', () => {
    const out = renderError(new SlowDownError('Please reduce your request rate.'), '/b/k', 'r');
    expect(out.statusCode).toBe(503);
    expect(out.body).toContain('<Code>SlowDown</Code><Message>Please reduce your request rate.</Message>');
  });

  it('never leaks internals: unknown errors and integrity failures are a generic 500', () => {
    for (const err of [new Error('ENOENT /var/secret/path'), 'boom', new IntegrityError('frame 3 failed auth under key arn:aws:kms:x', { Frame: '3' })]) {
      const out = renderError(err, '/b/k', 'r');
      expect(out.statusCode).toBe(500);
      expect(out.body).toContain('<Code>InternalError</Code>');
      expect(out.body).not.toMatch(/ENOENT|secret|frame|arn:|Frame/);
    }
  });

  it('answers HEAD with the status alone', () => {
    const out = renderError(new NoSuchKeyError('gone'), '/b/k', 'r', 'HEAD');
    expect(out).toEqual({ statusCode: 404, headers: { 'x-amz-request-id': 'r' }, body: '' });
  });
});
