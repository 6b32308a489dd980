// The black-box S3 suite: real HTTP, the real AWS SDK and raw signed requests, against any backend.
// One suite, two backends (embedded, and AWS adapters on moto_server).
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { createHash, randomBytes } from 'node:crypto';
import { errorCode, s3Path, signedHeaders, signedRequest, send, type Creds } from '../support/signed-fetch';
import { MAX_REQUEST_BODY_BYTES, type RequestLimits } from '../../lambdas/core/limits';
import { request as httpRequest } from 'node:http';

export interface S3Target {
  readonly url: string;
  readonly creds: Creds;
  /** The request limits the server applies: S3's own, or the deployed stack's (--lambda-limits). */
  readonly limits: RequestLimits;
  /** Every stored blob's raw bytes (ciphertext as at rest). */
  rawBlobs(): Promise<Buffer[]>;
  close(): Promise<void>;
}

export function s3Client(target: { url: string; creds: Creds }, extra: Partial<ConstructorParameters<typeof S3Client>[0]> = {}): S3Client {
  return new S3Client({
    endpoint: target.url,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: target.creds,
    maxAttempts: 1,
    ...extra,
  });
}

/** Awaits `p` and asserts it failed with this S3 error code (and status). */
export async function expectS3Error(p: Promise<unknown>, code: string, status?: number): Promise<void> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(S3ServiceException);
    const err = e as S3ServiceException;
    expect(err.name).toBe(code);
    if (status !== undefined) expect(err.$metadata.httpStatusCode).toBe(status);
    return;
  }
  throw new Error(`expected ${code}, but the call succeeded`);
}

/**
 * A signed request that declares its body's size in headers and waits for 100 Continue before sending a byte: what a
 * client sees when the server refuses from the headers alone. Fails if the server asks for the body.
 */
export async function refusedFromHeaders(target: { url: string; creds: Creds }, method: string, path: string, query: Record<string, string>, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  const signed = await signedHeaders(target.url, target.creds, { method, path, query, unsignedPayload: true, headers: { ...headers, expect: '100-continue' } });
  const url = new URL(target.url);
  const search = new URLSearchParams(query).toString();
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: url.hostname, port: url.port, path: search ? `${path}?${search}` : path, method, headers: signed });
    req.on('continue', () => reject(new Error('the server asked for a body it should refuse from the headers')));
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        req.destroy();
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') });
      });
    });
    req.on('error', reject);
    req.flushHeaders();
  });
}

/** A signed request that declares `length` body bytes (UNSIGNED-PAYLOAD) and nothing else: see refusedFromHeaders. */
export function declaredOnly(target: { url: string; creds: Creds }, method: string, path: string, length: number): Promise<{ status: number; body: string }> {
  return refusedFromHeaders(target, method, path, {}, { 'content-length': String(length) });
}

const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
/** A single-part ETag: 32 hex digits like an MD5, but keyed by the object's data key (never the body's MD5). */
const KEYED_ETAG = /^"[0-9a-f]{32}"$/;

/** `unavailable` names why the backend cannot run here: the suite is then reported as skipped, never passed. */
export function describeS3Suite(backend: string, setup: () => Promise<S3Target>, unavailable?: string): void {
  if (unavailable) console.warn(`S3 API suite on the ${backend} backend SKIPPED: ${unavailable}`);
  const describeOrSkip = unavailable ? describe.skip : describe;
  describeOrSkip(`S3 API over HTTP (${backend} backend)${unavailable ? ` — skipped: ${unavailable}` : ''}`, () => {
    let target: S3Target;
    let s3: S3Client;
    let n = 0;
    const bucketName = () => `bb-${backend.replace(/[^a-z0-9]/g, '')}-${Date.now().toString(36)}-${n++}`;

    beforeAll(async () => {
      target = await setup();
      s3 = s3Client(target);
    }, 60_000);
    afterAll(async () => {
      s3?.destroy();
      await target?.close();
    });

    it('creates, heads, lists and deletes a bucket, refusing to delete a non-empty one', async () => {
      const b = bucketName();
      await s3.send(new CreateBucketCommand({ Bucket: b }));
      // Re-creating a bucket you own: 200 in us-east-1, as S3 there (test/api/create-bucket-region.test.ts: other regions 409).
      expect((await s3.send(new CreateBucketCommand({ Bucket: b }))).$metadata.httpStatusCode).toBe(200);
      await s3.send(new HeadBucketCommand({ Bucket: b }));
      const list = await s3.send(new ListBucketsCommand({}));
      expect(list.Buckets?.map((x) => x.Name)).toContain(b);
      await s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'x' }));
      await expectS3Error(s3.send(new DeleteBucketCommand({ Bucket: b })), 'BucketNotEmpty', 409);
      await s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'k' }));
      await s3.send(new DeleteBucketCommand({ Bucket: b }));
      await expectS3Error(s3.send(new HeadBucketCommand({ Bucket: b })), 'NotFound', 404);
      await expectS3Error(s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'x' })), 'NoSuchBucket', 404);
    });

    it('round-trips objects of many sizes byte for byte, with ETag, type, metadata and SSE-KMS headers', async () => {
      const b = bucketName();
      await s3.send(new CreateBucketCommand({ Bucket: b }));
      const etags = new Map<string, string>();
      for (const size of [0, 1, 65535, 65536, 65537, 1024 * 1024 + 3, 4 * 1024 * 1024]) {
        const body = randomBytes(size);
        const put = await s3.send(new PutObjectCommand({ Bucket: b, Key: `obj-${size}`, Body: body, ContentType: 'application/x-test', Metadata: { purpose: 'round-trip', size: String(size) } }));
        expect(put.ETag).toMatch(KEYED_ETAG);
        expect(put.ETag).not.toBe(`"${md5(body)}"`);
        etags.set(`obj-${size}`, put.ETag!);
        expect(put.ServerSideEncryption).toBe('aws:kms');
        const got = await s3.send(new GetObjectCommand({ Bucket: b, Key: `obj-${size}` }));
        const bytes = Buffer.from(await got.Body!.transformToByteArray());
        expect(bytes.equals(body)).toBe(true);
        expect(got.ETag).toBe(put.ETag);
        expect(got.ContentLength).toBe(size);
        expect(got.ContentType).toBe('application/x-test');
        expect(got.Metadata).toEqual({ purpose: 'round-trip', size: String(size) });
        expect(got.ServerSideEncryption).toBe('aws:kms');
        expect(got.SSEKMSKeyId).toMatch(/^arn:aws:kms:/);
        const head = await s3.send(new HeadObjectCommand({ Bucket: b, Key: `obj-${size}` }));
        expect(head.ContentLength).toBe(size);
        expect(head.ETag).toBe(put.ETag);
        expect(head.LastModified).toBeInstanceOf(Date);
      }
      const listed = await s3.send(new ListObjectsV2Command({ Bucket: b }));
      expect(new Map((listed.Contents ?? []).map((c) => [c.Key!, c.ETag!]))).toEqual(etags);
    }, 120_000);

    it('gives two PUTs of identical bytes different ETags: each is keyed by its own data key', async () => {
      const b = bucketName();
      await s3.send(new CreateBucketCommand({ Bucket: b }));
      const body = Buffer.from('the same known document');
      const first = await s3.send(new PutObjectCommand({ Bucket: b, Key: 'one', Body: body }));
      const second = await s3.send(new PutObjectCommand({ Bucket: b, Key: 'two', Body: body }));
      const again = await s3.send(new PutObjectCommand({ Bucket: b, Key: 'one', Body: body }));
      expect(new Set([first.ETag, second.ETag, again.ETag]).size).toBe(3);
      for (const etag of [first.ETag, second.ETag, again.ETag]) expect(etag).not.toBe(`"${md5(body)}"`);
    });

    it('serves ranges: closed, open, suffix, across frames, and 416 when unsatisfiable', async () => {
      const b = bucketName();
      await s3.send(new CreateBucketCommand({ Bucket: b }));
      const body = randomBytes(300_000);
      await s3.send(new PutObjectCommand({ Bucket: b, Key: 'r', Body: body }));
      const cases: Array<[string, number, number]> = [
        ['bytes=0-9', 0, 9],
        ['bytes=65530-65545', 65530, 65545],
        ['bytes=299990-', 299990, 299999],
        ['bytes=-7', 299993, 299999],
        ['bytes=100-999999999', 100, 299999],
      ];
      for (const [range, start, end] of cases) {
        const got = await s3.send(new GetObjectCommand({ Bucket: b, Key: 'r', Range: range }));
        expect(got.$metadata.httpStatusCode).toBe(206);
        expect(got.ContentRange).toBe(`bytes ${start}-${end}/300000`);
        const bytes = Buffer.from(await got.Body!.transformToByteArray());
        expect(bytes.equals(body.subarray(start, end + 1))).toBe(true);
      }
      await expectS3Error(s3.send(new GetObjectCommand({ Bucket: b, Key: 'r', Range: 'bytes=300000-' })), 'InvalidRange', 416);
    });

    it('honours conditional reads and create-only writes', async () => {
      const b = bucketName();
      await s3.send(new CreateBucketCommand({ Bucket: b }));
      const put = await s3.send(new PutObjectCommand({ Bucket: b, Key: 'c', Body: 'hello' }));
      const etag = put.ETag!;
      const notModified = await signedRequest(target.url, target.creds, { method: 'GET', path: s3Path(b, 'c'), headers: { 'if-none-match': etag } });
      expect(notModified.status).toBe(304);
      await expectS3Error(s3.send(new GetObjectCommand({ Bucket: b, Key: 'c', IfMatch: '"0000"' })), 'PreconditionFailed', 412);
      // The body's MD5 is not the ETag, so it cannot be used to confirm a guess of the contents.
      await expectS3Error(s3.send(new GetObjectCommand({ Bucket: b, Key: 'c', IfMatch: `"${md5(Buffer.from('hello'))}"` })), 'PreconditionFailed', 412);
      const past = new Date(Date.now() - 86_400_000);
      await expectS3Error(s3.send(new GetObjectCommand({ Bucket: b, Key: 'c', IfUnmodifiedSince: past })), 'PreconditionFailed', 412);
      const future = new Date(Date.now() + 86_400_000);
      const ims = await signedRequest(target.url, target.creds, { method: 'GET', path: s3Path(b, 'c'), headers: { 'if-modified-since': future.toUTCString() } });
      expect(ims.status).toBe(304);
      const ok = await s3.send(new GetObjectCommand({ Bucket: b, Key: 'c', IfMatch: etag }));
      expect(await ok.Body!.transformToString()).toBe('hello');
      await expectS3Error(s3.send(new PutObjectCommand({ Bucket: b, Key: 'c', Body: 'stale', IfMatch: '"0000"' })), 'PreconditionFailed', 412);
      const replaced = await s3.send(new PutObjectCommand({ Bucket: b, Key: 'c', Body: 'hello', IfMatch: etag }));
      expect(replaced.ETag).not.toBe(etag);
      await expectS3Error(s3.send(new GetObjectCommand({ Bucket: b, Key: 'c', IfMatch: etag })), 'PreconditionFailed', 412);
      await expectS3Error(s3.send(new PutObjectCommand({ Bucket: b, Key: 'c', Body: 'other', IfNoneMatch: '*' })), 'PreconditionFailed', 412);
      await s3.send(new PutObjectCommand({ Bucket: b, Key: 'fresh', Body: 'first', IfNoneMatch: '*' }));
      const still = await s3.send(new GetObjectCommand({ Bucket: b, Key: 'c' }));
      expect(await still.Body!.transformToString()).toBe('hello');
      expect(still.ETag).toBe(replaced.ETag);
    });

    it('rejects a body whose Content-MD5 does not match, leaving the old object intact', async () => {
      const b = bucketName();
      await s3.send(new CreateBucketCommand({ Bucket: b }));
      await s3.send(new PutObjectCommand({ Bucket: b, Key: 'm', Body: 'original' }));
      const wrongMd5 = createHash('md5').update('something else').digest('base64');
      const res = await signedRequest(target.url, target.creds, { method: 'PUT', path: s3Path(b, 'm'), body: Buffer.from('replacement'), headers: { 'content-md5': wrongMd5 } });
      expect(res.status).toBe(400);
      expect(errorCode(res)).toBe('BadDigest');
      const got = await s3.send(new GetObjectCommand({ Bucket: b, Key: 'm' }));
      expect(await got.Body!.transformToString()).toBe('original');
    });

    it('deletes idempotently; a deleted key is NoSuchKey', async () => {
      const b = bucketName();
      await s3.send(new CreateBucketCommand({ Bucket: b }));
      await s3.send(new PutObjectCommand({ Bucket: b, Key: 'd', Body: 'bye' }));
      const first = await s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'd' }));
      expect(first.$metadata.httpStatusCode).toBe(204);
      const second = await s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'd' }));
      expect(second.$metadata.httpStatusCode).toBe(204);
      await expectS3Error(s3.send(new GetObjectCommand({ Bucket: b, Key: 'd' })), 'NoSuchKey', 404);
      await expectS3Error(s3.send(new HeadObjectCommand({ Bucket: b, Key: 'd' })), 'NotFound', 404);
    });

    it('keeps keys with unicode, spaces, dots and 1024 bytes; refuses 1025', async () => {
      const b = bucketName();
      await s3.send(new CreateBucketCommand({ Bucket: b }));
      const keys = ['ünïcødé/文件.txt', 'with space/and+plus', '../dots/./x', 'a'.repeat(1024), 'emoji-😀', 'q?x=1&y#z', '%41literal'];
      for (const key of keys) {
        await s3.send(new PutObjectCommand({ Bucket: b, Key: key, Body: `body of ${key}` }));
        const got = await s3.send(new GetObjectCommand({ Bucket: b, Key: key }));
        expect(await got.Body!.transformToString()).toBe(`body of ${key}`);
      }
      const listed = await s3.send(new ListObjectsV2Command({ Bucket: b }));
      expect(listed.Contents?.map((c) => c.Key).sort()).toEqual([...keys].sort());
      await expectS3Error(s3.send(new PutObjectCommand({ Bucket: b, Key: 'a'.repeat(1025), Body: 'x' })), 'KeyTooLongError', 400);
    });

    it('lists with prefix, delimiter, max-keys, continuation and start-after', async () => {
      const b = bucketName();
      await s3.send(new CreateBucketCommand({ Bucket: b }));
      const keys = ['a/1', 'a/2', 'a/b/3', 'b/1', 'c', 'd/x/y', 'e'];
      for (const key of keys) await s3.send(new PutObjectCommand({ Bucket: b, Key: key, Body: key }));
      const top = await s3.send(new ListObjectsV2Command({ Bucket: b, Delimiter: '/' }));
      expect(top.Contents?.map((c) => c.Key)).toEqual(['c', 'e']);
      expect(top.CommonPrefixes?.map((p) => p.Prefix)).toEqual(['a/', 'b/', 'd/']);
      const inA = await s3.send(new ListObjectsV2Command({ Bucket: b, Prefix: 'a/', Delimiter: '/' }));
      expect(inA.Contents?.map((c) => c.Key)).toEqual(['a/1', 'a/2']);
      expect(inA.CommonPrefixes?.map((p) => p.Prefix)).toEqual(['a/b/']);
      const seen: string[] = [];
      let token: string | undefined;
      let pages = 0;
      do {
        const page = await s3.send(new ListObjectsV2Command({ Bucket: b, MaxKeys: 2, ContinuationToken: token }));
        seen.push(...(page.Contents ?? []).map((c) => c.Key!));
        expect(page.KeyCount).toBeLessThanOrEqual(2);
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
        pages++;
      } while (token);
      expect(seen).toEqual(keys);
      expect(pages).toBe(4);
      const after = await s3.send(new ListObjectsV2Command({ Bucket: b, StartAfter: 'b/1' }));
      expect(after.Contents?.map((c) => c.Key)).toEqual(['c', 'd/x/y', 'e']);
      const paged = await s3.send(new ListObjectsV2Command({ Bucket: b, Delimiter: '/', MaxKeys: 2 }));
      expect([...(paged.Contents ?? []).map((c) => c.Key), ...(paged.CommonPrefixes ?? []).map((p) => p.Prefix)].sort()).toEqual(['a/', 'b/']);
      expect(paged.IsTruncated).toBe(true);
      const rest = await s3.send(new ListObjectsV2Command({ Bucket: b, Delimiter: '/', ContinuationToken: paged.NextContinuationToken }));
      expect(rest.Contents?.map((c) => c.Key)).toEqual(['c', 'e']);
      expect(rest.CommonPrefixes?.map((p) => p.Prefix)).toEqual(['d/']);
    });

    it('authenticates: bad signature, unknown key, clock skew and anonymous requests are refused', async () => {
      const b = bucketName();
      await s3.send(new CreateBucketCommand({ Bucket: b }));
      const bad = await signedRequest(target.url, target.creds, { method: 'GET', path: s3Path(b), creds: { accessKeyId: target.creds.accessKeyId, secretAccessKey: 'wrong-secret' } });
      expect(bad.status).toBe(403);
      expect(errorCode(bad)).toBe('SignatureDoesNotMatch');
      const unknown = await signedRequest(target.url, target.creds, { method: 'GET', path: s3Path(b), creds: { accessKeyId: 'AKIDUNKNOWN', secretAccessKey: 'x' } });
      expect(unknown.status).toBe(403);
      expect(errorCode(unknown)).toBe('InvalidAccessKeyId');
      const skewed = await signedRequest(target.url, target.creds, { method: 'GET', path: s3Path(b), signingDate: new Date(Date.now() - 20 * 60_000) });
      expect(skewed.status).toBe(403);
      expect(errorCode(skewed)).toBe('RequestTimeTooSkewed');
      const anonymous = await send(target.url, 'GET', s3Path(b), {}, Buffer.alloc(0));
      expect(anonymous.status).toBe(403);
      expect(errorCode(anonymous)).toBe('AccessDenied');
      const tamperedBody = await signedRequest(target.url, target.creds, { method: 'PUT', path: s3Path(b, 'x'), body: Buffer.from('abc'), headers: { 'x-amz-content-sha256': createHash('sha256').update('abd').digest('hex') } });
      expect(tamperedBody.status).toBe(400);
    });

    it('accepts requests signed without x-amz-content-sha256 (curl --aws-sigv4) and binds their body', async () => {
      const b = bucketName();
      await s3.send(new CreateBucketCommand({ Bucket: b }));
      const body = randomBytes(5000);
      const put = await signedRequest(target.url, target.creds, { method: 'PUT', path: s3Path(b, 'curl-like'), body, omitContentSha256: true });
      expect(put.status).toBe(200);
      const got = await signedRequest(target.url, target.creds, { method: 'GET', path: s3Path(b, 'curl-like'), omitContentSha256: true });
      expect(got.body.equals(body)).toBe(true);
      const tampered = await signedRequest(target.url, target.creds, { method: 'PUT', path: s3Path(b, 'curl-like'), body, omitContentSha256: true, tamperBody: true });
      expect(tampered.status).toBe(403);
      expect(errorCode(tampered)).toBe('SignatureDoesNotMatch');
      const still = await s3.send(new GetObjectCommand({ Bucket: b, Key: 'curl-like' }));
      expect(Buffer.from(await still.Body!.transformToByteArray()).equals(body)).toBe(true);
    });

    it('treats query parameters and headers named like object members as plain names', async () => {
      const b = bucketName();
      await s3.send(new CreateBucketCommand({ Bucket: b }));
      for (const name of ['toString', 'constructor', '__proto__', 'hasOwnProperty']) {
        const res = await signedRequest(target.url, target.creds, { method: 'GET', path: s3Path(b), query: { [name]: '' }, headers: { [`x-${name.toLowerCase()}`]: 'v' } });
        expect(res.status).toBeLessThan(500);
      }
      const listed = await signedRequest(target.url, target.creds, { method: 'GET', path: s3Path(b), query: { 'list-type': '2', toString: 'x' } });
      expect(listed.status).toBe(200);
      const put = await signedRequest(target.url, target.creds, { method: 'PUT', path: s3Path(b, 'meta'), body: Buffer.from('m'), headers: { 'x-amz-meta-__proto__': 'kept', 'x-amz-meta-tostring': 'also' } });
      expect(put.status).toBe(200);
      const head = await signedRequest(target.url, target.creds, { method: 'HEAD', path: s3Path(b, 'meta') });
      expect([head.headers['x-amz-meta-__proto__'], head.headers['x-amz-meta-tostring']]).toEqual(['kept', 'also']);
    });

    it('refuses a body over the per-request limit with EntityTooLarge naming the limit and multipart upload', async () => {
      const b = bucketName();
      await s3.send(new CreateBucketCommand({ Bucket: b }));
      if (target.limits.mode === 'lambda') {
        const res = await signedRequest(target.url, target.creds, { method: 'PUT', path: s3Path(b, 'big'), body: Buffer.alloc(MAX_REQUEST_BODY_BYTES + 1), unsignedPayload: true });
        expect(res.status).toBe(400);
        expect(errorCode(res)).toBe('EntityTooLarge');
        expect(res.body.toString()).toContain(`${MAX_REQUEST_BODY_BYTES + 1} bytes exceeds the ${MAX_REQUEST_BODY_BYTES}-byte limit of one request through API Gateway and Lambda`);
        expect(res.body.toString()).toMatch(/multipart upload in parts of 1048576 to 4669440 bytes/);
      } else {
        // 5 GiB + 1 declared: refused from the headers alone, before the client sends the body.
        const declared = target.limits.maxObjectBytes + 1;
        const res = await declaredOnly(target, 'PUT', s3Path(b, 'big'), declared);
        expect(res.status).toBe(400);
        expect(res.body).toContain('<Code>EntityTooLarge</Code>');
        expect(res.body).toContain(`Your proposed upload of ${declared} bytes exceeds the maximum object size of one PUT, 5 GiB (5368709120 bytes)`);
        expect(res.body).toMatch(/multipart upload/);
      }
      await expectS3Error(s3.send(new HeadObjectCommand({ Bucket: b, Key: 'big' })), 'NotFound', 404);
    });

    it('answers malformed XML with MalformedXML and deletes in batches', async () => {
      const b = bucketName();
      await s3.send(new CreateBucketCommand({ Bucket: b }));
      const body = Buffer.from('<Delete><Object><Key>unterminated');
      const res = await signedRequest(target.url, target.creds, { method: 'POST', path: s3Path(b), query: { delete: '' }, body, headers: { 'content-md5': createHash('md5').update(body).digest('base64') } });
      expect(res.status).toBe(400);
      expect(errorCode(res)).toBe('MalformedXML');
      for (const k of ['x1', 'x2', 'x3']) await s3.send(new PutObjectCommand({ Bucket: b, Key: k, Body: k }));
      const out = await s3.send(new DeleteObjectsCommand({ Bucket: b, Delete: { Objects: [{ Key: 'x1' }, { Key: 'x2' }, { Key: 'never-existed' }] } }));
      expect(out.Deleted?.map((d) => d.Key).sort()).toEqual(['never-existed', 'x1', 'x2']);
      const left = await s3.send(new ListObjectsV2Command({ Bucket: b }));
      expect(left.Contents?.map((c) => c.Key)).toEqual(['x3']);
    });

    it('never stores plaintext, and deleting an object shreds its blob and wrapped key', async () => {
      const b = bucketName();
      await s3.send(new CreateBucketCommand({ Bucket: b }));
      const marker = Buffer.from(`PLAINTEXT-MARKER-${randomBytes(8).toString('hex')}-`.repeat(2000));
      await s3.send(new PutObjectCommand({ Bucket: b, Key: 'secret.txt', Body: marker }));
      const needle = marker.subarray(0, 40);
      const blobs = await target.rawBlobs();
      expect(blobs.length).toBeGreaterThan(0);
      for (const blob of blobs) expect(blob.includes(needle)).toBe(false);
      const before = blobs.length;
      await s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'secret.txt' }));
      const after = await target.rawBlobs();
      expect(after.length).toBe(before - 1);
    });

    it('serves whole old or whole new objects to readers during concurrent overwrites', async () => {
      const b = bucketName();
      await s3.send(new CreateBucketCommand({ Bucket: b }));
      const versions = Array.from({ length: 6 }, (_, i) => Buffer.alloc(200_000 + i * 1000, i + 1));
      const digests = new Set(versions.map(sha256));
      // The ETag each PUT returned, mapped to the digest of the bytes it wrote: a read's ETag must name its bytes.
      const versionOf = new Map<string, string>();
      const put = async (v: Buffer) => versionOf.set((await s3.send(new PutObjectCommand({ Bucket: b, Key: 'hot', Body: v }))).ETag!, sha256(v));
      await put(versions[0]!);
      const writers = versions.slice(1).map(put);
      const reads = await Promise.all(Array.from({ length: 12 }, async () => {
        const got = await s3.send(new GetObjectCommand({ Bucket: b, Key: 'hot' }));
        const bytes = Buffer.from(await got.Body!.transformToByteArray());
        expect(digests.has(sha256(bytes))).toBe(true);
        return { etag: got.ETag!, digest: sha256(bytes) };
      }));
      await Promise.all(writers);
      for (const r of reads) expect(versionOf.get(r.etag)).toBe(r.digest);
      const final = await s3.send(new GetObjectCommand({ Bucket: b, Key: 'hot' }));
      const finalBytes = Buffer.from(await final.Body!.transformToByteArray());
      expect(versionOf.get(final.ETag!)).toBe(sha256(finalBytes));
    }, 60_000);

    it('accepts the SDK default upload: aws-chunked body with a CRC32 trailer', async () => {
      const b = bucketName();
      await s3.send(new CreateBucketCommand({ Bucket: b }));
      const checksumming = s3Client(target, { requestChecksumCalculation: 'WHEN_SUPPORTED' });
      const body = randomBytes(100_000);
      // A stream body of unknown length makes the SDK send aws-chunked with a trailing checksum.
      const { Readable } = await import('node:stream');
      await checksumming.send(new PutObjectCommand({ Bucket: b, Key: 'crc', Body: Readable.from([body.subarray(0, 50_000), body.subarray(50_000)]), ContentLength: body.length, ChecksumAlgorithm: 'CRC32' }));
      const got = await s3.send(new GetObjectCommand({ Bucket: b, Key: 'crc' }));
      expect(Buffer.from(await got.Body!.transformToByteArray()).equals(body)).toBe(true);
      checksumming.destroy();
    });
  });
}
