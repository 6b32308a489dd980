// Conformance: flexible checksums on every path (PUT header, aws-chunked trailer, UploadPart, CompleteMultipartUpload),
// checksum mode on GET/HEAD, GetObjectAttributes, and the multipart answers S3 gives (part lists, partNumber reads,
// retried completions, UploadPartCopy ranges). Written from S3's documented behaviour; runs on any backend.
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectAttributesCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListPartsCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import { Crc32c, Crc64Nvme } from '@aws-sdk/checksums/crc';
import { Xxh3_128, Xxh3_64, Xxh64 } from '@aws-sdk/checksums/xxh';
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { crc32 } from 'node:zlib';
import { errorCode, s3Path, signedRequest, type RawResponse } from '../../support/signed-fetch';
import { boto3Version, resolveTool, warnIfMissing } from '../../support/tools';
import { expectS3Error, s3Client, type S3Target } from '../s3-suite';

const run = promisify(execFile);
const boto3 = boto3Version();
warnIfMissing(boto3, 'boto3 checksum-mode check', 'python3 -c "import boto3"', 'boto3');

type Algorithm = 'CRC32' | 'CRC32C' | 'CRC64NVME' | 'SHA1' | 'SHA256' | 'SHA512' | 'MD5' | 'XXHASH64' | 'XXHASH3' | 'XXHASH128';
const ALL: readonly Algorithm[] = ['CRC32', 'CRC32C', 'CRC64NVME', 'SHA1', 'SHA256', 'SHA512', 'MD5', 'XXHASH64', 'XXHASH3', 'XXHASH128'];

/** The digest of `body` as the SDKs compute it (zlib for CRC32, node:crypto for the hashes, the SDK's own classes). */
async function digestOf(algorithm: Algorithm, body: Buffer): Promise<Buffer> {
  switch (algorithm) {
    case 'CRC32': {
      const out = Buffer.alloc(4);
      out.writeUInt32BE(crc32(body) >>> 0);
      return out;
    }
    case 'SHA1':
    case 'SHA256':
    case 'SHA512':
    case 'MD5':
      return createHash(algorithm.toLowerCase()).update(body).digest();
    default: {
      const impl = { CRC32C: Crc32c, CRC64NVME: Crc64Nvme, XXHASH64: Xxh64, XXHASH3: Xxh3_64, XXHASH128: Xxh3_128 }[algorithm];
      const h = new impl();
      h.update(body);
      return Buffer.from(await h.digest());
    }
  }
}
const b64 = async (algorithm: Algorithm, body: Buffer) => (await digestOf(algorithm, body)).toString('base64');
/** The same length, another value. */
const wrongOf = (value: string) => {
  const bytes = Buffer.from(value, 'base64');
  bytes[0] = (bytes[0] ?? 0) ^ 0xff;
  return bytes.toString('base64');
};
const header = (algorithm: Algorithm) => `x-amz-checksum-${algorithm.toLowerCase()}`;
const badDigestMessage = (algorithm: Algorithm) => `The ${algorithm} you specified did not match the calculated checksum.`;

function expectError(r: RawResponse, status: number, code: string, message?: string): void {
  expect({ status: r.status, code: errorCode(r) }).toEqual({ status, code });
  if (message !== undefined) expect(r.body.toString()).toContain(`<Message>${message}</Message>`);
}

/** An aws-chunked body (unsigned payload, trailer) carrying `trailerValue` as the checksum trailer. */
function chunkedWithTrailer(data: Buffer, trailerName: string, trailerValue: string): { headers: Record<string, string>; body: Buffer } {
  const body = Buffer.concat([
    Buffer.from(`${data.length.toString(16)}\r\n`),
    data,
    Buffer.from(`\r\n0\r\n${trailerName}:${trailerValue}\r\n\r\n`),
  ]);
  return {
    headers: {
      'x-amz-content-sha256': 'STREAMING-UNSIGNED-PAYLOAD-TRAILER',
      'content-encoding': 'aws-chunked',
      'x-amz-decoded-content-length': String(data.length),
      'x-amz-trailer': trailerName,
    },
    body,
  };
}

/** An SDK output's Checksum<ALG> member, named at run time. */
const fieldOf = (output: object, name: string): unknown => (output as Record<string, unknown>)[name];

async function bodyOf(out: { Body?: { transformToByteArray(): Promise<Uint8Array> } }): Promise<Buffer> {
  return Buffer.from(await out.Body!.transformToByteArray());
}

export function describeMultipartChecksumSuite(backend: string, setup: () => Promise<S3Target>, unavailable?: string): void {
  if (unavailable) console.warn(`multipart/checksum conformance suite on the ${backend} backend SKIPPED: ${unavailable}`);
  const describeOrSkip = unavailable ? describe.skip : describe;
  describeOrSkip(`S3 conformance: checksums and multipart answers (${backend} backend)`, () => {
    let target: S3Target;
    let s3: S3Client;
    let n = 0;
    const newBucket = async () => {
      const b = `ck-${backend.replace(/[^a-z0-9]/g, '')}-${Date.now().toString(36)}-${n++}`;
      await s3.send(new CreateBucketCommand({ Bucket: b }));
      return b;
    };
    const put = (b: string, key: string, body: Buffer, headers: Record<string, string>, query?: Record<string, string>) =>
      signedRequest(target.url, target.creds, { method: 'PUT', path: s3Path(b, key), headers, body, ...(query ? { query } : {}) });

    beforeAll(async () => {
      target = await setup();
      s3 = s3Client(target);
    }, 60_000);
    afterAll(async () => {
      s3?.destroy();
      await target?.close();
    });

    it('verifies every flexible checksum S3 offers on a PutObject header: right is stored and echoed, wrong is BadDigest and stores nothing', async () => {
      const b = await newBucket();
      const body = randomBytes(70_001);
      const first = Buffer.from('the object before');
      for (const algorithm of ALL) {
        const key = `hdr/${algorithm}`;
        // A wrong value on a new key stores nothing.
        const refused = await put(b, key, body, { [header(algorithm)]: wrongOf(await b64(algorithm, body)) });
        expectError(refused, 400, 'BadDigest', badDigestMessage(algorithm));
        await expectS3Error(s3.send(new HeadObjectCommand({ Bucket: b, Key: key })), 'NotFound', 404);
        // A right value is stored and echoed; a wrong one over it leaves it as it was.
        const ok = await put(b, key, first, { [header(algorithm)]: await b64(algorithm, first) });
        expect({ status: ok.status, echoed: ok.headers[header(algorithm)] }).toEqual({ status: 200, echoed: await b64(algorithm, first) });
        expectError(await put(b, key, body, { [header(algorithm)]: wrongOf(await b64(algorithm, body)) }), 400, 'BadDigest', badDigestMessage(algorithm));
        // Read raw: the SDKs validate returned checksums of the five classic algorithms only.
        const stored = await signedRequest(target.url, target.creds, { method: 'GET', path: s3Path(b, key), headers: { 'x-amz-checksum-mode': 'ENABLED' } });
        expect({ status: stored.status, same: stored.body.equals(first), checksum: stored.headers[header(algorithm)] }).toEqual({ status: 200, same: true, checksum: await b64(algorithm, first) });
      }
      // x-amz-sdk-checksum-algorithm with no value to check is refused, not taken as checked.
      expectError(
        await put(b, 'sdk-only', body, { 'x-amz-sdk-checksum-algorithm': 'CRC64NVME' }),
        400,
        'InvalidRequest',
        'x-amz-sdk-checksum-algorithm specified, but no corresponding x-amz-checksum-* or x-amz-trailer headers were found.',
      );
      expectError(
        await put(b, 'sdk-other', body, { 'x-amz-sdk-checksum-algorithm': 'SHA256', [header('CRC64NVME')]: await b64('CRC64NVME', body) }),
        400,
        'InvalidRequest',
      );
    }, 120_000);

    it('verifies a checksum sent as an aws-chunked trailer, on PutObject and UploadPart, and echoes the one it verified', async () => {
      const b = await newBucket();
      const body = randomBytes(40_000);
      for (const algorithm of ['CRC32', 'CRC32C', 'CRC64NVME', 'SHA1', 'SHA256', 'XXHASH128'] as const) {
        const right = chunkedWithTrailer(body, header(algorithm), await b64(algorithm, body));
        const ok = await put(b, `tr/${algorithm}`, right.body, right.headers);
        expect({ status: ok.status, echoed: ok.headers[header(algorithm)] }).toEqual({ status: 200, echoed: await b64(algorithm, body) });
        const wrong = chunkedWithTrailer(body, header(algorithm), wrongOf(await b64(algorithm, body)));
        expectError(await put(b, `tr/${algorithm}-wrong`, wrong.body, wrong.headers), 400, 'BadDigest', badDigestMessage(algorithm));
        await expectS3Error(s3.send(new HeadObjectCommand({ Bucket: b, Key: `tr/${algorithm}-wrong` })), 'NotFound', 404);
      }
      // The SDK's own trailer (a stream body makes it send aws-chunked): verified and echoed.
      const sdk = s3Client(target, { requestChecksumCalculation: 'WHEN_SUPPORTED' });
      const out = await sdk.send(
        new PutObjectCommand({ Bucket: b, Key: 'sdk-trailer', Body: Readable.from([body.subarray(0, 1000), body.subarray(1000)]), ContentLength: body.length, ChecksumAlgorithm: 'CRC64NVME' }),
      );
      expect(out.ChecksumCRC64NVME).toBe(await b64('CRC64NVME', body));
      sdk.destroy();
      // UploadPart: right and wrong, as a header and as a trailer, for each algorithm; a refused part leaves the earlier one.
      const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: b, Key: 'parts' }));
      const q = (partNumber: number) => ({ partNumber: String(partNumber), uploadId: UploadId! });
      for (const [i, algorithm] of ALL.entries()) {
        const ok = await put(b, 'parts', body, { [header(algorithm)]: await b64(algorithm, body) }, q(i + 1));
        expect({ status: ok.status, echoed: ok.headers[header(algorithm)] }).toEqual({ status: 200, echoed: await b64(algorithm, body) });
        expectError(await put(b, 'parts', body, { [header(algorithm)]: wrongOf(await b64(algorithm, body)) }, q(i + 1)), 400, 'BadDigest', badDigestMessage(algorithm));
        const trailer = chunkedWithTrailer(body, header(algorithm), wrongOf(await b64(algorithm, body)));
        expectError(await put(b, 'parts', trailer.body, trailer.headers, q(i + 1)), 400, 'BadDigest', badDigestMessage(algorithm));
        const listed = await s3.send(new ListPartsCommand({ Bucket: b, Key: 'parts', UploadId }));
        expect(listed.Parts?.find((p) => p.PartNumber === i + 1)?.ETag).toBe(ok.headers['etag']);
      }
      expectError(await put(b, 'parts', body, { 'x-amz-sdk-checksum-algorithm': 'crc32' }, q(98)), 400, 'InvalidRequest');
    }, 120_000);

    it('returns a PUT object\'s checksum with checksum mode on whole-object GET and HEAD, not on ranged reads', async () => {
      const b = await newBucket();
      const body = randomBytes(100_000);
      const sdk = s3Client(target, { requestChecksumCalculation: 'WHEN_SUPPORTED' });
      const out = await sdk.send(new PutObjectCommand({ Bucket: b, Key: 'o', Body: body, ChecksumAlgorithm: 'SHA256' }));
      expect(out.ChecksumSHA256).toBe(await b64('SHA256', body));
      const got = await sdk.send(new GetObjectCommand({ Bucket: b, Key: 'o', ChecksumMode: 'ENABLED' }));
      expect({ sha: got.ChecksumSHA256, type: got.ChecksumType }).toEqual({ sha: await b64('SHA256', body), type: 'FULL_OBJECT' });
      expect((await bodyOf(got)).equals(body)).toBe(true);
      const head = await sdk.send(new HeadObjectCommand({ Bucket: b, Key: 'o', ChecksumMode: 'ENABLED' }));
      expect({ sha: head.ChecksumSHA256, type: head.ChecksumType }).toEqual({ sha: await b64('SHA256', body), type: 'FULL_OBJECT' });
      const ranged = await sdk.send(new GetObjectCommand({ Bucket: b, Key: 'o', ChecksumMode: 'ENABLED', Range: 'bytes=0-99' }));
      expect(ranged.ChecksumSHA256).toBeUndefined();
      await bodyOf(ranged);
      // Without checksum mode, nothing is returned (and nothing is decrypted for it).
      expect((await sdk.send(new HeadObjectCommand({ Bucket: b, Key: 'o' }))).ChecksumSHA256).toBeUndefined();
      const attributes = await s3.send(new GetObjectAttributesCommand({ Bucket: b, Key: 'o', ObjectAttributes: ['ETag', 'Checksum', 'ObjectSize', 'StorageClass', 'ObjectParts'] }));
      expect({ etag: attributes.ETag, sha: attributes.Checksum?.ChecksumSHA256, type: attributes.Checksum?.ChecksumType, size: attributes.ObjectSize, cls: attributes.StorageClass, parts: attributes.ObjectParts }).toEqual({
        etag: out.ETag!.replace(/"/g, ''),
        sha: await b64('SHA256', body),
        type: 'FULL_OBJECT',
        size: body.length,
        cls: 'STANDARD',
        parts: undefined,
      });
      sdk.destroy();
    });

    const multipartCases: ReadonlyArray<{ algorithm: Algorithm; type: 'COMPOSITE' | 'FULL_OBJECT' }> = [
      { algorithm: 'CRC32', type: 'COMPOSITE' },
      { algorithm: 'SHA256', type: 'COMPOSITE' },
      { algorithm: 'CRC64NVME', type: 'FULL_OBJECT' },
      { algorithm: 'CRC32C', type: 'FULL_OBJECT' },
    ];
    it.each(multipartCases)('completes a $type $algorithm multipart upload with the checksum S3 computes, and refuses a wrong one', async ({ algorithm, type }) => {
      const b = await newBucket();
      const parts = [randomBytes(target.limits.minPartBytes), randomBytes(target.limits.minPartBytes + 11), randomBytes(777)];
      const whole = Buffer.concat(parts);
      const sdk = s3Client(target, { requestChecksumCalculation: 'WHEN_SUPPORTED' });
      const created = await sdk.send(
        new CreateMultipartUploadCommand({ Bucket: b, Key: 'mp', ChecksumAlgorithm: algorithm, ...(type === 'FULL_OBJECT' ? { ChecksumType: 'FULL_OBJECT' } : {}) }),
      );
      expect({ algorithm: created.ChecksumAlgorithm, type: created.ChecksumType }).toEqual({ algorithm, type });
      const field = `Checksum${algorithm}` as const;
      const done: Array<Record<string, unknown> & { PartNumber: number; ETag: string }> = [];
      for (const [i, body] of parts.entries()) {
        const r = await sdk.send(new UploadPartCommand({ Bucket: b, Key: 'mp', UploadId: created.UploadId, PartNumber: i + 1, Body: body, ChecksumAlgorithm: algorithm }));
        expect(fieldOf(r, field)).toBe(await b64(algorithm, body));
        done.push({ PartNumber: i + 1, ETag: r.ETag!, [field]: fieldOf(r, field) });
      }
      // A part without the upload's checksum is refused.
      expectError(await put(b, 'mp', parts[2]!, {}, { partNumber: '9', uploadId: created.UploadId! }), 400, 'InvalidRequest');
      const partDigests = await Promise.all(parts.map((p) => digestOf(algorithm, p)));
      const expected =
        type === 'COMPOSITE' ? `${(await digestOf(algorithm, Buffer.concat(partDigests))).toString('base64')}-${parts.length}` : await b64(algorithm, whole);
      // A wrong whole-object checksum in the completion: BadDigest, nothing published, the upload still open.
      const wrongValue = type === 'COMPOSITE' ? `${wrongOf(expected.split('-')[0]!)}-${parts.length}` : wrongOf(expected);
      await expectS3Error(
        s3.send(new CompleteMultipartUploadCommand({ Bucket: b, Key: 'mp', UploadId: created.UploadId, MultipartUpload: { Parts: done }, [field]: wrongValue, ...(type === 'FULL_OBJECT' ? { ChecksumType: 'FULL_OBJECT' } : {}) })),
        'BadDigest',
        400,
      );
      await expectS3Error(s3.send(new HeadObjectCommand({ Bucket: b, Key: 'mp' })), 'NotFound', 404);
      const complete = await s3.send(
        new CompleteMultipartUploadCommand({ Bucket: b, Key: 'mp', UploadId: created.UploadId, MultipartUpload: { Parts: done }, [field]: expected, ...(type === 'FULL_OBJECT' ? { ChecksumType: 'FULL_OBJECT' } : {}) }),
      );
      expect({ value: fieldOf(complete, field), type: complete.ChecksumType }).toEqual({ value: expected, type });
      // Checksum mode returns it (the SDK validates a FULL_OBJECT value against the body it reads).
      const got = await sdk.send(new GetObjectCommand({ Bucket: b, Key: 'mp', ChecksumMode: 'ENABLED' }));
      expect({ value: fieldOf(got, field), type: got.ChecksumType }).toEqual({ value: expected, type });
      expect((await bodyOf(got)).equals(whole)).toBe(true);
      const head = await sdk.send(new HeadObjectCommand({ Bucket: b, Key: 'mp', ChecksumMode: 'ENABLED' }));
      expect(fieldOf(head, field)).toBe(expected);
      // GetObjectAttributes: the checksum and each part's, a page at a time.
      const page1 = await s3.send(new GetObjectAttributesCommand({ Bucket: b, Key: 'mp', ObjectAttributes: ['Checksum', 'ObjectParts', 'ObjectSize'], MaxParts: 2 }));
      expect(fieldOf(page1.Checksum ?? {}, field)).toBe(expected);
      expect(page1.ObjectSize).toBe(whole.length);
      expect({ total: page1.ObjectParts?.TotalPartsCount, truncated: page1.ObjectParts?.IsTruncated, next: page1.ObjectParts?.NextPartNumberMarker }).toEqual({ total: 3, truncated: true, next: '2' });
      expect(page1.ObjectParts?.Parts?.map((p) => [p.PartNumber, p.Size, fieldOf(p, field)])).toEqual([
        [1, parts[0]!.length, partDigests[0]!.toString('base64')],
        [2, parts[1]!.length, partDigests[1]!.toString('base64')],
      ]);
      const page2 = await s3.send(new GetObjectAttributesCommand({ Bucket: b, Key: 'mp', ObjectAttributes: ['ObjectParts'], PartNumberMarker: '2' }));
      expect({ truncated: page2.ObjectParts?.IsTruncated, parts: page2.ObjectParts?.Parts?.map((p) => p.PartNumber) }).toEqual({ truncated: false, parts: [3] });
      sdk.destroy();
    }, 120_000);

    it('answers multipart edge cases as S3 does: repeated parts, partNumber reads, copy ranges, a retried completion', async () => {
      const b = await newBucket();
      const parts = [randomBytes(target.limits.minPartBytes), randomBytes(target.limits.minPartBytes), randomBytes(1234)];
      const whole = Buffer.concat(parts);
      const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: b, Key: 'mp' }));
      const done: Array<{ PartNumber: number; ETag: string }> = [];
      for (const [i, body] of parts.entries()) {
        done.push({ PartNumber: i + 1, ETag: (await s3.send(new UploadPartCommand({ Bucket: b, Key: 'mp', UploadId, PartNumber: i + 1, Body: body }))).ETag! });
      }
      // A part listed twice: part numbers must be strictly ascending.
      await expectS3Error(
        s3.send(new CompleteMultipartUploadCommand({ Bucket: b, Key: 'mp', UploadId, MultipartUpload: { Parts: [done[0]!, done[0]!, done[1]!, done[2]!] } })),
        'InvalidPartOrder',
        400,
      );
      const complete = await s3.send(new CompleteMultipartUploadCommand({ Bucket: b, Key: 'mp', UploadId, MultipartUpload: { Parts: done } }));
      // A retry of the completion that succeeded: the same answer.
      const again = await s3.send(new CompleteMultipartUploadCommand({ Bucket: b, Key: 'mp', UploadId, MultipartUpload: { Parts: done } }));
      expect({ etag: again.ETag, bucket: again.Bucket, key: again.Key, location: again.Location }).toEqual({
        etag: complete.ETag,
        bucket: b,
        key: 'mp',
        location: complete.Location,
      });
      // It reopens nothing: no parts, no listing, and another part list is not the same completion.
      await expectS3Error(s3.send(new UploadPartCommand({ Bucket: b, Key: 'mp', UploadId, PartNumber: 4, Body: 'x' })), 'NoSuchUpload', 404);
      await expectS3Error(s3.send(new ListPartsCommand({ Bucket: b, Key: 'mp', UploadId })), 'NoSuchUpload', 404);
      await expectS3Error(s3.send(new CompleteMultipartUploadCommand({ Bucket: b, Key: 'mp', UploadId, MultipartUpload: { Parts: done.slice(0, 2) } })), 'NoSuchUpload', 404);
      // GET/HEAD ?partNumber=N: that part, 206, with the part count.
      const part2 = await s3.send(new GetObjectCommand({ Bucket: b, Key: 'mp', PartNumber: 2 }));
      const start = parts[0]!.length;
      expect({ status: part2.$metadata.httpStatusCode, range: part2.ContentRange, count: part2.PartsCount, length: part2.ContentLength, etag: part2.ETag }).toEqual({
        status: 206,
        range: `bytes ${start}-${start + parts[1]!.length - 1}/${whole.length}`,
        count: 3,
        length: parts[1]!.length,
        etag: complete.ETag,
      });
      expect((await bodyOf(part2)).equals(parts[1]!)).toBe(true);
      const head3 = await s3.send(new HeadObjectCommand({ Bucket: b, Key: 'mp', PartNumber: 3 }));
      expect({ length: head3.ContentLength, count: head3.PartsCount }).toEqual({ length: parts[2]!.length, count: 3 });
      expect((await s3.send(new HeadObjectCommand({ Bucket: b, Key: 'mp' }))).PartsCount).toBeUndefined();
      await expectS3Error(s3.send(new GetObjectCommand({ Bucket: b, Key: 'mp', PartNumber: 4 })), 'InvalidPartNumber', 416);
      const both = await signedRequest(target.url, target.creds, { method: 'GET', path: s3Path(b, 'mp'), query: { partNumber: '1' }, headers: { range: 'bytes=0-1' } });
      expectError(both, 400, 'InvalidRequest');
      // A single-part object: partNumber=1 is the whole object (206, no part count); 2 is not satisfiable.
      const single = randomBytes(5000);
      await s3.send(new PutObjectCommand({ Bucket: b, Key: 'single', Body: single }));
      const one = await s3.send(new GetObjectCommand({ Bucket: b, Key: 'single', PartNumber: 1 }));
      expect({ status: one.$metadata.httpStatusCode, range: one.ContentRange, count: one.PartsCount }).toEqual({ status: 206, range: `bytes 0-4999/5000`, count: undefined });
      expect((await bodyOf(one)).equals(single)).toBe(true);
      const two = await signedRequest(target.url, target.creds, { method: 'GET', path: s3Path(b, 'single'), query: { partNumber: '2' } });
      expectError(two, 416, 'InvalidPartNumber', 'The requested partnumber is not satisfiable');
      // UploadPartCopy with a range past the source: S3's InvalidArgument, naming the source size.
      const { UploadId: copyUpload } = await s3.send(new CreateMultipartUploadCommand({ Bucket: b, Key: 'copy' }));
      await expectS3Error(
        s3.send(new UploadPartCopyCommand({ Bucket: b, Key: 'copy', UploadId: copyUpload, PartNumber: 1, CopySource: `${b}/single`, CopySourceRange: 'bytes=0-5000' })),
        'InvalidArgument',
        400,
      );
      const raw = await signedRequest(target.url, target.creds, {
        method: 'PUT',
        path: s3Path(b, 'copy'),
        query: { partNumber: '1', uploadId: copyUpload! },
        headers: { 'x-amz-copy-source': `/${b}/single`, 'x-amz-copy-source-range': 'bytes=100-9999' },
      });
      expectError(raw, 400, 'InvalidArgument', 'Range specified is not valid for source object of size: 5000');
    }, 120_000);

    (boto3 ? it : it.skip)(`returns checksums to boto3 with ChecksumMode=ENABLED (boto3 ${boto3 ?? 'not installed'})`, async () => {
      const b = await newBucket();
      const body = randomBytes(3000);
      await s3.send(new PutObjectCommand({ Bucket: b, Key: 'boto', Body: body, ChecksumCRC32C: await b64('CRC32C', body) }));
      const script = [
        'import boto3, json',
        `s3 = boto3.client("s3", endpoint_url="${target.url}", region_name="us-east-1", aws_access_key_id="${target.creds.accessKeyId}", aws_secret_access_key="${target.creds.secretAccessKey}", config=boto3.session.Config(s3={"addressing_style": "path"}))`,
        `h = s3.head_object(Bucket="${b}", Key="boto", ChecksumMode="ENABLED")`,
        `g = s3.get_object(Bucket="${b}", Key="boto", ChecksumMode="ENABLED")`,
        'g["Body"].read()',
        'print(json.dumps([h.get("ChecksumCRC32C"), h.get("ChecksumType"), g.get("ChecksumCRC32C")]))',
      ].join('\n');
      const { stdout } = await run(resolveTool('python3'), ['-c', script], { env: { ...process.env, AWS_EC2_METADATA_DISABLED: 'true' } });
      const expected = await b64('CRC32C', body);
      expect(JSON.parse(stdout.trim())).toEqual([expected, 'FULL_OBJECT', expected]);
    }, 60_000);
  });
}
