// Wrappers around the ports that count what the service asks of them, and can fail chosen index writes:
// for proving "one Decrypt per part", "a range reads only its frames" and crash recovery.
import { Transform, type Readable } from 'node:stream';
import type { BlobInfo, BlobMetadata, BlobStore, BlobWriteOptions, ByteRange, Condition, DataKey, EncryptionContext, IndexItem, KeyDescription, KeyVault, ObjectIndex, QueryOptions, QueryPage, RewrappedKey, UnwrappedKey, WriteOp } from '../../lambdas/core/ports';

export class CountingBlobStore implements BlobStore {
  bytesRead = 0;
  gets = 0;
  constructor(private readonly inner: BlobStore) {}

  reset(): void {
    this.bytesRead = 0;
    this.gets = 0;
  }
  put(blobId: string, body: Readable, metadata: BlobMetadata, options?: BlobWriteOptions): Promise<{ size: number }> {
    return this.inner.put(blobId, body, metadata, options);
  }
  async get(blobId: string, range?: ByteRange): Promise<Readable> {
    this.gets++;
    const source = await this.inner.get(blobId, range);
    const meter = new Transform({
      transform: (chunk: Buffer, _enc, done) => {
        this.bytesRead += chunk.length;
        done(null, chunk);
      },
    });
    source.on('error', (e) => meter.destroy(e));
    return source.pipe(meter);
  }
  head(blobId: string): Promise<BlobInfo> {
    return this.inner.head(blobId);
  }
  replaceMetadata(blobId: string, metadata: BlobMetadata): Promise<void> {
    return this.inner.replaceMetadata(blobId, metadata);
  }
  delete(blobId: string): Promise<void> {
    return this.inner.delete(blobId);
  }
}

export class CountingKeyVault implements KeyVault {
  generated = 0;
  decrypted = 0;
  constructor(private readonly inner: KeyVault) {}

  reset(): void {
    this.generated = 0;
    this.decrypted = 0;
  }
  generateDataKey(keyId: string, context: EncryptionContext): Promise<DataKey> {
    this.generated++;
    return this.inner.generateDataKey(keyId, context);
  }
  decrypt(wrapped: Buffer, context: EncryptionContext): Promise<UnwrappedKey> {
    this.decrypted++;
    return this.inner.decrypt(wrapped, context);
  }
  reEncrypt(wrapped: Buffer, context: EncryptionContext, destinationKeyId: string): Promise<RewrappedKey> {
    return this.inner.reEncrypt(wrapped, context, destinationKeyId);
  }
  describeKey(keyId: string): Promise<KeyDescription> {
    return this.inner.describeKey(keyId);
  }
  encrypt(keyId: string, plaintext: Buffer, context: EncryptionContext): Promise<Buffer> {
    return this.inner.encrypt(keyId, plaintext, context);
  }
}

/** Fails the next transaction that `matches`, as a crash or an outage at that point would. */
export class FaultyIndex implements ObjectIndex {
  private faults: Array<{ matches: (ops: readonly WriteOp[]) => boolean; error: Error }> = [];
  constructor(readonly inner: ObjectIndex) {}

  failNextTransact(matches: (ops: readonly WriteOp[]) => boolean, error = new Error('injected index outage')): void {
    this.faults.push({ matches, error });
  }
  get(pk: string, sk: string): Promise<IndexItem | undefined> {
    return this.inner.get(pk, sk);
  }
  put(item: IndexItem, condition?: Condition): Promise<void> {
    return this.inner.put(item, condition);
  }
  delete(pk: string, sk: string, condition?: Condition): Promise<void> {
    return this.inner.delete(pk, sk, condition);
  }
  query(pk: string, options: QueryOptions): Promise<QueryPage> {
    return this.inner.query(pk, options);
  }
  queryGsi1(gsi1pk: string, options: QueryOptions): Promise<QueryPage> {
    return this.inner.queryGsi1(gsi1pk, options);
  }
  async transact(ops: readonly WriteOp[]): Promise<void> {
    const at = this.faults.findIndex((f) => f.matches(ops));
    if (at >= 0) {
      const [fault] = this.faults.splice(at, 1);
      throw fault!.error;
    }
    return this.inner.transact(ops);
  }
}
