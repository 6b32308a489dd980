// S3BlobStore over the wire against moto_server: the BlobStore contract, then what is specific to S3.
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { Readable } from 'node:stream';
import { S3BlobStore } from '../../lambdas/adapters/aws/s3-blob-store';
import { BlobNotFoundError, InvalidArgumentError, InvalidRangeError } from '../../lambdas/core/errors';
import { describeBlobStoreContract } from '../contract/blob-store.contract';
import { readAll, uniqueId } from '../contract/streams';
import { describeWithMoto } from '../support/moto';
import { motoClients } from './moto-clients';

async function storeOnMoto(endpoint: string): Promise<S3BlobStore> {
  const { s3 } = motoClients(endpoint);
  const bucket = uniqueId('blobs');
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  return new S3BlobStore({ client: s3, bucket });
}

describeWithMoto('S3BlobStore (moto_server)', (moto) => {
  describeBlobStoreContract('BlobStore contract', async () => ({
    store: await storeOnMoto(moto().endpoint),
    cleanup: async () => undefined,
  }));

  describe('S3 specifics', () => {
    let store: S3BlobStore;
    beforeAll(async () => {
      store = await storeOnMoto(moto().endpoint);
    });

    it('rewrites metadata of a blob whose id needs URL-encoding in CopySource', async () => {
      const id = `${uniqueId('dir')}/a b+c%d/ü?x=1`;
      await store.put(id, Readable.from([Buffer.from('body')]), { 'x-v': '1' });
      await store.replaceMetadata(id, { 'x-v': '2' });
      expect((await store.head(id)).metadata).toEqual({ 'x-v': '2' });
      expect((await readAll(await store.get(id))).toString()).toBe('body');
    });

    it('refuses mixed-case metadata names, which S3 would silently lowercase', async () => {
      const id = uniqueId('case');
      await expect(store.put(id, Readable.from([Buffer.from('x')]), { 'X-Key': 'v' })).rejects.toBeInstanceOf(
        InvalidArgumentError,
      );
      await expect(store.head(id)).rejects.toBeInstanceOf(BlobNotFoundError);
    });

    it('refuses non-ASCII metadata values, which cannot travel in x-amz-meta-* headers', async () => {
      await expect(store.put(uniqueId('ascii'), Readable.from([Buffer.from('x')]), { 'x-k': 'é' })).rejects.toBeInstanceOf(
        InvalidArgumentError,
      );
    });

    it('reports a range starting past the end as InvalidRangeError', async () => {
      const id = uniqueId('short');
      await store.put(id, Readable.from([Buffer.from('0123456789')]), {});
      await expect(store.get(id, { start: 50, end: 60 })).rejects.toBeInstanceOf(InvalidRangeError);
    });
  });
});
