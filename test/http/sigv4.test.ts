import { createHash, createHmac } from 'node:crypto';
import { Readable } from 'node:stream';
import { crc32 } from 'node:zlib';
import {
  CreateMultipartUploadCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { HttpRequest } from '@smithy/protocol-http';
import { StoreError } from '../../lambdas/core/errors';
import { parseAmzDate } from '../../lambdas/http/sigv4-auth';
import { s3EncodePath } from '../../lambdas/http/sigv4';
import { s3Signer } from '../../lambdas/http/signer';
import { verifyRequest, type RawRequest as S3Request, type VerifyOptions } from './verify';
import { type CannedResponse, type CaptureServer, startCaptureServer } from './capture';
import { referenceSignature as reference, type ReferenceRequest } from '../support/reference-sigv4';

const ACCESS_KEY = 'AKIDSEALSTORETEST';
const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const REGION = 'us-east-1';

function options(req: S3Request, overrides: Partial<VerifyOptions> = {}): VerifyOptions {
  const signedAt = parseAmzDate(req.headers['x-amz-date'] ?? req.query['X-Amz-Date'] ?? '') ?? new Date();
  return {
    region: REGION,
    now: signedAt,
    lookupSecret: async (id) => (id === ACCESS_KEY ? SECRET : undefined),
    ...overrides,
  };
}

async function rejection(promise: Promise<unknown>): Promise<StoreError> {
  try {
    await promise;
  } catch (e) {
    if (e instanceof StoreError) return e;
    throw e;
  }
  throw new Error('expected a rejection');
}

const withHeader = (req: S3Request, name: string, value: string): S3Request => ({ ...req, headers: { ...req.headers, [name]: value } });

describe('verifyRequest with requests captured from @aws-sdk/client-s3', () => {
  let server: CaptureServer;
  let client: S3Client;
  const captured: Record<string, S3Request> = {};

  beforeAll(async () => {
    server = await startCaptureServer();
    client = new S3Client({
      endpoint: server.endpoint,
      forcePathStyle: true,
      region: REGION,
      credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET },
      maxAttempts: 1,
    });
    const send = async (name: string, run: () => Promise<unknown>) => {
      await run().catch(() => undefined);
      const last = server.requests[server.requests.length - 1];
      if (last === undefined) throw new Error(`no request captured for ${name}`);
      captured[name] = last;
    };
    server.respondWith((req): CannedResponse => {
      if (req.method === 'GET' && req.query['list-type'] === '2') {
        return {
          status: 200,
          headers: { 'content-type': 'application/xml' },
          body: '<?xml version="1.0" encoding="UTF-8"?><ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>b</Name><KeyCount>0</KeyCount><IsTruncated>false</IsTruncated></ListBucketResult>',
        };
      }
      if (req.method === 'POST' && 'uploads' in req.query) {
        return {
          status: 200,
          body: '<?xml version="1.0" encoding="UTF-8"?><InitiateMultipartUploadResult><Bucket>b</Bucket><Key>k</Key><UploadId>u1</UploadId></InitiateMultipartUploadResult>',
        };
      }
      if (req.method === 'POST' && 'delete' in req.query) {
        return { status: 200, body: '<?xml version="1.0" encoding="UTF-8"?><DeleteResult></DeleteResult>' };
      }
      if (req.method === 'GET') return { status: 200, headers: { 'content-length': '5' }, body: 'hello' };
      return { status: 200, headers: { etag: '"0123"' } };
    });
    await send('putBuffer', () => client.send(new PutObjectCommand({ Bucket: 'photos', Key: 'a b/ü+(1).txt', Body: Buffer.from('hello world') })));
    await send('putStream', () =>
      client.send(
        new PutObjectCommand({
          Bucket: 'photos',
          Key: 'streamed.bin',
          Body: Readable.from([Buffer.from('hello '), Buffer.from('streaming '), Buffer.from('world')]),
          ContentLength: 21,
        }),
      ),
    );
    await send('putCrc32c', () =>
      client.send(new PutObjectCommand({ Bucket: 'photos', Key: 'c.txt', Body: Buffer.from('castagnoli'), ChecksumAlgorithm: 'CRC32C' })),
    );
    await send('putSha1', () => client.send(new PutObjectCommand({ Bucket: 'photos', Key: 's.txt', Body: Buffer.from('sha one'), ChecksumAlgorithm: 'SHA1' })));
    await send('get', () => client.send(new GetObjectCommand({ Bucket: 'photos', Key: 'dir/naïve file.txt', Range: 'bytes=0-4' })));
    await send('list', () => client.send(new ListObjectsV2Command({ Bucket: 'photos', Prefix: 'фото/日本 ', Delimiter: '/', MaxKeys: 7 })));
    await send('initiate', () => client.send(new CreateMultipartUploadCommand({ Bucket: 'photos', Key: 'big.bin' })));
    await send('deleteMany', () =>
      client.send(new DeleteObjectsCommand({ Bucket: 'photos', Delete: { Objects: [{ Key: 'x' }, { Key: 'y' }], Quiet: true } })),
    );
  });

  afterAll(async () => {
    client.destroy();
    await server.close();
  });

  const req = (name: string): S3Request => {
    const found = captured[name];
    if (found === undefined) throw new Error(`not captured: ${name}`);
    return found;
  };

  it('accepts a PutObject of a buffer, with its CRC32 header checksum, and returns the body as payload', async () => {
    const r = req('putBuffer');
    expect(r.headers['x-amz-checksum-crc32']).toBeDefined();
    const verified = await verifyRequest(r, options(r));
    expect(verified).toEqual({
      accessKeyId: ACCESS_KEY,
      payload: Buffer.from('hello world'),
      presigned: false,
      checksum: { algorithm: 'CRC32', value: r.headers['x-amz-checksum-crc32'] },
    });
  });

  it('decodes the aws-chunked body a streaming PutObject sends and verifies its CRC32 trailer', async () => {
    const r = req('putStream');
    expect(r.headers['x-amz-content-sha256']).toBe('STREAMING-UNSIGNED-PAYLOAD-TRAILER');
    expect(r.body.toString('latin1')).toContain('x-amz-checksum-crc32:');
    const verified = await verifyRequest(r, options(r));
    expect(verified.payload.toString()).toBe('hello streaming world');
    expect(verified.checksum?.algorithm).toBe('CRC32');
  });

  it('verifies CRC32C and SHA-1 checksums the SDK computes', async () => {
    const c = req('putCrc32c');
    expect(JSON.stringify(c)).toContain('crc32c');
    expect((await verifyRequest(c, options(c))).checksum?.algorithm).toBe('CRC32C');
    const s = req('putSha1');
    expect((await verifyRequest(s, options(s))).checksum?.algorithm).toBe('SHA1');
  });

  it('accepts GetObject, ListObjectsV2 with a unicode prefix, CreateMultipartUpload and DeleteObjects', async () => {
    for (const name of ['get', 'list', 'initiate', 'deleteMany']) {
      const r = req(name);
      await expect(verifyRequest(r, options(r))).resolves.toMatchObject({ accessKeyId: ACCESS_KEY });
    }
    expect(req('list').query['prefix']).toBe('фото/日本 ');
    expect(req('initiate').query['uploads']).toBe('');
  });

  it('rejects a request whose path was changed', async () => {
    const r = req('get');
    const e = await rejection(verifyRequest({ ...r, path: '/photos/dir/naive file.txt' }, options(r)));
    expect(e.code).toBe('SignatureDoesNotMatch');
  });

  it('rejects a request whose query was changed', async () => {
    const r = req('list');
    const e = await rejection(verifyRequest({ ...r, query: { ...r.query, 'max-keys': '1000' } }, options(r)));
    expect(e.code).toBe('SignatureDoesNotMatch');
  });

  it('rejects a request with a changed signed header, method, or signature', async () => {
    const r = req('putBuffer');
    expect((await rejection(verifyRequest(withHeader(r, 'content-type', 'text/html'), options(r)))).code).toBe('SignatureDoesNotMatch');
    expect((await rejection(verifyRequest({ ...r, method: 'POST' }, options(r)))).code).toBe('SignatureDoesNotMatch');
    const auth = r.headers.authorization ?? '';
    const flipped = auth.replace(/Signature=([0-9a-f])/, (_m, c: string) => `Signature=${c === '0' ? '1' : '0'}`);
    expect((await rejection(verifyRequest(withHeader(r, 'authorization', flipped), options(r)))).code).toBe('SignatureDoesNotMatch');
  });

  it('rejects a request signed with another secret', async () => {
    const r = req('get');
    const e = await rejection(verifyRequest(r, options(r, { lookupSecret: async () => 'not-the-secret' })));
    expect(e.code).toBe('SignatureDoesNotMatch');
  });

  it('rejects a body that does not hash to x-amz-content-sha256', async () => {
    const r = req('putBuffer');
    const e = await rejection(verifyRequest({ ...r, body: Buffer.from('hello WORLD') }, options(r)));
    expect(e.code).toBe('XAmzContentSHA256Mismatch');
    expect(e.statusCode).toBe(400);
  });

  it('rejects a streamed chunk altered in transit through its CRC32 trailer', async () => {
    const r = req('putStream');
    const body = Buffer.from(r.body);
    body[body.indexOf('streaming')] = 'S'.charCodeAt(0);
    expect((await rejection(verifyRequest({ ...r, body }, options(r)))).code).toBe('BadDigest');
  });

  it('rejects a streamed body whose trailer checksum was replaced', async () => {
    const r = req('putStream');
    const body = Buffer.from(r.body.toString('latin1').replace(/x-amz-checksum-crc32:[^\r]+/, 'x-amz-checksum-crc32:AAAAAA=='), 'latin1');
    expect((await rejection(verifyRequest({ ...r, body }, options(r)))).code).toBe('BadDigest');
  });

  it('rejects a truncated streamed body', async () => {
    const r = req('putStream');
    expect((await rejection(verifyRequest({ ...r, body: r.body.subarray(0, 12) }, options(r)))).code).toBe('IncompleteBody');
  });

  it('rejects an unknown access key', async () => {
    const r = req('get');
    const e = await rejection(verifyRequest(r, options(r, { lookupSecret: async () => undefined })));
    expect(e.code).toBe('InvalidAccessKeyId');
    expect(e.extra.AWSAccessKeyId).toBe(ACCESS_KEY);
  });

  it('rejects a credential scoped to another region and names the right one', async () => {
    const r = req('get');
    const e = await rejection(verifyRequest(r, options(r, { region: 'eu-west-1' })));
    expect(e.code).toBe('AuthorizationHeaderMalformed');
    expect(e.extra.Region).toBe('eu-west-1');
  });

  it('rejects a clock more than 15 minutes off, either way', async () => {
    const r = req('get');
    const signedAt = options(r).now.getTime();
    expect((await rejection(verifyRequest(r, options(r, { now: new Date(signedAt + 16 * 60_000) })))).code).toBe('RequestTimeTooSkewed');
    expect((await rejection(verifyRequest(r, options(r, { now: new Date(signedAt - 16 * 60_000) })))).code).toBe('RequestTimeTooSkewed');
    await expect(verifyRequest(r, options(r, { now: new Date(signedAt + 14 * 60_000) }))).resolves.toMatchObject({ accessKeyId: ACCESS_KEY, presigned: false });
  });

  it('rejects an anonymous request and an x-amz header that was not signed', async () => {
    const r = req('get');
    const { authorization: _dropped, ...anonymous } = r.headers;
    expect((await rejection(verifyRequest({ ...r, headers: anonymous }, options(r)))).code).toBe('AccessDenied');
    const extra = withHeader(r, 'x-amz-meta-sneaky', 'yes');
    expect((await rejection(verifyRequest(extra, options(r)))).code).toBe('AccessDenied');
  });

  it('rejects malformed Authorization headers', async () => {
    const r = req('get');
    for (const bad of [
      'AWS4-HMAC-SHA256 Credential=x',
      'AWS4-HMAC-SHA256 Credential=AKID/2024/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=00',
      `AWS4-HMAC-SHA256 Credential=${ACCESS_KEY}/20240101/us-east-1/ec2/aws4_request, SignedHeaders=host, Signature=00`,
    ]) {
      expect((await rejection(verifyRequest(withHeader(r, 'authorization', bad), options(r)))).code).toBe('AuthorizationHeaderMalformed');
    }
    expect((await rejection(verifyRequest(withHeader(r, 'authorization', 'AWS AKID:sig'), options(r)))).code).toBe('InvalidRequest');
  });
});

describe('verifyRequest with presigned URLs from @aws-sdk/s3-request-presigner', () => {
  const client = new S3Client({
    endpoint: 'http://127.0.0.1:9000',
    forcePathStyle: true,
    region: REGION,
    credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET },
  });
  afterAll(() => client.destroy());

  function fromUrl(url: string, method: string, body = Buffer.alloc(0)): S3Request {
    const parsed = new URL(url);
    const query: Record<string, string> = {};
    for (const pair of parsed.search.slice(1).split('&')) {
      const eq = pair.indexOf('=');
      query[decodeURIComponent(pair.slice(0, eq))] = decodeURIComponent(pair.slice(eq + 1));
    }
    return { method, path: decodeURIComponent(parsed.pathname), query, headers: { host: parsed.host }, body };
  }

  const signedAt = new Date('2026-03-01T12:00:00Z');

  it('accepts a presigned GetObject within its lifetime and rejects it once expired', async () => {
    const url = await getSignedUrl(client, new GetObjectCommand({ Bucket: 'photos', Key: 'ä/b c.jpg' }), { expiresIn: 300, signingDate: signedAt });
    const r = fromUrl(url, 'GET');
    const within = { ...options(r), now: new Date(signedAt.getTime() + 299_000) };
    await expect(verifyRequest(r, within)).resolves.toMatchObject({ accessKeyId: ACCESS_KEY, presigned: true });
    const e = await rejection(verifyRequest(r, { ...within, now: new Date(signedAt.getTime() + 301_000) }));
    expect(e.code).toBe('AccessDenied');
    expect(e.message).toBe('Request has expired');
  });

  it('accepts a presigned PutObject carrying any body (UNSIGNED-PAYLOAD)', async () => {
    const url = await getSignedUrl(client, new PutObjectCommand({ Bucket: 'photos', Key: 'up.txt' }), { expiresIn: 60, signingDate: signedAt });
    const r = fromUrl(url, 'PUT', Buffer.from('uploaded through a presigned url'));
    const verified = await verifyRequest(r, { ...options(r), now: signedAt });
    expect(verified.payload.toString()).toBe('uploaded through a presigned url');
  });

  it('rejects a presigned URL with any signed element tampered with', async () => {
    const url = await getSignedUrl(client, new GetObjectCommand({ Bucket: 'photos', Key: 'k' }), { expiresIn: 300, signingDate: signedAt });
    const r = fromUrl(url, 'GET');
    const opts = { ...options(r), now: signedAt };
    const tampered: S3Request[] = [
      { ...r, path: '/photos/other' },
      { ...r, method: 'DELETE' },
      { ...r, query: { ...r.query, 'X-Amz-Expires': '3000' } },
      { ...r, query: { ...r.query, 'response-content-type': 'text/html' } },
      { ...r, headers: { host: 'evil.example:9000' } },
      { ...r, query: { ...r.query, 'X-Amz-Signature': '0'.repeat(64) } },
    ];
    for (const t of tampered) {
      expect((await rejection(verifyRequest(t, opts))).code).toBe('SignatureDoesNotMatch');
    }
    const late = { ...r, query: { ...r.query, 'X-Amz-Date': '20260301T120001Z' } };
    expect((await rejection(verifyRequest(late, opts))).code).toBe('SignatureDoesNotMatch');
  });

  it("refuses X-Amz-Expires that is not a number, negative or past a week with S3's words, 403", async () => {
    const url = await getSignedUrl(client, new GetObjectCommand({ Bucket: 'photos', Key: 'k' }), { signingDate: signedAt });
    const r = fromUrl(url, 'GET');
    const opts = { ...options(r), now: signedAt };
    const refusals: Array<[string, string]> = [
      ['604801', 'X-Amz-Expires must be less than a week (in seconds); that is, the given X-Amz-Expires must be less than 604800 seconds'],
      ['99999999999', 'X-Amz-Expires must be less than a week (in seconds); that is, the given X-Amz-Expires must be less than 604800 seconds'],
      ['-1', 'X-Amz-Expires must be non-negative'],
      ['x', 'X-Amz-Expires should be a number'],
      ['', 'X-Amz-Expires should be a number'],
      ['1e3', 'X-Amz-Expires should be a number'],
      ['60.5', 'X-Amz-Expires should be a number'],
    ];
    for (const [expires, message] of refusals) {
      const e = await rejection(verifyRequest({ ...r, query: { ...r.query, 'X-Amz-Expires': expires } }, opts));
      expect({ expires, code: e.code, status: e.statusCode, message: e.message }).toEqual({ expires, code: 'AuthorizationQueryParametersError', status: 403, message });
    }
    const { 'X-Amz-Credential': _dropped, ...rest } = r.query;
    expect((await rejection(verifyRequest({ ...r, query: rest }, opts))).code).toBe('AuthorizationQueryParametersError');
  });

  it('answers X-Amz-Expires=0 as expired at once, naming Expires and ServerTime; takes a full week', async () => {
    const url = await getSignedUrl(client, new GetObjectCommand({ Bucket: 'photos', Key: 'k' }), { signingDate: signedAt, expiresIn: 60 });
    const r = fromUrl(url, 'GET');
    const e = await rejection(verifyRequest({ ...r, query: { ...r.query, 'X-Amz-Expires': '0' } }, { ...options(r), now: new Date(signedAt.getTime() + 500) }));
    expect({ code: e.code, status: e.statusCode, message: e.message }).toEqual({ code: 'AccessDenied', status: 403, message: 'Request has expired' });
    expect(e.extra).toEqual({ 'X-Amz-Expires': '0', Expires: '2026-03-01T12:00:00Z', ServerTime: '2026-03-01T12:00:00Z' });
    const week = fromUrl(await getSignedUrl(client, new GetObjectCommand({ Bucket: 'photos', Key: 'k' }), { signingDate: signedAt, expiresIn: 604_800 }), 'GET');
    await expect(verifyRequest(week, { ...options(week), now: new Date(signedAt.getTime() + 604_799_000) })).resolves.toMatchObject({ presigned: true });
    expect((await rejection(verifyRequest(week, { ...options(week), now: new Date(signedAt.getTime() + 604_800_000) }))).message).toBe('Request has expired');
  });
});

/** The reference signer with this file's key; S3 signs a header byte above 0x7F as that byte read as ISO-8859-1 and
 * written as UTF-8 (aws-sdk-js#1297, knox#223: S3's StringToSign shows 'Ã¡' for a UTF-8 'á'), which the tests state
 * by passing the bytes they expect S3 to sign. */
const referenceSignature = (r: Omit<ReferenceRequest, 'region' | 'secretAccessKey'>): string => reference({ ...r, region: REGION, secretAccessKey: SECRET });

describe('verifyRequest: the date from Date, header bytes above 0x7F', () => {
  const EMPTY = createHash('sha256').update('').digest('hex');
  const at = new Date('2026-06-07T08:09:10Z');
  const httpDate = 'Sun, 07 Jun 2026 08:09:10 GMT';

  /** The request as the node:http front hands it over: every header byte one character (latin1). */
  function wire(headers: Record<string, Buffer>, signature: string): S3Request {
    const text: Record<string, string> = {};
    for (const [n, v] of Object.entries(headers)) text[n] = v.toString('latin1');
    const credential = `${ACCESS_KEY}/20260607/${REGION}/s3/aws4_request`;
    text['authorization'] = `AWS4-HMAC-SHA256 Credential=${credential}, SignedHeaders=${Object.keys(headers).sort().join(';')}, Signature=${signature}`;
    return { method: 'GET', path: '/b-1/k', query: {}, headers: text, body: Buffer.alloc(0) };
  }

  it('takes the date from Date (RFC 1123) when x-amz-date is absent, signed in ISO 8601 basic form', async () => {
    const headers = { date: Buffer.from(httpDate), host: Buffer.from('localhost'), 'x-amz-content-sha256': Buffer.from(EMPTY) };
    const r = wire(headers, referenceSignature({ method: 'GET', path: '/b-1/k', headers, payloadHash: EMPTY, amzDate: '20260607T080910Z' }));
    await expect(verifyRequest(r, { ...options(r), now: at })).resolves.toMatchObject({ accessKeyId: ACCESS_KEY });
    const skew = await rejection(verifyRequest(r, { ...options(r), now: new Date(at.getTime() + 16 * 60_000) }));
    expect({ code: skew.code, requestTime: skew.extra.RequestTime }).toEqual({ code: 'RequestTimeTooSkewed', requestTime: httpDate });
    // The date is bound: another Date with the same signature does not verify.
    const moved = withHeader(r, 'date', 'Sun, 07 Jun 2026 08:09:11 GMT');
    expect((await rejection(verifyRequest(moved, { ...options(r), now: at }))).code).toBe('SignatureDoesNotMatch');
  });

  it('refuses a Date it cannot read, and prefers x-amz-date when both are sent', async () => {
    for (const bad of ['07 Jun 2026 08:09:10 GMT', 'Mon, 07 Jun 2026 08:09:10 GMT', '2026-06-07T08:09:10Z', '']) {
      const headers = { date: Buffer.from(bad), host: Buffer.from('localhost'), 'x-amz-content-sha256': Buffer.from(EMPTY) };
      const e = await rejection(verifyRequest(wire(headers, '0'.repeat(64)), { ...options(wire(headers, '')), now: at }));
      expect({ bad, code: e.code, message: e.message }).toEqual({ bad, code: 'AccessDenied', message: 'AWS authentication requires a valid Date or x-amz-date header' });
    }
    const headers = { date: Buffer.from('Thu, 01 Jan 2026 00:00:00 GMT'), host: Buffer.from('localhost'), 'x-amz-content-sha256': Buffer.from(EMPTY), 'x-amz-date': Buffer.from('20260607T080910Z') };
    const r = wire(headers, referenceSignature({ method: 'GET', path: '/b-1/k', headers, payloadHash: EMPTY, amzDate: '20260607T080910Z' }));
    await expect(verifyRequest(r, { ...options(r), now: at })).resolves.toMatchObject({ accessKeyId: ACCESS_KEY });
  });

  it('signs a header byte above 0x7F as S3 does: read as ISO-8859-1, hashed as UTF-8', async () => {
    const sent = Buffer.from('café ☕', 'utf8'); // the bytes on the wire: UTF-8
    const base = { host: Buffer.from('localhost'), 'x-amz-content-sha256': Buffer.from(EMPTY), 'x-amz-date': Buffer.from('20260607T080910Z') };
    const asS3Signs = Buffer.from(sent.toString('latin1'), 'utf8');
    const s3Style = referenceSignature({ method: 'GET', path: '/b-1/k', headers: { ...base, 'x-amz-meta-note': asS3Signs }, payloadHash: EMPTY, amzDate: '20260607T080910Z' });
    const r = wire({ ...base, 'x-amz-meta-note': sent }, s3Style);
    await expect(verifyRequest(r, { ...options(r), now: at })).resolves.toMatchObject({ accessKeyId: ACCESS_KEY });
    // A client that hashed the raw UTF-8 bytes gets S3's answer: SignatureDoesNotMatch.
    const rawStyle = referenceSignature({ method: 'GET', path: '/b-1/k', headers: { ...base, 'x-amz-meta-note': sent }, payloadHash: EMPTY, amzDate: '20260607T080910Z' });
    expect((await rejection(verifyRequest(wire({ ...base, 'x-amz-meta-note': sent }, rawStyle), { ...options(r), now: at }))).code).toBe('SignatureDoesNotMatch');
    // A latin1 byte (what Node's http client sends for 'é' beside a binary body) verifies against the UTF-8 of 'é'.
    const latin = Buffer.from([0x63, 0x61, 0x66, 0xe9]);
    const latinSigned = referenceSignature({ method: 'GET', path: '/b-1/k', headers: { ...base, 'x-amz-meta-note': Buffer.from('café', 'utf8') }, payloadHash: EMPTY, amzDate: '20260607T080910Z' });
    await expect(verifyRequest(wire({ ...base, 'x-amz-meta-note': latin }, latinSigned), { ...options(r), now: at })).resolves.toMatchObject({ accessKeyId: ACCESS_KEY });
  });
});

describe('verifyRequest with requests signed by SignatureV4 directly', () => {
  it('rejects an unsigned-trailer body shorter than its signed x-amz-decoded-content-length', async () => {
    const signer = s3Signer({ credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET }, region: REGION });
    const at = new Date('2026-05-05T05:05:05Z');
    const out = await signer.sign(
      new HttpRequest({
        method: 'PUT',
        hostname: 'localhost',
        path: '/b-1/k',
        headers: { host: 'localhost', 'x-amz-content-sha256': 'STREAMING-UNSIGNED-PAYLOAD-TRAILER', 'x-amz-decoded-content-length': '6' },
      }),
      { signingDate: at },
    );
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(out.headers)) headers[name.toLowerCase()] = String(value);
    const r: S3Request = { method: 'PUT', path: '/b-1/k', query: {}, headers, body: Buffer.from('5\r\nhello\r\n0\r\n\r\n') };
    expect((await rejection(verifyRequest(r, { ...options(r), now: at }))).code).toBe('IncompleteBody');
    const honest: S3Request = { ...r, body: Buffer.from('6\r\nhello!\r\n0\r\n\r\n') };
    expect((await verifyRequest(honest, { ...options(r), now: at })).payload.toString()).toBe('hello!');
  });

  const signer = s3Signer({ credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET }, region: REGION, applyChecksum: true });
  const signedAt = new Date('2026-05-05T05:05:05Z');

  async function signed(path: string, body: Buffer, headers: Record<string, string>, query: Record<string, string> = {}): Promise<S3Request> {
    const request = new HttpRequest({ method: 'PUT', hostname: 'api.example.com', path: s3EncodePath(path), query, headers: { host: 'api.example.com', ...headers }, body });
    const out = await signer.sign(request, { signingDate: signedAt });
    const lower: Record<string, string> = {};
    for (const [name, value] of Object.entries(out.headers)) lower[name.toLowerCase()] = String(value);
    return { method: 'PUT', path, query, headers: lower, body };
  }

  it('verifies a payload hash computed by the signer, and Content-MD5', async () => {
    const body = Buffer.from('bytes with a digest');
    const md5 = createHash('md5').update(body).digest('base64');
    const r = await signed('/b-1/x*y (z)!', body, { 'content-md5': md5, 'x-amz-meta-colour': 'blue' }, { partNumber: '3', uploadId: 'a/b+c' });
    await expect(verifyRequest(r, { ...options(r), now: signedAt })).resolves.toMatchObject({ payload: body });
    const wrongMd5 = await signed('/b-1/k', body, { 'content-md5': createHash('md5').update('other').digest('base64') });
    expect((await rejection(verifyRequest(wrongMd5, { ...options(wrongMd5), now: signedAt }))).code).toBe('BadDigest');
    const badMd5 = await signed('/b-1/k', body, { 'content-md5': 'not-md5' });
    expect((await rejection(verifyRequest(badMd5, { ...options(badMd5), now: signedAt }))).code).toBe('InvalidDigest');
  });

  it('uses the canonical path the caller passes (API Gateway stage prefix)', async () => {
    const body = Buffer.from('staged');
    const r = await signed('/prod/b-1/k', body, {});
    const unstaged = { ...r, path: '/b-1/k' };
    expect((await rejection(verifyRequest(unstaged, { ...options(r), now: signedAt }))).code).toBe('SignatureDoesNotMatch');
    await expect(verifyRequest(unstaged, { ...options(r), now: signedAt, canonicalPath: '/prod/b-1/k' })).resolves.toMatchObject({ accessKeyId: ACCESS_KEY });
  });
});

/** An independent SigV4 streaming signer (node:crypto only), so chunk verification is not checked against itself. */
function signingKey(secret: string, date: string, region: string): Buffer {
  let key: Buffer = Buffer.from(`AWS4${secret}`);
  for (const part of [date, region, 's3', 'aws4_request']) key = createHmac('sha256', key).update(part).digest();
  return key;
}
const hex = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');
const EMPTY = hex('');

function chunkedBody(opts: {
  key: Buffer;
  amzDate: string;
  scope: string;
  seed: string;
  chunks: Buffer[];
  trailer?: string;
}): Buffer {
  const parts: Buffer[] = [];
  let previous = opts.seed;
  for (const data of [...opts.chunks, Buffer.alloc(0)]) {
    const toSign = ['AWS4-HMAC-SHA256-PAYLOAD', opts.amzDate, opts.scope, previous, EMPTY, hex(data)].join('\n');
    previous = createHmac('sha256', opts.key).update(toSign).digest('hex');
    parts.push(Buffer.from(`${data.length.toString(16)};chunk-signature=${previous}\r\n`), data);
    if (data.length > 0) parts.push(Buffer.from('\r\n'));
  }
  if (opts.trailer === undefined) {
    parts.push(Buffer.from('\r\n'));
  } else {
    const toSign = ['AWS4-HMAC-SHA256-TRAILER', opts.amzDate, opts.scope, previous, hex(`${opts.trailer}\n`)].join('\n');
    const trailerSignature = createHmac('sha256', opts.key).update(toSign).digest('hex');
    parts.push(Buffer.from(`${opts.trailer}\r\nx-amz-trailer-signature:${trailerSignature}\r\n\r\n`));
  }
  return Buffer.concat(parts);
}

describe('verifyRequest with signed aws-chunked bodies', () => {
  const amzDate = '20130524T000000Z';
  const now = new Date('2013-05-24T00:00:00Z');
  const aws = { region: 'us-east-1', now, lookupSecret: async () => 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' };

  // The worked example of AWS's "Signature Calculations for the Authorization Header: Transferring Payload in Multiple Chunks".
  function awsExample(): S3Request {
    const key = signingKey('wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', '20130524', 'us-east-1');
    const seed = '4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9';
    const body = chunkedBody({ key, amzDate, scope: '20130524/us-east-1/s3/aws4_request', seed, chunks: [Buffer.alloc(65536, 'a'), Buffer.alloc(1024, 'a')] });
    return {
      method: 'PUT',
      path: '/examplebucket/chunkObject.txt',
      query: {},
      headers: {
        host: 's3.amazonaws.com',
        'x-amz-date': amzDate,
        'x-amz-storage-class': 'REDUCED_REDUNDANCY',
        authorization: `AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class,Signature=${seed}`,
        'x-amz-content-sha256': 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
        'content-encoding': 'aws-chunked',
        'x-amz-decoded-content-length': '66560',
        'content-length': String(body.length),
      },
      body,
    };
  }

  it('accepts the AWS documentation example and checks the chunk signatures it lists', async () => {
    const r = awsExample();
    expect(r.headers['content-length']).toBe('66824');
    expect(r.body.toString('latin1')).toContain('chunk-signature=ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648');
    expect(r.body.toString('latin1')).toContain('chunk-signature=b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9');
    const verified = await verifyRequest(r, aws);
    expect(verified.payload.length).toBe(66560);
  });

  it('rejects a chunk whose data or signature was altered, or chunks dropped', async () => {
    const r = awsExample();
    const altered = Buffer.from(r.body);
    altered[200] = 'b'.charCodeAt(0);
    expect((await rejection(verifyRequest({ ...r, body: altered }, aws))).code).toBe('SignatureDoesNotMatch');
    const resigned = Buffer.from(r.body.toString('latin1').replace('chunk-signature=ad80', 'chunk-signature=ad81'), 'latin1');
    expect((await rejection(verifyRequest({ ...r, body: resigned }, aws))).code).toBe('SignatureDoesNotMatch');
    const firstEnd = r.body.indexOf('\r\n', r.body.indexOf('\r\n') + 2 + 65536) + 2;
    const dropped = Buffer.concat([r.body.subarray(firstEnd)]);
    expect((await rejection(verifyRequest({ ...r, body: dropped }, aws))).code).toBe('SignatureDoesNotMatch');
  });

  it('accepts STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER and rejects a forged trailer', async () => {
    const signer = s3Signer({ credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET }, region: REGION });
    const data = [Buffer.from('first chunk, '), Buffer.from('second chunk')];
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(Buffer.concat(data)));
    const request = new HttpRequest({
      method: 'PUT',
      hostname: 'localhost',
      path: '/b-1/trailer.txt',
      headers: {
        host: 'localhost',
        'x-amz-content-sha256': 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER',
        'x-amz-trailer': 'x-amz-checksum-crc32',
        'x-amz-decoded-content-length': '25',
        'content-encoding': 'aws-chunked',
      },
    });
    const out = await signer.sign(request, { signingDate: signedAtTrailer });
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(out.headers)) headers[name.toLowerCase()] = String(value);
    const seed = /Signature=([0-9a-f]+)/.exec(headers.authorization ?? '')?.[1] ?? '';
    const key = signingKey(SECRET, '20260505', REGION);
    const build = (trailer: string) =>
      chunkedBody({ key, amzDate: '20260505T050505Z', scope: `20260505/${REGION}/s3/aws4_request`, seed, chunks: data, trailer });
    const r: S3Request = { method: 'PUT', path: '/b-1/trailer.txt', query: {}, headers, body: build(`x-amz-checksum-crc32:${crc.toString('base64')}`) };
    const opts = { ...options(r), now: signedAtTrailer };
    const verified = await verifyRequest(r, opts);
    expect(verified.payload.toString()).toBe('first chunk, second chunk');
    expect(verified.checksum).toEqual({ algorithm: 'CRC32', value: crc.toString('base64') });

    const forged = Buffer.from(r.body.toString('latin1').replace(crc.toString('base64'), 'AAAAAA=='), 'latin1');
    expect((await rejection(verifyRequest({ ...r, body: forged }, opts))).code).toBe('SignatureDoesNotMatch');
    const wrongCrc = { ...r, body: build('x-amz-checksum-crc32:AAAAAA==') };
    expect((await rejection(verifyRequest(wrongCrc, opts))).code).toBe('BadDigest');
  });
});
const signedAtTrailer = new Date('2026-05-05T05:05:05Z');
