// Conformance suite for the standard object headers, the response-* overrides of a read, conditional writes and
// deletes, and EntityTooLarge's sizes, written from S3's documentation (PutObject, GetObject, HeadObject, CopyObject,
// DeleteObject, DeleteObjects, "How to perform conditional deletes", "Conditional requests"). Runs on any backend,
// with the AWS SDK v3, presigned URLs through plain fetch, and raw signed requests.
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { expectS3Error, refusedFromHeaders, s3Client, type S3Target } from '../s3-suite';
import { errorCode, s3Path, signedRequest, type Creds } from '../../support/signed-fetch';

/** The five headers S3 keeps with an object, as a client sets them, and as GET/HEAD must give them back. */
const STANDARD = {
  CacheControl: 'max-age=3600, must-revalidate',
  ContentDisposition: 'attachment; filename="report.pdf"',
  ContentEncoding: 'gzip',
  ContentLanguage: 'de-CH',
  Expires: new Date('2031-02-03T04:05:06Z'),
};
const EXPIRES_TEXT = 'Mon, 03 Feb 2031 04:05:06 GMT';

/** What HEAD answers for the standard headers, raw: absent ones as undefined. */
async function rawStandardHeaders(target: { url: string; creds: Creds }, bucket: string, key: string, query?: Record<string, string>) {
  const res = await signedRequest(target.url, target.creds, { method: 'HEAD', path: s3Path(bucket, key), ...(query ? { query } : {}) });
  expect(res.status).toBe(200);
  const pick = (name: string) => res.headers[name] as string | undefined;
  return {
    'cache-control': pick('cache-control'),
    'content-disposition': pick('content-disposition'),
    'content-encoding': pick('content-encoding'),
    'content-language': pick('content-language'),
    expires: pick('expires'),
    'content-type': pick('content-type'),
  };
}

const element = (xml: string, name: string) => new RegExp(`<${name}>([^<]*)</${name}>`).exec(xml)?.[1];

export function describeHeadersConditionalsSuite(backend: string, setup: () => Promise<S3Target>, unavailable?: string): void {
  if (unavailable) console.warn(`Headers and conditionals suite on the ${backend} backend SKIPPED: ${unavailable}`);
  const describeOrSkip = unavailable ? describe.skip : describe;
  describeOrSkip(`S3 standard headers, response overrides and conditional writes/deletes (${backend} backend)${unavailable ? ` — skipped: ${unavailable}` : ''}`, () => {
    let target: S3Target;
    let s3: S3Client;
    let n = 0;
    const newBucket = async () => {
      const b = `hc-${backend.replace(/[^a-z0-9]/g, '')}-${Date.now().toString(36)}-${n++}`;
      await s3.send(new CreateBucketCommand({ Bucket: b }));
      return b;
    };
    const bodyOf = async (b: string, k: string) => Buffer.from(await (await s3.send(new GetObjectCommand({ Bucket: b, Key: k }))).Body!.transformToByteArray()).toString();

    beforeAll(async () => {
      target = await setup();
      s3 = s3Client(target);
    }, 60_000);
    afterAll(async () => {
      s3?.destroy();
      await target?.close();
    });

    it('keeps Cache-Control, Content-Disposition, Content-Encoding, Content-Language and Expires from PutObject and returns them on GET and HEAD', async () => {
      const b = await newBucket();
      await s3.send(new PutObjectCommand({ Bucket: b, Key: 'std', Body: 'x', ContentType: 'application/pdf', ...STANDARD }));
      const expected = { 'cache-control': STANDARD.CacheControl, 'content-disposition': STANDARD.ContentDisposition, 'content-encoding': 'gzip', 'content-language': 'de-CH', expires: EXPIRES_TEXT, 'content-type': 'application/pdf' };
      expect(await rawStandardHeaders(target, b, 'std')).toEqual(expected);
      const got = await s3.send(new GetObjectCommand({ Bucket: b, Key: 'std' }));
      expect([got.CacheControl, got.ContentDisposition, got.ContentEncoding, got.ContentLanguage, got.ExpiresString, got.ContentType]).toEqual([
        STANDARD.CacheControl, STANDARD.ContentDisposition, 'gzip', 'de-CH', EXPIRES_TEXT, 'application/pdf',
      ]);
      await got.Body!.transformToByteArray();
      const head = await s3.send(new HeadObjectCommand({ Bucket: b, Key: 'std' }));
      expect(head.Expires?.toISOString()).toBe(STANDARD.Expires.toISOString());
      expect(head.CacheControl).toBe(STANDARD.CacheControl);

      // An object written without them carries none of them (the old rows' shape).
      await s3.send(new PutObjectCommand({ Bucket: b, Key: 'plain', Body: 'y' }));
      const plain = await rawStandardHeaders(target, b, 'plain');
      expect([plain['cache-control'], plain['content-disposition'], plain['content-encoding'], plain['content-language'], plain.expires]).toEqual([undefined, undefined, undefined, undefined, undefined]);

      // S3 keeps an Expires it cannot parse as it was sent (the SDKs' ExpiresString exists for it); so do we.
      // (Non-ASCII header values are the SigV4 bullet of issue 14, signed as sent: RFC 5987 encoding here.)
      const disposition = "attachment; filename*=UTF-8''caf%C3%A9.txt";
      const odd = await signedRequest(target.url, target.creds, { method: 'PUT', path: s3Path(b, 'odd'), body: Buffer.from('z'), headers: { expires: 'not a date', 'content-disposition': disposition } });
      expect(odd.status).toBe(200);
      const oddHead = await rawStandardHeaders(target, b, 'odd');
      expect([oddHead.expires, oddHead['content-disposition']]).toEqual(['not a date', disposition]);
      expect((await s3.send(new HeadObjectCommand({ Bucket: b, Key: 'odd' }))).ExpiresString).toBe('not a date');
    });

    it("drops aws-chunked from Content-Encoding, as S3 does: it frames the request body, it does not encode the object", async () => {
      const b = await newBucket();
      const sent: Array<string | undefined> = [];
      const chunking = s3Client(target, { requestChecksumCalculation: 'WHEN_SUPPORTED' });
      chunking.middlewareStack.add(
        (next) => async (args) => {
          const headers = (args.request as { headers?: Record<string, string> }).headers ?? {};
          sent.push(Object.entries(headers).find(([k]) => k.toLowerCase() === 'content-encoding')?.[1]);
          return next(args);
        },
        { step: 'finalizeRequest', priority: 'low', name: 'recordContentEncoding' },
      );
      const body = Buffer.alloc(70_000, 7);
      try {
        // A stream body with a checksum makes the SDK send aws-chunked with a trailer.
        await chunking.send(new PutObjectCommand({ Bucket: b, Key: 'gz', Body: Readable.from([body]), ContentLength: body.length, ChecksumAlgorithm: 'CRC32', ContentEncoding: 'gzip' }));
        await chunking.send(new PutObjectCommand({ Bucket: b, Key: 'none', Body: Readable.from([body]), ContentLength: body.length, ChecksumAlgorithm: 'CRC32' }));
      } finally {
        chunking.destroy();
      }
      // The requests really were aws-chunked (else this test proves nothing).
      expect(sent.map((v) => v?.toLowerCase().includes('aws-chunked'))).toEqual([true, true]);
      expect((await rawStandardHeaders(target, b, 'gz'))['content-encoding']).toBe('gzip');
      expect((await rawStandardHeaders(target, b, 'none'))['content-encoding']).toBeUndefined();
    });

    it('CopyObject keeps the source headers with COPY and takes only the new ones with REPLACE; CreateMultipartUpload gives them to the completed object', async () => {
      const b = await newBucket();
      await s3.send(new PutObjectCommand({ Bucket: b, Key: 'src', Body: 'source', ContentType: 'text/csv', ...STANDARD }));
      await s3.send(new CopyObjectCommand({ Bucket: b, Key: 'kept', CopySource: `${b}/src`, CacheControl: 'ignored-with-COPY' }));
      expect(await rawStandardHeaders(target, b, 'kept')).toEqual(await rawStandardHeaders(target, b, 'src'));

      await s3.send(new CopyObjectCommand({ Bucket: b, Key: 'replaced', CopySource: `${b}/src`, MetadataDirective: 'REPLACE', ContentType: 'text/plain', CacheControl: 'no-store', ContentLanguage: 'fr' }));
      expect(await rawStandardHeaders(target, b, 'replaced')).toEqual({
        'cache-control': 'no-store', 'content-disposition': undefined, 'content-encoding': undefined, 'content-language': 'fr', expires: undefined, 'content-type': 'text/plain',
      });
      expect(await bodyOf(b, 'replaced')).toBe('source');

      const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: b, Key: 'mp', ContentType: 'video/mp4', ...STANDARD }));
      const part = await s3.send(new UploadPartCommand({ Bucket: b, Key: 'mp', UploadId, PartNumber: 1, Body: 'only part' }));
      await s3.send(new CompleteMultipartUploadCommand({ Bucket: b, Key: 'mp', UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag! }] } }));
      expect(await rawStandardHeaders(target, b, 'mp')).toEqual({
        'cache-control': STANDARD.CacheControl, 'content-disposition': STANDARD.ContentDisposition, 'content-encoding': 'gzip', 'content-language': 'de-CH', expires: EXPIRES_TEXT, 'content-type': 'video/mp4',
      });
    });

    it('GetObject and HeadObject answer with the six response-* overrides in place of what the object carries', async () => {
      const b = await newBucket();
      await s3.send(new PutObjectCommand({ Bucket: b, Key: 'o', Body: 'override me', ContentType: 'text/plain', ...STANDARD }));
      const overrides = {
        ResponseContentType: 'application/x-download',
        ResponseContentLanguage: 'en',
        ResponseExpires: new Date('2040-01-01T00:00:00Z'),
        ResponseCacheControl: 'no-cache',
        ResponseContentDisposition: 'attachment; filename="other.txt"',
        ResponseContentEncoding: 'identity',
      };
      const got = await s3.send(new GetObjectCommand({ Bucket: b, Key: 'o', ...overrides }));
      expect([got.ContentType, got.ContentLanguage, got.ExpiresString, got.CacheControl, got.ContentDisposition, got.ContentEncoding]).toEqual([
        'application/x-download', 'en', 'Sun, 01 Jan 2040 00:00:00 GMT', 'no-cache', 'attachment; filename="other.txt"', 'identity',
      ]);
      expect(Buffer.from(await got.Body!.transformToByteArray()).toString()).toBe('override me');
      const head = await s3.send(new HeadObjectCommand({ Bucket: b, Key: 'o', ResponseContentDisposition: 'inline', ResponseCacheControl: 'private' }));
      expect([head.ContentDisposition, head.CacheControl, head.ContentLanguage]).toEqual(['inline', 'private', 'de-CH']);
      // A range read gets them too; the stored headers are unchanged by a read.
      const ranged = await signedRequest(target.url, target.creds, { method: 'GET', path: s3Path(b, 'o'), query: { 'response-content-type': 'x/y' }, headers: { range: 'bytes=0-3' } });
      expect([ranged.status, ranged.headers['content-type'], ranged.body.toString()]).toEqual([206, 'x/y', 'over']);
      expect((await rawStandardHeaders(target, b, 'o'))['content-type']).toBe('text/plain');
      // A value no header can carry is refused, not turned into a broken answer.
      const bad = await signedRequest(target.url, target.creds, { method: 'GET', path: s3Path(b, 'o'), query: { 'response-content-disposition': 'a\r\nx-injected: 1' } });
      expect([bad.status, errorCode(bad), bad.headers['x-injected']]).toEqual([400, 'InvalidArgument', undefined]);
    });

    it('serves a presigned GET signed with ResponseContentDisposition through plain fetch, and refuses the URL with the parameter changed', async () => {
      const b = await newBucket();
      await s3.send(new PutObjectCommand({ Bucket: b, Key: 'dl/report 1.csv', Body: 'a,b\n1,2\n', ContentType: 'text/csv' }));
      const url = await getSignedUrl(s3, new GetObjectCommand({ Bucket: b, Key: 'dl/report 1.csv', ResponseContentDisposition: 'attachment; filename="report.csv"', ResponseContentType: 'application/octet-stream' }), { expiresIn: 300 });
      expect(url).toContain('response-content-disposition=');
      const res = await fetch(url);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-disposition')).toBe('attachment; filename="report.csv"');
      expect(res.headers.get('content-type')).toBe('application/octet-stream');
      expect(await res.text()).toBe('a,b\n1,2\n');
      // The overrides are inside the signature: a link cannot be edited to serve the object under another name.
      const edited = url.replace(/response-content-disposition=[^&]*/, `response-content-disposition=${encodeURIComponent('inline; filename="x.html"')}`);
      const refused = await fetch(edited);
      expect(refused.status).toBe(403);
      expect(await refused.text()).toContain('<Code>SignatureDoesNotMatch</Code>');
    });

    it('refuses If-None-Match other than * on PutObject, CopyObject and CompleteMultipartUpload with 501 NotImplemented, and keeps * create-only', async () => {
      const b = await newBucket();
      const first = await s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'v1' }));
      // S3 takes only '*' here; an ETag (even a non-matching one) is NotImplemented, never read as '*' or ignored.
      await expectS3Error(s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'v2', IfNoneMatch: first.ETag })), 'NotImplemented', 501);
      await expectS3Error(s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'v2', IfNoneMatch: '"0123456789abcdef0123456789abcdef"' })), 'NotImplemented', 501);
      const raw = await signedRequest(target.url, target.creds, { method: 'PUT', path: s3Path(b, 'fresh'), body: Buffer.from('v'), headers: { 'if-none-match': 'true' } });
      expect([raw.status, errorCode(raw)]).toEqual([501, 'NotImplemented']);
      expect(raw.body.toString()).toContain('A header you provided implies functionality that is not implemented');
      await expectS3Error(s3.send(new HeadObjectCommand({ Bucket: b, Key: 'fresh' })), 'NotFound', 404);
      await expectS3Error(s3.send(new CopyObjectCommand({ Bucket: b, Key: 'c', CopySource: `${b}/k`, IfNoneMatch: first.ETag })), 'NotImplemented', 501);
      const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: b, Key: 'mp' }));
      const part = await s3.send(new UploadPartCommand({ Bucket: b, Key: 'mp', UploadId, PartNumber: 1, Body: 'p' }));
      const complete = (IfNoneMatch: string) => s3.send(new CompleteMultipartUploadCommand({ Bucket: b, Key: 'mp', UploadId, IfNoneMatch, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag! }] } }));
      await expectS3Error(complete('"abc"'), 'NotImplemented', 501);
      // The refused completion left the upload open: it completes with '*' (the key is free).
      await complete('*');
      await expectS3Error(s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'v3', IfNoneMatch: '*' })), 'PreconditionFailed', 412);
      expect(await bodyOf(b, 'k')).toBe('v1');
    });

    it('DeleteObject with If-Match: 412 and the object stays on another ETag, 204 on its ETag or *, 404 NoSuchKey when there is no object', async () => {
      const b = await newBucket();
      const put = await s3.send(new PutObjectCommand({ Bucket: b, Key: 'd', Body: 'keep me' }));
      await expectS3Error(s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'd', IfMatch: '"00000000000000000000000000000000"' })), 'PreconditionFailed', 412);
      const raw = await signedRequest(target.url, target.creds, { method: 'DELETE', path: s3Path(b, 'd'), headers: { 'if-match': '"ffffffffffffffffffffffffffffffff"' } });
      expect([raw.status, element(raw.body.toString(), 'Code'), element(raw.body.toString(), 'Condition')]).toEqual([412, 'PreconditionFailed', 'If-Match']);
      expect(await bodyOf(b, 'd')).toBe('keep me');

      expect((await s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'd', IfMatch: put.ETag }))).$metadata.httpStatusCode).toBe(204);
      await expectS3Error(s3.send(new HeadObjectCommand({ Bucket: b, Key: 'd' })), 'NotFound', 404);
      await expectS3Error(s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'd', IfMatch: put.ETag })), 'NoSuchKey', 404);
      await expectS3Error(s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'd', IfMatch: '*' })), 'NoSuchKey', 404);
      // Unconditional deletes of a missing key stay 204.
      expect((await s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'd' }))).$metadata.httpStatusCode).toBe(204);

      await s3.send(new PutObjectCommand({ Bucket: b, Key: 'star', Body: 's' }));
      expect((await s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'star', IfMatch: '*' }))).$metadata.httpStatusCode).toBe(204);
      await expectS3Error(s3.send(new HeadObjectCommand({ Bucket: b, Key: 'star' })), 'NotFound', 404);

      // The directory-bucket conditions are refused rather than ignored: the object stays.
      await s3.send(new PutObjectCommand({ Bucket: b, Key: 'sized', Body: '12345' }));
      await expectS3Error(s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'sized', IfMatchSize: 5 })), 'NotImplemented', 501);
      await expectS3Error(s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'sized', IfMatchLastModifiedTime: new Date() })), 'NotImplemented', 501);
      expect(await bodyOf(b, 'sized')).toBe('12345');
    });

    it('DeleteObjects honours each entry\'s <ETag>: a PreconditionFailed error for that key alone, which stays', async () => {
      const b = await newBucket();
      const etags: Record<string, string> = {};
      for (const k of ['match', 'mismatch', 'plain', 'sized']) etags[k] = (await s3.send(new PutObjectCommand({ Bucket: b, Key: k, Body: k }))).ETag!;
      const out = await s3.send(new DeleteObjectsCommand({
        Bucket: b,
        Delete: {
          Objects: [
            { Key: 'match', ETag: etags['match'] },
            { Key: 'mismatch', ETag: etags['match'] },
            { Key: 'plain' },
            { Key: 'absent', ETag: etags['match'] },
            { Key: 'sized', Size: 5 },
          ],
        },
      }));
      expect(out.Deleted?.map((d) => d.Key).sort()).toEqual(['match', 'plain']);
      expect(out.Errors?.map((e) => [e.Key, e.Code]).sort()).toEqual([['absent', 'NoSuchKey'], ['mismatch', 'PreconditionFailed'], ['sized', 'NotImplemented']]);
      expect(await bodyOf(b, 'mismatch')).toBe('mismatch');
      expect(await bodyOf(b, 'sized')).toBe('sized');
      await expectS3Error(s3.send(new HeadObjectCommand({ Bucket: b, Key: 'match' })), 'NotFound', 404);

      // Raw XML with a quoted ETag, as S3's own examples write it, in quiet mode: only the failure is reported.
      const xml = Buffer.from(`<Delete><Quiet>true</Quiet><Object><Key>mismatch</Key><ETag>${etags['mismatch']!.replace(/"/g, '&quot;')}</ETag></Object><Object><Key>sized</Key><ETag>"nope"</ETag></Object></Delete>`);
      const res = await signedRequest(target.url, target.creds, { method: 'POST', path: s3Path(b), query: { delete: '' }, body: xml, headers: { 'content-md5': createHash('md5').update(xml).digest('base64') } });
      expect(res.status).toBe(200);
      expect(res.body.toString()).not.toContain('<Deleted>');
      expect(element(res.body.toString(), 'Key')).toBe('sized');
      expect(element(res.body.toString(), 'Code')).toBe('PreconditionFailed');
      await expectS3Error(s3.send(new HeadObjectCommand({ Bucket: b, Key: 'mismatch' })), 'NotFound', 404);
    });

    it('EntityTooLarge names the size the request declared (Content-Length, or the decoded length of aws-chunked) and the limit', async () => {
      const b = await newBucket();
      const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: b, Key: 'big' }));
      const objectMax = target.limits.maxObjectBytes;
      const partMax = target.limits.maxPartBytes;
      const cases: Array<{ what: string; query: Record<string, string>; headers: Record<string, string>; proposed: number; max: number }> = [
        { what: 'PutObject', query: {}, headers: { 'content-length': String(objectMax + 1) }, proposed: objectMax + 1, max: objectMax },
        { what: 'UploadPart', query: { partNumber: '1', uploadId: UploadId! }, headers: { 'content-length': String(partMax + 7) }, proposed: partMax + 7, max: partMax },
        // aws-chunked: the proposed size is the decoded payload, not the framed Content-Length.
        {
          what: 'PutObject aws-chunked',
          query: {},
          headers: { 'content-length': String(objectMax + 9000), 'x-amz-decoded-content-length': String(objectMax + 2), 'content-encoding': 'aws-chunked', 'x-amz-content-sha256': 'STREAMING-UNSIGNED-PAYLOAD-TRAILER', 'x-amz-trailer': 'x-amz-checksum-crc32' },
          proposed: objectMax + 2,
          max: objectMax,
        },
      ];
      for (const c of cases) {
        const res = await refusedFromHeaders(target, 'PUT', s3Path(b, 'big'), c.query, c.headers);
        expect([c.what, res.status, element(res.body, 'Code'), element(res.body, 'ProposedSize'), element(res.body, 'MaxSizeAllowed')]).toEqual([c.what, 400, 'EntityTooLarge', String(c.proposed), String(c.max)]);
        expect(res.body).toContain(`${c.proposed} bytes`);
      }
      await expectS3Error(s3.send(new HeadObjectCommand({ Bucket: b, Key: 'big' })), 'NotFound', 404);
    });
  });
}
