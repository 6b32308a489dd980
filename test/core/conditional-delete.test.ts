// Conditional deletes are judged inside the removing transaction: an overwrite that lands between the read of the
// object and its removal must make the delete fail (412) and leave the new object, never remove it unseen. A race
// the black-box suite cannot time, so the overwrite is injected at the one moment that matters: just before the
// delete's transaction reaches the index. Also: rows written without the stored headers read as before.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { EmbeddedKeyVault } from '../../lambdas/adapters/embedded/embedded-key-vault';
import { PreconditionFailedError } from '../../lambdas/core/errors';
import { ObjectService } from '../../lambdas/core/object-service';
import type { WriteOp } from '../../lambdas/core/ports';
import { objectFromItem, objectItem, objectsPk } from '../../lambdas/core/records';
import { MemoryBlobStore, MemoryRecordIndex } from '../support/memory-ports';

/** Runs `beforeDelete` once, just before the first transaction that removes bucket/key is applied. */
class InterposingIndex extends MemoryRecordIndex {
  beforeDelete: (() => Promise<void>) | undefined;
  constructor(private readonly pk: string, private readonly key: string) {
    super();
  }
  override async transact(ops: readonly WriteOp[]): Promise<void> {
    const hook = this.beforeDelete;
    if (hook && ops.some((op) => op.op === 'delete' && op.pk === this.pk && op.sk === this.key)) {
      this.beforeDelete = undefined;
      await hook();
    }
    return super.transact(ops);
  }
}

describe('conditional delete (If-Match) against a concurrent overwrite', () => {
  let dir: string;
  let vault: EmbeddedKeyVault;
  let keyId: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sealstore-cond-delete-'));
    vault = await EmbeddedKeyVault.open(join(dir, 'keys'));
    keyId = (await vault.createKey({ alias: 'alias/cond-delete' })).arn;
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const setup = async () => {
    const index = new InterposingIndex(objectsPk('b'), 'k');
    const service = new ObjectService({ vault, blobs: new MemoryBlobStore(), index, keys: { activeKeyId: async () => keyId } });
    await service.createBucket('b');
    const put = (text: string) => service.putObject({ bucket: 'b', key: 'k', body: () => Readable.from([Buffer.from(text)]) });
    return { index, service, put };
  };

  it('refuses the delete with 412 and keeps the object that replaced the one whose ETag was named', async () => {
    const { index, service, put } = await setup();
    const first = await put('v1');
    let second: Awaited<ReturnType<typeof put>> | undefined;
    index.beforeDelete = async () => {
      second = await put('v2');
    };
    await expect(service.deleteObject('b', 'k', { ifMatch: `"${first.etag}"` })).rejects.toBeInstanceOf(PreconditionFailedError);
    expect(second).toBeDefined();
    const current = await service.headObject('b', 'k');
    expect(current.etag).toBe(second!.etag);
    await service.settle();
  });

  it('deletes when the overwrite kept nothing the condition names (If-Match: *) and the removed object is the new one', async () => {
    const { index, service, put } = await setup();
    await put('v1');
    index.beforeDelete = async () => {
      await put('v2');
    };
    await service.deleteObject('b', 'k', { ifMatch: '*' });
    await expect(service.headObject('b', 'k')).rejects.toMatchObject({ code: 'NoSuchKey' });
    await service.settle();
  });

  it('reads a row written before the stored headers existed (no headers attribute) with none, and writes such a row the same way', async () => {
    const { service, put } = await setup();
    const record = await put('v1');
    expect(record.headers).toEqual({});
    const item = objectItem(record);
    expect(Object.keys(item.attrs)).not.toContain('headers');
    expect(objectFromItem(item).headers).toEqual({});
    const withHeaders = objectItem({ ...record, headers: { 'cache-control': 'no-store', expires: 'soon' } });
    expect(objectFromItem(withHeaders).headers).toEqual({ 'cache-control': 'no-store', expires: 'soon' });
    expect((await service.headObject('b', 'k')).headers).toEqual({});
  });
});
