// Bad input over real HTTP: property-based fuzzing of paths, query strings, headers, ranges, XML bodies and
// keys, signed with valid credentials. No crash, never a 500 for a client's mistake, and a canary object
// stays byte-identical throughout.
import { DeleteObjectCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3ServiceException } from '@aws-sdk/client-s3';
import fc from 'fast-check';
import { createHash, randomBytes } from 'node:crypto';
import { s3Path, signedRequest, type RawResponse } from '../support/signed-fetch';
import { createBucket, sha, startHarness, type Harness } from './harness';

const CANARY_BUCKET = 'canary';
const CANARY_KEY = 'canary-object';
const RUNS = Number(process.env['FUZZ_RUNS'] ?? 60);

/** Statuses a client's mistake may earn: anything but a server fault (501 names an operation we lack). */
function expectClientVerdict(res: RawResponse, what: string): void {
  if (res.status >= 500 && res.status !== 501) {
    throw new Error(`${what} → ${res.status}: ${res.body.toString('utf8').slice(0, 300)}`);
  }
}

const printable = fc.string({ unit: fc.constantFrom(...'abcXYZ019-_.~!$&\'()*+,;=:@/%?#[] '.split('')), maxLength: 40 });
const anyText = fc.string({ unit: 'binary', maxLength: 60 });
/** Percent-encodes everything a request line cannot carry raw, and nothing else: odd escapes like %zz stay. */
const looseEncode = (s: string) => s.replace(/[^\x21-\x7e]|[#?]/gu, (c) => encodeURIComponent(c));
const pathArb = fc.oneof(
  fc.array(anyText, { maxLength: 4 }).map((segments) => `/${segments.map((s) => encodeURIComponent(s)).join('/')}`),
  printable.map((s) => `/${looseEncode(s)}`),
  fc.tuple(fc.constantFrom(CANARY_BUCKET, 'fuzz', 'nope', '..', '.', ''), printable).map(([b, k]) => `/${b}/${looseEncode(k)}`),
);
const queryArb = fc.dictionary(
  fc.oneof(fc.constantFrom('uploads', 'uploadId', 'partNumber', 'delete', 'list-type', 'prefix', 'delimiter', 'max-keys', 'continuation-token', 'start-after', 'marker', 'location', 'versionId', 'acl'), anyText),
  fc.oneof(fc.constant(''), anyText, fc.integer().map(String)),
  { maxKeys: 4 },
);
const headerValue = fc.string({ unit: fc.constantFrom(...'abz09 -=,;*"/:bytes'.split('')), maxLength: 40 });
const headerArb = fc.dictionary(
  fc.constantFrom(
    'range', 'if-match', 'if-none-match', 'if-modified-since', 'if-unmodified-since', 'content-md5', 'content-type',
    'x-amz-meta-a', 'x-amz-meta-long', 'x-amz-copy-source', 'x-amz-checksum-crc32', 'x-amz-sdk-checksum-algorithm',
    'x-amz-server-side-encryption', 'x-amz-decoded-content-length', 'content-encoding', 'expect',
  ),
  fc.oneof(headerValue, fc.constantFrom('*', '"abc"', 'bytes=0-', 'bytes=-1', 'aws-chunked', 'AES256', 'aws:kms', '100-continue', 'Tue, 01 Jan 2030 00:00:00 GMT')),
  { maxKeys: 4 },
);
const rangeArb = fc.oneof(
  fc.tuple(fc.constantFrom('bytes=', 'bytes =', 'BYTES=', 'items=', ''), fc.option(fc.nat({ max: 70_000 }), { nil: undefined }), fc.constantFrom('-', ',', '--', ''), fc.option(fc.nat({ max: 70_000 }), { nil: undefined }))
    .map(([unit, a, sep, b]) => `${unit}${a ?? ''}${sep}${b ?? ''}`),
  fc.tuple(fc.nat({ max: 70_000 }), fc.nat({ max: 70_000 })).map(([a, b]) => `bytes=${a}-${b}`),
  headerValue,
);
const xmlArb = fc.oneof(
  anyText,
  fc.array(fc.oneof(fc.constant('<Object><Key>'), fc.constant('</Key></Object>'), fc.constant('<Delete>'), fc.constant('</Delete>'), fc.constant('<Quiet>true</Quiet>'), fc.constant('<!DOCTYPE x [<!ENTITY e "x">]>'), fc.constant('&e;'), fc.constant('<?xml version="1.0"?>'), printable), { maxLength: 12 }).map((parts) => parts.join('')),
  fc.array(printable.filter((k) => k !== CANARY_KEY), { maxLength: 5 }).map((keys) => `<Delete>${keys.map((k) => `<Object><Key>${k}</Key></Object>`).join('')}</Delete>`),
);

describe('sealstore against bad input over HTTP', () => {
  let h: Harness;
  let canary: Buffer;

  const req = (opts: Parameters<typeof signedRequest>[2]) => signedRequest(h.url, h.creds, opts);

  beforeAll(async () => {
    h = await startHarness({ frameSize: 4096 });
    await createBucket(h.s3, CANARY_BUCKET);
    await createBucket(h.s3, 'fuzz');
    canary = randomBytes(65_537);
    await h.s3.send(new PutObjectCommand({ Bucket: CANARY_BUCKET, Key: CANARY_KEY, Body: canary }));
  });
  afterAll(async () => h?.close());
  afterEach(async () => {
    // After every property: the canary is untouched and the server still answers.
    const got = await h.s3.send(new GetObjectCommand({ Bucket: CANARY_BUCKET, Key: CANARY_KEY }));
    expect(sha(await got.Body!.transformToByteArray())).toBe(sha(canary));
  });

  it('answers arbitrary signed paths and query strings without a server error', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('GET', 'HEAD', 'PUT', 'POST'), pathArb, queryArb, async (method, path, query) => {
        const res = await req({ method, path, query, body: method === 'PUT' || method === 'POST' ? Buffer.from('x') : undefined });
        expectClientVerdict(res, `${method} ${path} ${JSON.stringify(query)}`);
      }),
      { numRuns: RUNS },
    );
  });

  it('answers arbitrary headers on reads and writes without a server error, and stores what it acknowledges', async () => {
    await fc.assert(
      fc.asyncProperty(fc.boolean(), headerArb, fc.uint8Array({ maxLength: 3000 }), async (write, headers, bytes) => {
        if (!write) {
          expectClientVerdict(await req({ method: 'GET', path: s3Path(CANARY_BUCKET, CANARY_KEY), headers }), `GET ${JSON.stringify(headers)}`);
          return;
        }
        const body = Buffer.from(bytes);
        const path = s3Path(CANARY_BUCKET, 'fuzz-write');
        const res = await req({ method: 'PUT', path, headers, body });
        expectClientVerdict(res, `PUT ${JSON.stringify(headers)}`);
        if (res.status === 200) {
          const back = await req({ method: 'GET', path });
          expect(back.status).toBe(200);
          expect(sha(back.body)).toBe(sha(body));
        }
      }),
      { numRuns: RUNS },
    );
  });

  it('answers any Range with the exact bytes, 416, or the whole object', async () => {
    await fc.assert(
      fc.asyncProperty(rangeArb, async (range) => {
        const res = await req({ method: 'GET', path: s3Path(CANARY_BUCKET, CANARY_KEY), headers: { range } });
        expectClientVerdict(res, `Range: ${range}`);
        if (res.status === 200) expect(sha(res.body)).toBe(sha(canary));
        else if (res.status === 206) {
          const m = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(String(res.headers['content-range']));
          expect(m).not.toBeNull();
          const [start, end] = [Number(m![1]), Number(m![2])];
          expect(res.body.equals(canary.subarray(start, end + 1))).toBe(true);
        } else expect([400, 416]).toContain(res.status);
      }),
      { numRuns: RUNS * 2 },
    );
  });

  it('refuses malformed XML bodies with a client error and never deletes what they do not name', async () => {
    await fc.assert(
      fc.asyncProperty(xmlArb, fc.boolean(), async (xml, withMd5) => {
        const body = Buffer.from(xml, 'utf8');
        const headers: Record<string, string> = withMd5 ? { 'content-md5': createHash('md5').update(body).digest('base64') } : {};
        expectClientVerdict(await req({ method: 'POST', path: s3Path(CANARY_BUCKET), query: { delete: '' }, headers, body }), `POST ?delete ${xml}`);
        expectClientVerdict(await req({ method: 'PUT', path: '/fuzz-new-bucket', body }), `PUT bucket ${xml}`);
      }),
      { numRuns: RUNS },
    );
  });

  it('round-trips any key S3 accepts, byte for byte, and refuses the rest with a client error', async () => {
    const keyArb = fc.oneof(
      fc.string({ unit: 'grapheme', minLength: 1, maxLength: 60 }),
      fc.string({ unit: 'binary', minLength: 1, maxLength: 40 }),
      fc.constantFrom('a/../b', './x', '../../etc/passwd', 'a//b', ' lead', 'trail ', '%2F', 'x'.repeat(1025), 'é'.repeat(600), '\u0000nul', '?q=1#h'),
    );
    await fc.assert(
      fc.asyncProperty(keyArb, fc.uint8Array({ maxLength: 2000 }), async (key, bytes) => {
        const body = Buffer.from(bytes);
        try {
          await h.s3.send(new PutObjectCommand({ Bucket: 'fuzz', Key: key, Body: body }));
        } catch (e) {
          if (!(e instanceof S3ServiceException)) throw e;
          expect(e.$metadata.httpStatusCode).toBeGreaterThanOrEqual(400);
          expect(e.$metadata.httpStatusCode).toBeLessThan(500);
          return;
        }
        const got = await h.s3.send(new GetObjectCommand({ Bucket: 'fuzz', Key: key }));
        expect(sha(await got.Body!.transformToByteArray())).toBe(sha(body));
        const listed = await h.s3.send(new ListObjectsV2Command({ Bucket: 'fuzz', Prefix: key }));
        expect(listed.Contents?.some((c) => c.Key === key)).toBe(true);
        await h.s3.send(new DeleteObjectCommand({ Bucket: 'fuzz', Key: key }));
      }),
      { numRuns: RUNS },
    );
  });
});
