// Encryption and ACL headers, as S3 answers them: every protection a request asks for is honoured or refused,
// never accepted and ignored (issue 14, "silent downgrades"). One suite, both backends.
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketEncryptionCommand,
  GetBucketAclCommand,
  GetBucketEncryptionCommand,
  GetBucketOwnershipControlsCommand,
  GetObjectAclCommand,
  ListBucketsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  PutBucketAclCommand,
  PutBucketEncryptionCommand,
  PutObjectAclCommand,
  PutObjectCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { errorCode, s3Path, signedRequest } from '../../support/signed-fetch';
import { boto3Version, resolveTool } from '../../support/tools';
import { expectS3Error, s3Client, type S3Target } from '../s3-suite';

const run = promisify(execFile);
const boto3 = boto3Version();

export interface EncryptionTarget {
  readonly target: S3Target;
  /** A second CMK the store trusts: its ARN and an alias naming it. */
  readonly trustedKey: { readonly arn: string; readonly alias: string };
  /** A CMK that exists but the store does not trust; undefined where every key of the vault is trusted (embedded). */
  readonly untrustedKeyArn?: string;
}

/** A CMK made through the admin API (POST /_sealstore/keys): what `sealstore keys create --alias` does. */
export async function createKeyByAdmin(target: S3Target, alias: string): Promise<{ arn: string; alias: string }> {
  const res = await signedRequest(target.url, target.creds, {
    method: 'POST',
    path: '/_sealstore/keys',
    headers: { 'content-type': 'application/json' },
    body: Buffer.from(JSON.stringify({ alias })),
  });
  if (res.status !== 200) throw new Error(`creating ${alias}: ${res.status} ${res.body.toString()}`);
  const view = JSON.parse(res.body.toString()) as { key: { keyId: string } };
  return { arn: view.key.keyId, alias: `alias/${alias}` };
}

const customerKey = randomBytes(32);
const sseC = {
  SSECustomerAlgorithm: 'AES256',
  SSECustomerKey: customerKey.toString('base64'),
  SSECustomerKeyMD5: createHash('md5').update(customerKey).digest('base64'),
};
const sseCHeaders = {
  'x-amz-server-side-encryption-customer-algorithm': 'AES256',
  'x-amz-server-side-encryption-customer-key': sseC.SSECustomerKey,
  'x-amz-server-side-encryption-customer-key-md5': sseC.SSECustomerKeyMD5,
};

/**
 * `untrusted` says whether the backend has a key the store does not trust: the AWS backend does (SEALSTORE_TRUSTED_KEY_IDS
 * lists some CMKs of the account); the embedded vault trusts every key it holds, so those cases are skipped there, saying so.
 */
export function describeEncryptionAclSuite(name: string, start: () => Promise<EncryptionTarget>, skipReason?: string, untrusted = true): void {
  const describeOrSkip = skipReason === undefined ? describe : describe.skip;
  const withUntrusted = untrusted ? it : it.skip;
  const untrustedNote = untrusted ? '' : ' — SKIPPED: this backend trusts every key it holds (no untrusted key to name)';
  describeOrSkip(`encryption and ACL headers (${name})${skipReason === undefined ? '' : ` — SKIPPED: ${skipReason}`}`, () => {
    let t: EncryptionTarget;
    let s3: S3Client;
    const bucket = 'enc-acl';
    let activeKey: string;

    beforeAll(async () => {
      t = await start();
      s3 = s3Client(t.target);
      await s3.send(new CreateBucketCommand({ Bucket: bucket }));
      const put = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'plain', Body: 'plain body' }));
      activeKey = put.SSEKMSKeyId ?? '';
      expect(activeKey).toMatch(/^arn:aws:kms:/);
    }, 120_000);
    afterAll(async () => {
      s3?.destroy();
      await t?.target.close();
    });

    describe('SSE-C is refused, never ignored', () => {
      it('refuses PutObject and CreateMultipartUpload with SSE-C as S3 does for blocked buckets (403 AccessDenied), storing nothing', async () => {
        await expectS3Error(s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'ssec', Body: 'secret', ...sseC })), 'AccessDenied', 403);
        await expectS3Error(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'ssec' })), 'NotFound', 404);
        await expectS3Error(s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'ssec-mp', ...sseC })), 'AccessDenied', 403);
      });

      it('refuses UploadPart with SSE-C headers before its body is used', async () => {
        const up = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'mp-ssec-part' }));
        const res = await signedRequest(t.target.url, t.target.creds, {
          method: 'PUT',
          path: s3Path(bucket, 'mp-ssec-part'),
          query: { partNumber: '1', uploadId: up.UploadId ?? '' },
          headers: sseCHeaders,
          body: Buffer.from('part body'),
        });
        expect(res.status).toBe(403);
        expect(errorCode(res)).toBe('AccessDenied');
        const list = await signedRequest(t.target.url, t.target.creds, { method: 'GET', path: s3Path(bucket, 'mp-ssec-part'), query: { uploadId: up.UploadId ?? '' } });
        expect(list.body.toString()).not.toContain('<Part>');
      });

      it('answers GET and HEAD that present a customer key with 400 InvalidRequest (the object is not SSE-C), and no data', async () => {
        const get = await signedRequest(t.target.url, t.target.creds, { method: 'GET', path: s3Path(bucket, 'plain'), headers: sseCHeaders });
        expect(get.status).toBe(400);
        expect(errorCode(get)).toBe('InvalidRequest');
        expect(get.body.toString()).not.toContain('plain body');
        // A HEAD answer has no body, so the SDK cannot name the code: the status is what it sees.
        const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'plain', ...sseC })).then(() => 200, (e: { $metadata?: { httpStatusCode?: number } }) => e.$metadata?.httpStatusCode);
        expect(head).toBe(400);
      });

      it('answers GET and HEAD that send SSE-KMS request headers with 400 InvalidArgument (encryption is fixed at write), and no data', async () => {
        const variants: Record<string, string>[] = [{ 'x-amz-server-side-encryption': 'aws:kms' }, { 'x-amz-server-side-encryption-aws-kms-key-id': activeKey }];
        for (const headers of variants) {
          const get = await signedRequest(t.target.url, t.target.creds, { method: 'GET', path: s3Path(bucket, 'plain'), headers });
          expect({ status: get.status, code: errorCode(get), leaked: get.body.toString().includes('plain body') }).toEqual({ status: 400, code: 'InvalidArgument', leaked: false });
          const head = await signedRequest(t.target.url, t.target.creds, { method: 'HEAD', path: s3Path(bucket, 'plain'), headers });
          expect(head.status).toBe(400);
        }
        // Without them the same reads work (the refusal is the header's, not the object's).
        expect((await signedRequest(t.target.url, t.target.creds, { method: 'GET', path: s3Path(bucket, 'plain') })).body.toString()).toBe('plain body');
      });

      it('refuses CopyObject with copy-source SSE-C headers (400 InvalidRequest) and with target SSE-C (403)', async () => {
        await expectS3Error(
          s3.send(
            new CopyObjectCommand({
              Bucket: bucket,
              Key: 'copy-ssec',
              CopySource: `${bucket}/plain`,
              CopySourceSSECustomerAlgorithm: 'AES256',
              CopySourceSSECustomerKey: sseC.SSECustomerKey,
              CopySourceSSECustomerKeyMD5: sseC.SSECustomerKeyMD5,
            }),
          ),
          'InvalidRequest',
          400,
        );
        await expectS3Error(s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'copy-ssec', CopySource: `${bucket}/plain`, ...sseC })), 'AccessDenied', 403);
        await expectS3Error(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'copy-ssec' })), 'NotFound', 404);
      });

      (boto3 ? it : it.skip)(`boto3 put_object with SSECustomerKey gets AccessDenied (boto3 ${boto3 ?? 'not installed'})`, async () => {
        const script = [
          'import boto3, botocore, os',
          `s3 = boto3.client("s3", endpoint_url="${t.target.url}", region_name="us-east-1", aws_access_key_id="${t.target.creds.accessKeyId}", aws_secret_access_key="${t.target.creds.secretAccessKey}", config=boto3.session.Config(s3={"addressing_style": "path"}))`,
          'try:',
          `    s3.put_object(Bucket="${bucket}", Key="boto-ssec", Body=b"x", SSECustomerAlgorithm="AES256", SSECustomerKey=os.urandom(32))`,
          '    print("stored")',
          'except botocore.exceptions.ClientError as e:',
          '    print(e.response["Error"]["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"])',
        ].join('\n');
        const { stdout } = await run(resolveTool('python3'), ['-c', script], { env: { ...process.env, AWS_EC2_METADATA_DISABLED: 'true' } });
        expect(stdout.trim()).toBe('AccessDenied 403');
      }, 60_000);
    });

    describe('SSE-KMS: the requested CMK is honoured or refused', () => {
      it('seals an object under the CMK named by ARN, alias or key id, and reports its ARN on PUT, HEAD and GET', async () => {
        const keyUuid = t.trustedKey.arn.split('/').pop() ?? '';
        for (const [i, ref] of [t.trustedKey.arn, t.trustedKey.alias, keyUuid].entries()) {
          const put = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: `kms-${i}`, Body: `kms ${i}`, ServerSideEncryption: 'aws:kms', SSEKMSKeyId: ref }));
          expect(put.ServerSideEncryption).toBe('aws:kms');
          expect(put.SSEKMSKeyId).toBe(t.trustedKey.arn);
          const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: `kms-${i}` }));
          expect(head.SSEKMSKeyId).toBe(t.trustedKey.arn);
          const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: `kms-${i}` }));
          expect(got.SSEKMSKeyId).toBe(t.trustedKey.arn);
          expect(await got.Body?.transformToString()).toBe(`kms ${i}`);
        }
        expect(t.trustedKey.arn).not.toBe(activeKey);
      });

      it('refuses a CMK that does not exist with 400 KMS.NotFoundException, and stores nothing', async () => {
        const missing = 'arn:aws:kms:us-east-1:123456789012:key/00000000-0000-4000-8000-000000000000';
        await expectS3Error(s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'kms-missing', Body: 'x', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: missing })), 'KMS.NotFoundException', 400);
        await expectS3Error(s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'kms-missing', Body: 'x', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: 'alias/no-such-alias' })), 'KMS.NotFoundException', 400);
        await expectS3Error(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'kms-missing' })), 'NotFound', 404);
      });

      withUntrusted(`refuses a CMK the store does not trust with 403 AccessDenied saying how to trust it${untrustedNote}`, async () => {
        if (t.untrustedKeyArn === undefined) throw new Error('the target made no untrusted key');
        const res = await signedRequest(t.target.url, t.target.creds, {
          method: 'PUT',
          path: s3Path(bucket, 'kms-untrusted'),
          headers: { 'x-amz-server-side-encryption': 'aws:kms', 'x-amz-server-side-encryption-aws-kms-key-id': t.untrustedKeyArn },
          body: Buffer.from('x'),
        });
        expect(res.status).toBe(403);
        expect(errorCode(res)).toBe('AccessDenied');
        expect(res.body.toString()).toContain('SEALSTORE_TRUSTED_KEY_IDS');
        await expectS3Error(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'kms-untrusted' })), 'NotFound', 404);
      });

      it('refuses a key id without aws:kms, dual-layer aws:kms:dsse, a caller encryption context and unknown algorithms', async () => {
        const put = (headers: Record<string, string>) => signedRequest(t.target.url, t.target.creds, { method: 'PUT', path: s3Path(bucket, 'kms-bad'), headers, body: Buffer.from('x') });
        const noAlgorithm = await put({ 'x-amz-server-side-encryption-aws-kms-key-id': t.trustedKey.arn });
        expect([noAlgorithm.status, errorCode(noAlgorithm)]).toEqual([400, 'InvalidArgument']);
        const aesWithKey = await put({ 'x-amz-server-side-encryption': 'AES256', 'x-amz-server-side-encryption-aws-kms-key-id': t.trustedKey.arn });
        expect([aesWithKey.status, errorCode(aesWithKey)]).toEqual([400, 'InvalidArgument']);
        const dsse = await put({ 'x-amz-server-side-encryption': 'aws:kms:dsse' });
        expect([dsse.status, errorCode(dsse)]).toEqual([501, 'NotImplemented']);
        const context = await put({ 'x-amz-server-side-encryption': 'aws:kms', 'x-amz-server-side-encryption-context': Buffer.from('{"a":"b"}').toString('base64') });
        expect([context.status, errorCode(context)]).toEqual([501, 'NotImplemented']);
        const unknown = await put({ 'x-amz-server-side-encryption': 'rot13' });
        expect([unknown.status, errorCode(unknown)]).toEqual([400, 'InvalidArgument']);
        await expectS3Error(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'kms-bad' })), 'NotFound', 404);
      });

      it('answers an AES256 (SSE-S3) request with what it applied: aws:kms and the CMK, never AES256', async () => {
        const put = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'aes', Body: 'aes', ServerSideEncryption: 'AES256' }));
        expect(put.ServerSideEncryption).toBe('aws:kms');
        expect(put.SSEKMSKeyId).toBe(activeKey);
        expect((await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'aes' }))).ServerSideEncryption).toBe('aws:kms');
      });

      it('copies under the CMK the copy names (not the source one), reporting it', async () => {
        const copy = await s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'copy-kms', CopySource: `${bucket}/plain`, ServerSideEncryption: 'aws:kms', SSEKMSKeyId: t.trustedKey.alias }));
        expect(copy.SSEKMSKeyId).toBe(t.trustedKey.arn);
        const back = await s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'copy-plain', CopySource: `${bucket}/copy-kms` }));
        expect(back.SSEKMSKeyId).toBe(activeKey);
        // Changing only the CMK of an object in place is a valid copy onto itself, as S3 counts encryption attributes.
        const inPlace = await s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'copy-plain', CopySource: `${bucket}/copy-plain`, ServerSideEncryption: 'aws:kms', SSEKMSKeyId: t.trustedKey.arn }));
        expect(inPlace.SSEKMSKeyId).toBe(t.trustedKey.arn);
        expect(await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'copy-plain' }))).Body?.transformToString()).toBe('plain body');
      });

      it('keeps the requested CMK through a multipart upload and reports it on create, every part and completion', async () => {
        const up = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'mp-kms', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: t.trustedKey.alias }));
        expect(up.SSEKMSKeyId).toBe(t.trustedKey.arn);
        const part = await s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'mp-kms', UploadId: up.UploadId, PartNumber: 1, Body: 'one part' }));
        expect(part.ServerSideEncryption).toBe('aws:kms');
        expect(part.SSEKMSKeyId).toBe(t.trustedKey.arn);
        const done = await s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: 'mp-kms', UploadId: up.UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] } }));
        expect(done.SSEKMSKeyId).toBe(t.trustedKey.arn);
        expect((await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'mp-kms' }))).SSEKMSKeyId).toBe(t.trustedKey.arn);
      });
    });

    describe('bucket default encryption', () => {
      const b = 'enc-default';
      beforeAll(async () => {
        await s3.send(new CreateBucketCommand({ Bucket: b }));
      });

      it('answers GetBucketEncryption without a default honestly: aws:kms with the active CMK, SSE-C blocked', async () => {
        const got = await s3.send(new GetBucketEncryptionCommand({ Bucket: b }));
        const rule = got.ServerSideEncryptionConfiguration?.Rules?.[0];
        expect(rule?.ApplyServerSideEncryptionByDefault).toEqual({ SSEAlgorithm: 'aws:kms', KMSMasterKeyID: activeKey });
        expect(rule?.BucketKeyEnabled).toBe(false);
        const raw = await signedRequest(t.target.url, t.target.creds, { method: 'GET', path: `/${b}`, query: { encryption: '' } });
        expect(raw.body.toString()).toContain('<BlockedEncryptionTypes><EncryptionType>SSE-C</EncryptionType></BlockedEncryptionTypes>');
      });

      it('seals new objects under the bucket CMK (named by alias, recorded as its ARN); a request key still wins; delete restores the active CMK', async () => {
        await s3.send(new PutBucketEncryptionCommand({
          Bucket: b,
          ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: t.trustedKey.alias }, BucketKeyEnabled: false }] },
        }));
        const got = await s3.send(new GetBucketEncryptionCommand({ Bucket: b }));
        expect(got.ServerSideEncryptionConfiguration?.Rules?.[0]?.ApplyServerSideEncryptionByDefault?.KMSMasterKeyID).toBe(t.trustedKey.arn);
        const put = await s3.send(new PutObjectCommand({ Bucket: b, Key: 'by-default', Body: 'default key' }));
        expect(put.SSEKMSKeyId).toBe(t.trustedKey.arn);
        const up = await s3.send(new CreateMultipartUploadCommand({ Bucket: b, Key: 'mp-default' }));
        expect(up.SSEKMSKeyId).toBe(t.trustedKey.arn);
        const explicit = await s3.send(new PutObjectCommand({ Bucket: b, Key: 'explicit', Body: 'x', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: activeKey }));
        expect(explicit.SSEKMSKeyId).toBe(activeKey);
        await s3.send(new DeleteBucketEncryptionCommand({ Bucket: b }));
        expect((await s3.send(new GetBucketEncryptionCommand({ Bucket: b }))).ServerSideEncryptionConfiguration?.Rules?.[0]?.ApplyServerSideEncryptionByDefault?.KMSMasterKeyID).toBe(activeKey);
        expect((await s3.send(new PutObjectCommand({ Bucket: b, Key: 'after-delete', Body: 'x' }))).SSEKMSKeyId).toBe(activeKey);
        // Objects already stored keep their CMK, as in S3.
        expect((await s3.send(new HeadObjectCommand({ Bucket: b, Key: 'by-default' }))).SSEKMSKeyId).toBe(t.trustedKey.arn);
      });

      it('refuses a default CMK that does not exist, and dual-layer; AES256 means the active CMK', async () => {
        await expectS3Error(
          s3.send(new PutBucketEncryptionCommand({ Bucket: b, ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: 'alias/none-such' } }] } })),
          'KMS.NotFoundException',
          400,
        );
        await expectS3Error(
          s3.send(new PutBucketEncryptionCommand({ Bucket: b, ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms:dsse' } }] } })),
          'NotImplemented',
          501,
        );
        await s3.send(new PutBucketEncryptionCommand({ Bucket: b, ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] } }));
        const rule = (await s3.send(new GetBucketEncryptionCommand({ Bucket: b }))).ServerSideEncryptionConfiguration?.Rules?.[0];
        expect(rule?.ApplyServerSideEncryptionByDefault).toEqual({ SSEAlgorithm: 'aws:kms', KMSMasterKeyID: activeKey });
      });

      withUntrusted(`refuses a default CMK the store does not trust (403 AccessDenied)${untrustedNote}`, async () => {
        if (t.untrustedKeyArn === undefined) throw new Error('the target made no untrusted key');
        await expectS3Error(
          s3.send(new PutBucketEncryptionCommand({ Bucket: b, ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: t.untrustedKeyArn } }] } })),
          'AccessDenied',
          403,
        );
      });
    });

    describe('ACLs, as in a bucket with ACLs disabled (BucketOwnerEnforced)', () => {
      it('accepts private and bucket-owner-full-control on writes, refuses other canned ACLs and grants with 400 AccessControlListNotSupported', async () => {
        await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'acl-private', Body: 'x', ACL: 'private' }));
        await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'acl-bofc', Body: 'x', ACL: 'bucket-owner-full-control' }));
        await expectS3Error(s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'acl-public', Body: 'x', ACL: 'public-read' })), 'AccessControlListNotSupported', 400);
        await expectS3Error(s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'acl-public', Body: 'x', GrantRead: 'uri="http://acs.amazonaws.com/groups/global/AllUsers"' })), 'AccessControlListNotSupported', 400);
        await expectS3Error(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'acl-public' })), 'NotFound', 404);
        await expectS3Error(s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'acl-copy', CopySource: `${bucket}/plain`, ACL: 'public-read' })), 'AccessControlListNotSupported', 400);
        await expectS3Error(s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'acl-mp', ACL: 'authenticated-read' })), 'AccessControlListNotSupported', 400);
      });

      it('creates a bucket with ACL private, refuses public-read without creating it', async () => {
        await s3.send(new CreateBucketCommand({ Bucket: 'acl-bucket-private', ACL: 'private' }));
        await expectS3Error(s3.send(new CreateBucketCommand({ Bucket: 'acl-bucket-public', ACL: 'public-read' })), 'AccessControlListNotSupported', 400);
        await expectS3Error(s3.send(new HeadBucketCommand({ Bucket: 'acl-bucket-public' })), 'NotFound', 404);
      });

      it('GetObjectAcl and GetBucketAcl return the owner (as ListBuckets names it) with FULL_CONTROL and nothing else', async () => {
        const owner = (await s3.send(new ListBucketsCommand({}))).Owner!.ID!;
        for (const acl of [await s3.send(new GetObjectAclCommand({ Bucket: bucket, Key: 'plain' })), await s3.send(new GetBucketAclCommand({ Bucket: bucket }))]) {
          expect(acl.Owner?.ID).toBe(owner);
          expect(acl.Grants).toEqual([{ Grantee: { ID: owner, Type: 'CanonicalUser' }, Permission: 'FULL_CONTROL' }]);
        }
        await expectS3Error(s3.send(new GetObjectAclCommand({ Bucket: bucket, Key: 'no-such-key' })), 'NoSuchKey', 404);
      });

      it('PutObjectAcl / PutBucketAcl: the owner-only policy passes, anything granting more is refused', async () => {
        const owner = (await s3.send(new ListBucketsCommand({}))).Owner!.ID!;
        await s3.send(new PutObjectAclCommand({ Bucket: bucket, Key: 'plain', ACL: 'private' }));
        await s3.send(new PutBucketAclCommand({ Bucket: bucket, ACL: 'private' }));
        await s3.send(new PutObjectAclCommand({
          Bucket: bucket,
          Key: 'plain',
          AccessControlPolicy: { Owner: { ID: owner }, Grants: [{ Grantee: { ID: owner, Type: 'CanonicalUser' }, Permission: 'FULL_CONTROL' }] },
        }));
        await expectS3Error(s3.send(new PutObjectAclCommand({ Bucket: bucket, Key: 'plain', ACL: 'public-read' })), 'AccessControlListNotSupported', 400);
        await expectS3Error(s3.send(new PutBucketAclCommand({ Bucket: bucket, ACL: 'public-read-write' })), 'AccessControlListNotSupported', 400);
        await expectS3Error(
          s3.send(new PutObjectAclCommand({
            Bucket: bucket,
            Key: 'plain',
            AccessControlPolicy: { Owner: { ID: owner }, Grants: [{ Grantee: { URI: 'http://acs.amazonaws.com/groups/global/AllUsers', Type: 'Group' }, Permission: 'READ' }] },
          })),
          'AccessControlListNotSupported',
          400,
        );
      });

      it('GetBucketOwnershipControls says BucketOwnerEnforced', async () => {
        const got = await s3.send(new GetBucketOwnershipControlsCommand({ Bucket: bucket }));
        expect(got.OwnershipControls?.Rules).toEqual([{ ObjectOwnership: 'BucketOwnerEnforced' }]);
      });
    });
  });
}
