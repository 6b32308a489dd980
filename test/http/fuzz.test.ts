import fc from 'fast-check';
import { StoreError } from '../../lambdas/core/errors';
import { parseRange } from '../../lambdas/http/range';
import { routeS3 } from '../../lambdas/http/router';
import { parseCompleteMultipartUpload, parseCreateBucketConfiguration, parseDelete } from '../../lambdas/http/xml';
import { bufferBody } from '../../lambdas/http/request';
import { s3Signer } from '../../lambdas/http/signer';
import { verifyRequest, type RawRequest as S3Request } from './verify';
import { HttpRequest } from '@smithy/protocol-http';

/** Runs fn; passes when it returns or throws a StoreError, fails on any other exception. */
function onlyStoreErrors(fn: () => unknown): void {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof StoreError)) throw e;
  }
}
async function onlyStoreErrorsAsync(fn: () => Promise<unknown>): Promise<void> {
  try {
    await fn();
  } catch (e) {
    if (!(e instanceof StoreError)) throw e;
  }
}

const text = fc.string({ unit: 'binary', maxLength: 80 });
const rangeLike = fc.oneof(
  text,
  fc.tuple(fc.constantFrom('bytes=', 'bytes =', 'BYTES=', ''), fc.oneof(fc.nat(), fc.constant('')), fc.constantFrom('-', ',', ''), fc.oneof(fc.nat(), fc.constant('')))
    .map(([a, b, c, d]) => `${a}${b}${c}${d}`),
);

describe('fuzz: the protocol layer throws only StoreErrors', () => {
  it('parseRange', () => {
    fc.assert(
      fc.property(fc.option(rangeLike, { nil: undefined }), fc.nat(), (header, size) => {
        onlyStoreErrors(() => {
          const r = parseRange(header, size);
          if (r !== undefined) {
            expect(r.start).toBeGreaterThanOrEqual(0);
            expect(r.end).toBeLessThan(size);
            expect(r.start).toBeLessThanOrEqual(r.end);
          }
        });
      }),
      { numRuns: 2000 },
    );
  });

  it('routeS3', () => {
    const segment = fc.oneof(fc.constantFrom('photos', '_sealstore', '', 'a.b', 'UP', 'x'.repeat(70)), text);
    const request = fc.record({
      method: fc.constantFrom('GET', 'PUT', 'POST', 'DELETE', 'HEAD', 'PATCH', 'OPTIONS', 'get'),
      path: fc.array(segment, { maxLength: 4 }).map((parts) => `/${parts.join('/')}`),
      query: fc.dictionary(fc.constantFrom('uploads', 'uploadId', 'partNumber', 'delete', 'acl', 'list-type', 'location', 'versionId', '__proto__', 'x'), text, { maxKeys: 4 }),
      headers: fc.dictionary(fc.constantFrom('x-amz-copy-source', 'host'), text, { maxKeys: 2 }),
      body: fc.constant(Buffer.alloc(0)),
    });
    fc.assert(fc.property(request, (req) => onlyStoreErrors(() => routeS3({ ...req, body: bufferBody(req.body) }))), { numRuns: 3000 });
  });

  it('the XML parsers', () => {
    const tag = fc.constantFrom('CompleteMultipartUpload', 'Part', 'PartNumber', 'ETag', 'Delete', 'Object', 'Key', 'Quiet', 'CreateBucketConfiguration', 'LocationConstraint', '!DOCTYPE', '?xml');
    const node: fc.Memo<string> = fc.memo((depth) =>
      depth <= 1
        ? fc.oneof(text, fc.constantFrom('&amp;', '&#0;', '&#x110000;', '&#xD800;', '&', '<', ']]>', '1', '10001'))
        : fc.tuple(tag, fc.array(node(depth - 1), { maxLength: 3 }), fc.boolean()).map(([t, kids, close]) => `<${t}>${kids.join('')}${close ? `</${t}>` : ''}`),
    );
    fc.assert(
      fc.property(fc.oneof(node(4), text), (doc) => {
        const body = Buffer.from(doc, 'utf8');
        onlyStoreErrors(() => parseCompleteMultipartUpload(body));
        onlyStoreErrors(() => parseDelete(body));
        onlyStoreErrors(() => parseCreateBucketConfiguration(body));
      }),
      { numRuns: 2000 },
    );
  });

  it('verifyRequest on arbitrary authentication input', async () => {
    const date = fc.oneof(text, fc.constantFrom('20260101T000000Z', '20261399T256161Z', '99999999T999999Z', '20260101T000000'));
    const authHeader = fc.oneof(
      text,
      fc.tuple(fc.constantFrom('AWS4-HMAC-SHA256 ', 'AWS ', ''), fc.array(fc.tuple(fc.constantFrom('Credential', 'SignedHeaders', 'Signature', 'x', ''), text), { maxLength: 4 }))
        .map(([alg, fields]) => alg + fields.map(([k, v]) => `${k}=${v}`).join(', ')),
      fc.tuple(text, fc.constantFrom('us-east-1', 'eu-west-1', ''), fc.constantFrom('s3', 'ec2'), fc.constantFrom('host;x-amz-date;x-amz-content-sha256', 'host', '', 'HOST;a b'), text)
        .map(([key, region, service, signed, sig]) => `AWS4-HMAC-SHA256 Credential=${key}/20260101/${region}/${service}/aws4_request, SignedHeaders=${signed}, Signature=${sig}`),
    );
    const sha = fc.constantFrom('UNSIGNED-PAYLOAD', 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD', 'STREAMING-UNSIGNED-PAYLOAD-TRAILER', 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER', 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855', 'junk');
    const request = fc.record({
      authorization: fc.option(authHeader, { nil: undefined }),
      amzDate: fc.option(date, { nil: undefined }),
      sha: fc.option(sha, { nil: undefined }),
      query: fc.dictionary(fc.constantFrom('X-Amz-Algorithm', 'X-Amz-Credential', 'X-Amz-Date', 'X-Amz-Expires', 'X-Amz-SignedHeaders', 'X-Amz-Signature', 'X-Amz-Content-Sha256'), fc.oneof(text, date, fc.constantFrom('AWS4-HMAC-SHA256', 'k/20260101/us-east-1/s3/aws4_request', '60', 'host')), { maxKeys: 7 }),
      path: text.map((p) => `/${p}`),
      body: fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b)),
      extra: fc.dictionary(fc.constantFrom('x-amz-trailer', 'x-amz-decoded-content-length', 'content-md5', 'x-amz-checksum-crc32', 'x-amz-checksum-sha256', 'host'), text, { maxKeys: 3 }),
    });
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        const headers: Record<string, string> = { host: 'localhost', ...r.extra };
        if (r.authorization !== undefined) headers.authorization = r.authorization;
        if (r.amzDate !== undefined) headers['x-amz-date'] = r.amzDate;
        if (r.sha !== undefined) headers['x-amz-content-sha256'] = r.sha;
        const req: S3Request = { method: 'PUT', path: r.path, query: r.query, headers, body: r.body };
        await onlyStoreErrorsAsync(() =>
          verifyRequest(req, { region: 'us-east-1', now: new Date('2026-01-01T00:00:00Z'), lookupSecret: async (id) => (id === 'k' ? 'secret' : undefined) }),
        );
      }),
      { numRuns: 1500 },
    );
  });

  it('verifyRequest on arbitrary aws-chunked bodies behind a valid signature', async () => {
    const signer = s3Signer({ credentials: { accessKeyId: 'k', secretAccessKey: 'secret' }, region: 'us-east-1' });
    const at = new Date('2026-01-01T00:00:00Z');
    const signedFor = async (mode: string) => {
      const out = await signer.sign(
        new HttpRequest({ method: 'PUT', hostname: 'localhost', path: '/b-1/k', headers: { host: 'localhost', 'x-amz-content-sha256': mode, 'x-amz-trailer': 'x-amz-checksum-crc32' } }),
        { signingDate: at },
      );
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(out.headers)) headers[name.toLowerCase()] = String(value);
      return headers;
    };
    const modes = ['STREAMING-UNSIGNED-PAYLOAD-TRAILER', 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD', 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER'];
    const signedHeaders = await Promise.all(modes.map(signedFor));
    const piece = fc.oneof(
      fc.constantFrom('\r\n', '0\r\n', '5\r\nhello\r\n', '5;chunk-signature=00\r\nhello\r\n', 'x-amz-checksum-crc32:NhCmhg==\r\n', 'x-amz-trailer-signature:00\r\n', 'ffffffffffff\r\n', ';', ':'),
      fc.string({ unit: 'binary', maxLength: 12 }),
    );
    await fc.assert(
      fc.asyncProperty(fc.nat(2), fc.array(piece, { maxLength: 8 }), async (mode, pieces) => {
        const headers = signedHeaders[mode] ?? {};
        const req: S3Request = { method: 'PUT', path: '/b-1/k', query: {}, headers, body: Buffer.from(pieces.join(''), 'latin1') };
        await onlyStoreErrorsAsync(() => verifyRequest(req, { region: 'us-east-1', now: at, lookupSecret: async () => 'secret' }));
      }),
      { numRuns: 1500 },
    );
    // The generator does reach success: a well-formed unsigned-trailer body is accepted.
    const ok: S3Request = { method: 'PUT', path: '/b-1/k', query: {}, headers: signedHeaders[0] ?? {}, body: Buffer.from('5\r\nhello\r\n0\r\nx-amz-checksum-crc32:NhCmhg==\r\n\r\n', 'latin1') };
    await expect(verifyRequest(ok, { region: 'us-east-1', now: at, lookupSecret: async () => 'secret' })).resolves.toMatchObject({ payload: Buffer.from('hello') });
  });
});
