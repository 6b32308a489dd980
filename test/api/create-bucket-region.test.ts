// Re-creating a bucket you already own answers as S3 does in the store's region: 200 in us-east-1 (the bucket and
// its objects are left as they are), 409 BucketAlreadyOwnedByYou in any other region.
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openEmbeddedBackend } from '../../lambdas/adapters/embedded';
import { startServer } from '../../local/server';
import { testCreds } from '../support/embedded-target';

async function inRegion<T>(region: string, use: (s3: S3Client) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'sealstore-region-'));
  const creds = testCreds();
  const server = await startServer({ backend: await openEmbeddedBackend(dir), credentials: creds, region });
  const s3 = new S3Client({ endpoint: server.url, region, forcePathStyle: true, credentials: creds, maxAttempts: 1 });
  try {
    return await use(s3);
  } finally {
    s3.destroy();
    await server.close();
    await rm(dir, { recursive: true, force: true });
  }
}

describe('CreateBucket of a bucket you own', () => {
  it('us-east-1: 200, and the bucket keeps its objects', async () => {
    await inRegion('us-east-1', async (s3) => {
      await s3.send(new CreateBucketCommand({ Bucket: 'mine' }));
      await s3.send(new PutObjectCommand({ Bucket: 'mine', Key: 'k', Body: 'kept' }));
      const again = await s3.send(new CreateBucketCommand({ Bucket: 'mine' }));
      expect(again.$metadata.httpStatusCode).toBe(200);
      const got = await s3.send(new GetObjectCommand({ Bucket: 'mine', Key: 'k' }));
      expect(await got.Body?.transformToString()).toBe('kept');
    });
  });

  it('any other region (eu-west-1): 409 BucketAlreadyOwnedByYou', async () => {
    await inRegion('eu-west-1', async (s3) => {
      await s3.send(new CreateBucketCommand({ Bucket: 'mine', CreateBucketConfiguration: { LocationConstraint: 'eu-west-1' } }));
      const failure = await s3.send(new CreateBucketCommand({ Bucket: 'mine', CreateBucketConfiguration: { LocationConstraint: 'eu-west-1' } })).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(failure).toBeInstanceOf(S3ServiceException);
      const err = failure as S3ServiceException;
      expect({ code: err.name, status: err.$metadata.httpStatusCode }).toEqual({ code: 'BucketAlreadyOwnedByYou', status: 409 });
    });
  });
});
