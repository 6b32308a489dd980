// Conformance suite for request headers that ask for a protection or a behaviour (issue 14: "nothing is accepted
// without effect"): Object Lock, expected bucket owners, tagging, storage classes, website redirects, object
// ownership, appends. Each is honoured or refused with S3's error, and a refusal leaves nothing stored, created or
// deleted. Written from S3's API reference (PutObject, CopyObject, CreateMultipartUpload, CreateBucket, UploadPartCopy:
// "If the account ID that you provide does not match the actual owner of the bucket, the request fails with the HTTP
// status code 403 Forbidden"; Object Lock headers in a bucket without Object Lock: 400 InvalidRequest "Bucket is
// missing ObjectLockConfiguration"; the error table: InvalidStorageClass, 400). SDK v3 and raw signed requests.
import {
  AbortMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  GetObjectAttributesCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListMultipartUploadsCommand,
  ListObjectsCommand,
  ListObjectsV2Command,
  ListPartsCommand,
  PutObjectCommand,
  UploadPartCopyCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { expectS3Error, s3Client } from '../s3-suite';
import type { OwnedTarget } from './auth-buckets-listing-suite';
import { errorCode, s3Path, signedRequest } from '../../support/signed-fetch';
import { refusedFromHeaders } from '../s3-suite';

/** An AWS account id: never the owner of a bucket here (owners are access key ids, or sealstore-root). */
const FOREIGN_ACCOUNT = '111122223333';
const RETAIN_UNTIL = new Date(Date.now() + 86_400_000 * 30);

export function describeRefusedHeadersSuite(backend: string, setup: () => Promise<OwnedTarget>, unavailable?: string): void {
  if (unavailable) console.warn(`Refused headers suite on the ${backend} backend SKIPPED: ${unavailable}`);
  const describeOrSkip = unavailable ? describe.skip : describe;
  describeOrSkip(`S3 request headers asking for protections: honoured or refused, never ignored (${backend} backend)${unavailable ? ` — skipped: ${unavailable}` : ''}`, () => {
    let target: OwnedTarget;
    let s3: S3Client;
    let n = 0;
    const name = () => `rh-${backend.replace(/[^a-z0-9]/g, '')}-${Date.now().toString(36)}-${n++}`;
    const newBucket = async () => {
      const b = name();
      await s3.send(new CreateBucketCommand({ Bucket: b }));
      return b;
    };
    const bodyOf = async (b: string, k: string) => Buffer.from(await (await s3.send(new GetObjectCommand({ Bucket: b, Key: k }))).Body!.transformToByteArray()).toString();
    const expectNoObject = (b: string, k: string) => expectS3Error(s3.send(new HeadObjectCommand({ Bucket: b, Key: k })), 'NotFound', 404);
    const expectNoBucket = (b: string) => expectS3Error(s3.send(new HeadBucketCommand({ Bucket: b })), 'NotFound', 404);
    const uploadsIn = async (b: string) => (await s3.send(new ListMultipartUploadsCommand({ Bucket: b }))).Uploads ?? [];
    const raw = (method: string, path: string, headers: Record<string, string>, body?: string, query?: Record<string, string>) =>
      signedRequest(target.url, target.creds, { method, path, headers, ...(body === undefined ? {} : { body: Buffer.from(body) }), ...(query ? { query } : {}) });

    beforeAll(async () => {
      target = await setup();
      s3 = s3Client(target);
    }, 60_000);
    afterAll(async () => {
      s3?.destroy();
      await target?.close();
    });

    it('refuses Object Lock headers on PutObject with 400 InvalidRequest and stores nothing; an existing object is neither replaced nor protected', async () => {
      const b = await newBucket();
      await expectS3Error(s3.send(new PutObjectCommand({ Bucket: b, Key: 'locked', Body: 'x', ObjectLockMode: 'COMPLIANCE', ObjectLockRetainUntilDate: RETAIN_UNTIL })), 'InvalidRequest', 400);
      await expectS3Error(s3.send(new PutObjectCommand({ Bucket: b, Key: 'held', Body: 'x', ObjectLockLegalHoldStatus: 'ON' })), 'InvalidRequest', 400);
      await expectNoObject(b, 'locked');
      await expectNoObject(b, 'held');

      // Each header alone, raw, and S3's message; over an existing object, which keeps its bytes.
      await s3.send(new PutObjectCommand({ Bucket: b, Key: 'kept', Body: 'old' }));
      for (const [header, value] of [['x-amz-object-lock-mode', 'GOVERNANCE'], ['x-amz-object-lock-retain-until-date', RETAIN_UNTIL.toISOString()], ['x-amz-object-lock-legal-hold', 'OFF']] as const) {
        const res = await raw('PUT', s3Path(b, 'kept'), { [header]: value }, 'new');
        expect([res.status, errorCode(res), header]).toEqual([400, 'InvalidRequest', header]);
        expect(res.body.toString()).toContain('Bucket is missing ObjectLockConfiguration');
        expect(res.body.toString()).toContain('sealstore has no Object Lock');
      }
      expect(await bodyOf(b, 'kept')).toBe('old');

      // Refused from the headers: a client waiting for 100 Continue never sends the body.
      const early = await refusedFromHeaders(target, 'PUT', s3Path(b, 'early'), {}, { 'content-length': '1048576', 'x-amz-object-lock-mode': 'COMPLIANCE', 'x-amz-object-lock-retain-until-date': RETAIN_UNTIL.toISOString() });
      expect(early.status).toBe(400);
      await expectNoObject(b, 'early');
    });

    it('refuses Object Lock headers on CopyObject and CreateMultipartUpload: no copy, no upload', async () => {
      const b = await newBucket();
      await s3.send(new PutObjectCommand({ Bucket: b, Key: 'src', Body: 'source' }));
      await expectS3Error(s3.send(new CopyObjectCommand({ Bucket: b, Key: 'copy', CopySource: `${b}/src`, ObjectLockMode: 'GOVERNANCE', ObjectLockRetainUntilDate: RETAIN_UNTIL })), 'InvalidRequest', 400);
      await expectNoObject(b, 'copy');
      await expectS3Error(s3.send(new CreateMultipartUploadCommand({ Bucket: b, Key: 'mpu', ObjectLockLegalHoldStatus: 'ON' })), 'InvalidRequest', 400);
      expect(await uploadsIn(b)).toEqual([]);
    });

    it('refuses CreateBucket with x-amz-bucket-object-lock-enabled: true (501 NotImplemented) and creates nothing; false is what every bucket is', async () => {
      const locked = name();
      await expectS3Error(s3.send(new CreateBucketCommand({ Bucket: locked, ObjectLockEnabledForBucket: true })), 'NotImplemented', 501);
      await expectNoBucket(locked);
      const res = await raw('PUT', s3Path(locked), { 'x-amz-bucket-object-lock-enabled': 'maybe' });
      expect([res.status, errorCode(res)]).toEqual([400, 'InvalidArgument']);
      await expectNoBucket(locked);
      const plain = name();
      await s3.send(new CreateBucketCommand({ Bucket: plain, ObjectLockEnabledForBucket: false }));
      await s3.send(new HeadBucketCommand({ Bucket: plain }));
    });

    it('honours x-amz-expected-bucket-owner: another owner is 403 AccessDenied with nothing written, read or deleted; the real owner passes', async () => {
      const b = await newBucket();
      const owner = (await s3.send(new ListBucketsCommand({}))).Owner?.ID;
      expect(owner).toBeTruthy();
      const wrong = { ExpectedBucketOwner: FOREIGN_ACCOUNT };

      await expectS3Error(s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'x', ...wrong })), 'AccessDenied', 403);
      await expectNoObject(b, 'k');
      await s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'stays', ExpectedBucketOwner: owner }));

      await expectS3Error(s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'k', ...wrong })), 'AccessDenied', 403);
      expect(await bodyOf(b, 'k')).toBe('stays');
      await expectS3Error(s3.send(new GetObjectCommand({ Bucket: b, Key: 'k', ...wrong })), 'AccessDenied', 403);
      await expectS3Error(s3.send(new ListObjectsV2Command({ Bucket: b, ...wrong })), 'AccessDenied', 403);
      // HEAD answers carry no body, so the status is the whole answer.
      expect((await raw('HEAD', s3Path(b, 'k'), { 'x-amz-expected-bucket-owner': FOREIGN_ACCOUNT })).status).toBe(403);
      expect((await raw('HEAD', s3Path(b), { 'x-amz-expected-bucket-owner': FOREIGN_ACCOUNT })).status).toBe(403);
      await expectS3Error(s3.send(new CreateMultipartUploadCommand({ Bucket: b, Key: 'mpu', ...wrong })), 'AccessDenied', 403);
      expect(await uploadsIn(b)).toEqual([]);

      // A bucket delete with the wrong owner leaves the bucket (emptied first, so only the header could stop it).
      const empty = await newBucket();
      await expectS3Error(s3.send(new DeleteBucketCommand({ Bucket: empty, ...wrong })), 'AccessDenied', 403);
      await s3.send(new HeadBucketCommand({ Bucket: empty }));

      // CreateBucket: the bucket would be the caller's, so expecting another owner creates nothing.
      const created = name();
      const res = await raw('PUT', s3Path(created), { 'x-amz-expected-bucket-owner': FOREIGN_ACCOUNT });
      expect([res.status, errorCode(res)]).toEqual([403, 'AccessDenied']);
      await expectNoBucket(created);

      // The owner ListBuckets names is the one the header must carry.
      expect(await bodyOf(b, 'k')).toBe('stays');
      await s3.send(new GetObjectCommand({ Bucket: b, Key: 'k', ExpectedBucketOwner: owner }));
      await s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'k', ExpectedBucketOwner: owner }));
      await expectNoObject(b, 'k');
      await s3.send(new DeleteBucketCommand({ Bucket: empty, ExpectedBucketOwner: owner }));
      await expectNoBucket(empty);
    });

    it('compares x-amz-expected-bucket-owner with who created the bucket, and tells a caller without a grant nothing', async () => {
      const daves = name();
      const made = await target.server.accessKeys.create({ grants: [{ bucket: daves, role: 'admin' }] });
      const dave = s3Client({ url: target.url, creds: { accessKeyId: made.accessKeyId, secretAccessKey: made.secretAccessKey } });
      try {
        await dave.send(new CreateBucketCommand({ Bucket: daves }));
        await dave.send(new PutObjectCommand({ Bucket: daves, Key: 'k', Body: 'dave', ExpectedBucketOwner: made.accessKeyId }));
        await expectS3Error(dave.send(new PutObjectCommand({ Bucket: daves, Key: 'k', Body: 'root?', ExpectedBucketOwner: 'sealstore-root' })), 'AccessDenied', 403);
        // Root acts on Dave's bucket when it expects Dave as the owner, and only then.
        await expectS3Error(s3.send(new DeleteObjectCommand({ Bucket: daves, Key: 'k', ExpectedBucketOwner: 'sealstore-root' })), 'AccessDenied', 403);
        expect(await bodyOf(daves, 'k')).toBe('dave');
        await s3.send(new DeleteObjectCommand({ Bucket: daves, Key: 'k', ExpectedBucketOwner: made.accessKeyId }));
        await expectNoObject(daves, 'k');
        // Without a grant on the bucket, an existing and a missing bucket answer alike: no owner or existence probe.
        const rootOwned = await newBucket();
        const probe = (bucket: string) => signedRequest(target.url, made, { method: 'GET', path: s3Path(bucket), headers: { 'x-amz-expected-bucket-owner': made.accessKeyId } });
        const [existing, missing] = [await probe(rootOwned), await probe(name())];
        expect([existing.status, errorCode(existing), missing.status, errorCode(missing)]).toEqual([403, 'AccessDenied', 403, 'AccessDenied']);
      } finally {
        dave.destroy();
      }
    });

    it('honours x-amz-source-expected-bucket-owner on CopyObject and UploadPartCopy: another source owner is 403, no copy, no part', async () => {
      const b = await newBucket();
      const owner = (await s3.send(new ListBucketsCommand({}))).Owner?.ID;
      await s3.send(new PutObjectCommand({ Bucket: b, Key: 'src', Body: 'source' }));
      await expectS3Error(s3.send(new CopyObjectCommand({ Bucket: b, Key: 'copy', CopySource: `${b}/src`, ExpectedSourceBucketOwner: FOREIGN_ACCOUNT })), 'AccessDenied', 403);
      await expectNoObject(b, 'copy');
      const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: b, Key: 'mpu' }));
      await expectS3Error(s3.send(new UploadPartCopyCommand({ Bucket: b, Key: 'mpu', UploadId, PartNumber: 1, CopySource: `${b}/src`, ExpectedSourceBucketOwner: FOREIGN_ACCOUNT })), 'AccessDenied', 403);
      expect((await s3.send(new ListPartsCommand({ Bucket: b, Key: 'mpu', UploadId }))).Parts ?? []).toEqual([]);
      await s3.send(new CopyObjectCommand({ Bucket: b, Key: 'copy', CopySource: `${b}/src`, ExpectedSourceBucketOwner: owner, ExpectedBucketOwner: owner }));
      expect(await bodyOf(b, 'copy')).toBe('source');
    });

    it('refuses x-amz-tagging on PutObject, CopyObject and CreateMultipartUpload with 501 NotImplemented: nothing stored', async () => {
      const b = await newBucket();
      await expectS3Error(s3.send(new PutObjectCommand({ Bucket: b, Key: 'tagged', Body: 'x', Tagging: 'team=red' })), 'NotImplemented', 501);
      await expectNoObject(b, 'tagged');
      await s3.send(new PutObjectCommand({ Bucket: b, Key: 'src', Body: 'source' }));
      await expectS3Error(s3.send(new CopyObjectCommand({ Bucket: b, Key: 'copy', CopySource: `${b}/src`, TaggingDirective: 'REPLACE', Tagging: 'team=red' })), 'NotImplemented', 501);
      await expectNoObject(b, 'copy');
      await expectS3Error(s3.send(new CreateMultipartUploadCommand({ Bucket: b, Key: 'mpu', Tagging: 'team=red' })), 'NotImplemented', 501);
      expect(await uploadsIn(b)).toEqual([]);
      const odd = await raw('PUT', s3Path(b, 'copy'), { 'x-amz-copy-source': `/${b}/src`, 'x-amz-tagging-directive': 'MERGE' });
      expect([odd.status, errorCode(odd)]).toEqual([400, 'InvalidArgument']);
      await expectNoObject(b, 'copy');
      // REPLACE without tags, and COPY of a source that has none, ask for what the copy gets: no tags.
      await s3.send(new CopyObjectCommand({ Bucket: b, Key: 'copy', CopySource: `${b}/src`, TaggingDirective: 'REPLACE' }));
      expect(await bodyOf(b, 'copy')).toBe('source');
    });

    it('accepts x-amz-storage-class STANDARD and refuses every other class with 400 InvalidStorageClass; reads and listings say STANDARD', async () => {
      const b = await newBucket();
      await s3.send(new PutObjectCommand({ Bucket: b, Key: 'std', Body: 'x', StorageClass: 'STANDARD' }));
      await expectS3Error(s3.send(new PutObjectCommand({ Bucket: b, Key: 'cold', Body: 'x', StorageClass: 'GLACIER' })), 'InvalidStorageClass', 400);
      await expectNoObject(b, 'cold');
      const bogus = await raw('PUT', s3Path(b, 'bogus'), { 'x-amz-storage-class': 'TAPE' }, 'x');
      expect([bogus.status, errorCode(bogus)]).toEqual([400, 'InvalidStorageClass']);
      expect(bogus.body.toString()).toContain('sealstore stores every object as STANDARD');
      await expectNoObject(b, 'bogus');
      await expectS3Error(s3.send(new CopyObjectCommand({ Bucket: b, Key: 'ia', CopySource: `${b}/std`, StorageClass: 'STANDARD_IA' })), 'InvalidStorageClass', 400);
      await expectNoObject(b, 'ia');
      await expectS3Error(s3.send(new CreateMultipartUploadCommand({ Bucket: b, Key: 'mpu', StorageClass: 'DEEP_ARCHIVE' })), 'InvalidStorageClass', 400);
      expect(await uploadsIn(b)).toEqual([]);

      // S3 omits x-amz-storage-class on GET/HEAD for STANDARD objects; listings and attributes name it.
      const head = await raw('HEAD', s3Path(b, 'std'), {});
      expect(head.headers['x-amz-storage-class']).toBeUndefined();
      const got = await s3.send(new GetObjectCommand({ Bucket: b, Key: 'std' }));
      expect(got.StorageClass).toBeUndefined();
      await got.Body!.transformToByteArray();
      expect((await s3.send(new ListObjectsV2Command({ Bucket: b }))).Contents?.map((o) => o.StorageClass)).toEqual(['STANDARD']);
      expect((await s3.send(new ListObjectsCommand({ Bucket: b }))).Contents?.map((o) => o.StorageClass)).toEqual(['STANDARD']);
      expect((await s3.send(new GetObjectAttributesCommand({ Bucket: b, Key: 'std', ObjectAttributes: ['StorageClass'] }))).StorageClass).toBe('STANDARD');
    });

    it('refuses x-amz-website-redirect-location, x-amz-write-offset-bytes and x-amz-if-match-initiated-time (501): nothing stored, replaced or aborted', async () => {
      const b = await newBucket();
      await expectS3Error(s3.send(new PutObjectCommand({ Bucket: b, Key: 'page', Body: 'x', WebsiteRedirectLocation: '/elsewhere' })), 'NotImplemented', 501);
      await expectNoObject(b, 'page');
      await s3.send(new PutObjectCommand({ Bucket: b, Key: 'log', Body: 'first' }));
      const append = await raw('PUT', s3Path(b, 'log'), { 'x-amz-write-offset-bytes': '5' }, 'second');
      expect([append.status, errorCode(append)]).toEqual([501, 'NotImplemented']);
      expect(await bodyOf(b, 'log')).toBe('first');
      // A conditional abort (directory buckets only) is refused rather than run unconditionally: the upload stays.
      const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: b, Key: 'mpu' }));
      await expectS3Error(s3.send(new AbortMultipartUploadCommand({ Bucket: b, Key: 'mpu', UploadId, IfMatchInitiatedTime: new Date() })), 'NotImplemented', 501);
      expect((await uploadsIn(b)).map((u) => u.UploadId)).toEqual([UploadId]);
    });

    it('takes x-amz-object-ownership BucketOwnerEnforced on CreateBucket and refuses ObjectWriter / BucketOwnerPreferred with 400 InvalidArgument, creating nothing', async () => {
      for (const ownership of ['ObjectWriter', 'BucketOwnerPreferred'] as const) {
        const b = name();
        await expectS3Error(s3.send(new CreateBucketCommand({ Bucket: b, ObjectOwnership: ownership })), 'InvalidArgument', 400);
        await expectNoBucket(b);
      }
      const enforced = name();
      await s3.send(new CreateBucketCommand({ Bucket: enforced, ObjectOwnership: 'BucketOwnerEnforced' }));
      await s3.send(new HeadBucketCommand({ Bucket: enforced }));
    });

    it('accepts x-amz-bypass-governance-retention, x-amz-mfa and x-amz-request-payer: they ask for nothing a bucket here could withhold', async () => {
      const b = await newBucket();
      await s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'x', RequestPayer: 'requester' }));
      expect(await bodyOf(b, 'k')).toBe('x');
      const res = await raw('DELETE', s3Path(b, 'k'), { 'x-amz-bypass-governance-retention': 'true', 'x-amz-mfa': '123456789012 123456' });
      expect(res.status).toBe(204);
      await expectNoObject(b, 'k');
    });
  });
}
