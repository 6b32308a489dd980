// Buckets.setDefaultKey against a bucket deleted and created again (by another owner) between its read and its
// write: the new bucket keeps its own row. The race is injected in the index port (test/support/port-wrappers.ts)
// over the real embedded index, since no request timing makes it happen on demand.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteRecordIndex } from '../../lambdas/adapters/embedded/sqlite-index';
import { Buckets } from '../../lambdas/core/buckets';
import { NoSuchBucketError, OperationAbortedError } from '../../lambdas/core/errors';
import type { IndexItem } from '../../lambdas/core/ports';
import { BUCKET_SK } from '../../lambdas/core/records';
import { interceptIndex } from '../support/port-wrappers';

describe('Buckets.setDefaultKey (embedded index)', () => {
  let dir: string;
  let raw: SqliteRecordIndex;
  let clock = 1_000;
  const now = () => new Date(clock++);
  /** Runs once, just before the next put of a bucket row: the other request that gets in between. */
  let between: (() => Promise<void>) | undefined;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sealstore-buckets-'));
    raw = new SqliteRecordIndex(join(dir, 'index.sqlite'));
  });
  afterEach(async () => {
    await raw.close();
    await rm(dir, { recursive: true, force: true });
  });

  const racing = () =>
    new Buckets(
      interceptIndex(raw, async (call, proceed) => {
        const item = call.op === 'put' ? (call.args[0] as IndexItem) : undefined;
        if (item?.sk === BUCKET_SK && between) {
          const other = between;
          between = undefined;
          await other();
        }
        return proceed();
      }),
      now,
    );

  it('leaves a bucket re-created by another owner in between untouched, and answers OperationAborted', async () => {
    // Prepare: alice's bucket; bob deletes it and creates his own under the same name while alice sets its key.
    const plain = new Buckets(raw, now);
    await plain.create('shared', 'alice');
    between = async () => {
      await plain.delete('shared');
      await plain.create('shared', 'bob');
    };
    const bobs = async () => plain.head('shared');

    // Act
    const attempt = racing().setDefaultKey('shared', 'arn:aws:kms:us-east-1:000000000000:key/alice');

    // Assess: refused with a retryable conflict; bob's bucket is bob's, with no default key.
    await expect(attempt).rejects.toBeInstanceOf(OperationAbortedError);
    await expect(attempt).rejects.toMatchObject({ code: 'OperationAborted', statusCode: 409 });
    const after = await bobs();
    expect(after.owner).toBe('bob');
    expect(after.defaultKeyId).toBeUndefined();
  });

  it('answers NoSuchBucket when the bucket is deleted in between, creating nothing', async () => {
    const plain = new Buckets(raw, now);
    await plain.create('gone', 'alice');
    between = async () => plain.delete('gone');
    await expect(racing().setDefaultKey('gone', 'arn:aws:kms:us-east-1:000000000000:key/alice')).rejects.toBeInstanceOf(NoSuchBucketError);
    await expect(plain.head('gone')).rejects.toBeInstanceOf(NoSuchBucketError);
  });

  it('sets and clears the default of an undisturbed bucket, keeping its owner and creation date', async () => {
    const plain = new Buckets(raw, now);
    const made = await plain.create('calm', 'alice');
    await racing().setDefaultKey('calm', 'arn:aws:kms:us-east-1:000000000000:key/k');
    expect(await plain.head('calm')).toEqual({ ...made, defaultKeyId: 'arn:aws:kms:us-east-1:000000000000:key/k' });
    await racing().setDefaultKey('calm', undefined);
    expect(await plain.head('calm')).toEqual(made);
  });
});
