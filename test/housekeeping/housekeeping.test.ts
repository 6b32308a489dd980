// Housekeeping: idle multipart uploads are aborted, and blobs no object references are deleted, on both
// backends; the Lambda handler runs from a real EventBridge scheduled-event payload.
import { CompleteMultipartUploadCommand, CreateBucketCommand, CreateMultipartUploadCommand, GetObjectCommand, ListMultipartUploadsCommand, PutObjectCommand, UploadPartCommand } from '@aws-sdk/client-s3';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { housekeepingConfigFromEnv, runHousekeeping } from '../../lambdas/core/housekeeping';
import { newBlobId } from '../../lambdas/core/ids';
import type { IndexItem, RecordIndex } from '../../lambdas/core/ports';
import { silentLogger } from '../../lambdas/core/logger';
import { ledgerItem, ledgerPartitions, objectFromItem, objectsPk } from '../../lambdas/core/records';
import { makeHousekeepingHandler } from '../../lambdas/handlers/housekeeping';
import { s3Client, type S3Target } from '../blackbox/s3-suite';
import { startEmbedded } from '../support/embedded-target';
import { awsBackendUnavailable, startAwsOnMoto } from '../support/aws-target';
import type { RunningServer } from '../../local/server';
import { scheduledEvent as makeScheduledEvent } from '../support/scheduled-event';

const scheduledEvent = makeScheduledEvent('sealstore-Housekeeping', '2026-11-26T12:00:00Z');

type Target = S3Target & { server: RunningServer };

function describeHousekeeping(backend: string, start: () => Promise<Target>, unavailable?: string): void {
  (unavailable ? describe.skip : describe)(`housekeeping (${backend})${unavailable ? ` — skipped: ${unavailable}` : ''}`, () => {
    let t: Target;
    beforeAll(async () => {
      t = await start();
    }, 60_000);
    afterAll(async () => {
      await t?.close();
    });

    it('aborts idle uploads, deletes orphaned and replaced blobs, and keeps every live object readable', async () => {
      const s3 = s3Client(t);
      await s3.send(new CreateBucketCommand({ Bucket: 'house-keeping' }));
      const live = randomBytes(70_000);
      await s3.send(new PutObjectCommand({ Bucket: 'house-keeping', Key: 'live', Body: randomBytes(1000) }));
      await s3.send(new PutObjectCommand({ Bucket: 'house-keeping', Key: 'live', Body: live }));
      const upload = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'house-keeping', Key: 'abandoned' }));
      await s3.send(new UploadPartCommand({ Bucket: 'house-keeping', Key: 'abandoned', UploadId: upload.UploadId, PartNumber: 1, Body: randomBytes(1024 * 1024) }));
      // A writer that died between blob write and commit: a pending ledger entry and its blob.
      const orphan = newBlobId();
      await t.server.service['deps'].index.put(ledgerItem({ blobId: orphan, kind: 'pending', createdAt: new Date(Date.now() - 3_600_000) }));
      await t.server.service['deps'].blobs.put(orphan, Readable.from([randomBytes(500)]), {});
      const before = (await t.rawBlobs()).length;

      const handler = makeHousekeepingHandler({
        service: async () => t.server.service,
        config: { pendingGraceMs: 20 * 60_000, uploadMaxAgeMs: 0 },
        logger: silentLogger,
      });
      const report = await handler(scheduledEvent);
      expect(report.uploadsAborted).toBe(1);
      // The abort deletes the abandoned part's blob itself; the sweep then removes the orphan. (The overwritten
      // version's blob went at overwrite time.)
      expect(report.blobsDeleted).toBe(1);
      expect((await t.rawBlobs()).length).toBe(before - 2);
      expect(await ledgerRows(t.server.service['deps'].index)).toEqual([]);
      const uploads = await s3.send(new ListMultipartUploadsCommand({ Bucket: 'house-keeping' }));
      expect(uploads.Uploads ?? []).toEqual([]);
      const got = await s3.send(new GetObjectCommand({ Bucket: 'house-keeping', Key: 'live' }));
      expect(Buffer.from(await got.Body!.transformToByteArray()).equals(live)).toBe(true);

      const again = await runHousekeeping(t.server.service, { pendingGraceMs: 0, uploadMaxAgeMs: 0 });
      expect(again).toMatchObject({ uploadsAborted: 0, blobsDeleted: 0 });
      s3.destroy();
    }, 60_000);

    it('deletes a part whose writer died before its commit, even after its upload completed without it', async () => {
      const s3 = s3Client(t);
      const index = t.server.service['deps'].index;
      await s3.send(new CreateBucketCommand({ Bucket: 'house-parts' }));
      const upload = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'house-parts', Key: 'done' }));
      const body = randomBytes(6 * 1024 * 1024);
      const part = await s3.send(new UploadPartCommand({ Bucket: 'house-parts', Key: 'done', UploadId: upload.UploadId, PartNumber: 1, Body: body }));
      await s3.send(
        new CompleteMultipartUploadCommand({ Bucket: 'house-parts', Key: 'done', UploadId: upload.UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] } }),
      );
      // Part 2's writer died after its blob and its pending entry, before its commit; the object (same object id,
      // the upload's) was completed without it.
      const objectId = (await index.get(objectsPk('house-parts'), 'done'))!.attrs['objectId'] as string;
      const orphan = newBlobId();
      const owner = { bucket: 'house-parts', key: 'done', objectId, uploadId: upload.UploadId!, partNumber: 2 };
      await index.put(ledgerItem({ blobId: orphan, kind: 'pending', createdAt: new Date(Date.now() - 3_600_000), owner }));
      await t.server.service['deps'].blobs.put(orphan, Readable.from([randomBytes(500)]), {});
      // And a replayed entry for the part the object does hold: that blob must stay.
      const record = objectFromItem((await index.get(objectsPk('house-parts'), 'done'))!);
      const used = record.parts[0]!.blobId;
      await index.put(ledgerItem({ blobId: used, kind: 'pending', createdAt: new Date(Date.now() - 3_600_000), owner: { ...owner, partNumber: 1 } }));

      const report = await runHousekeeping(t.server.service, { pendingGraceMs: 20 * 60_000, uploadMaxAgeMs: 7 * 86_400_000 });
      expect(report.blobsDeleted).toBe(1);
      await expect(t.server.service['deps'].blobs.head(orphan)).rejects.toThrow();
      await expect(t.server.service['deps'].blobs.head(used)).resolves.toMatchObject({ size: expect.any(Number) });
      expect(await ledgerRows(index)).toEqual([]);
      const got = await s3.send(new GetObjectCommand({ Bucket: 'house-parts', Key: 'done' }));
      expect(Buffer.from(await got.Body!.transformToByteArray()).equals(body)).toBe(true);
      s3.destroy();
    }, 60_000);

    it('keeps a pending blob younger than the grace: its writer may still be committing', async () => {
      const young = newBlobId();
      await t.server.service['deps'].index.put(ledgerItem({ blobId: young, kind: 'pending', createdAt: new Date() }));
      await t.server.service['deps'].blobs.put(young, Readable.from([Buffer.from('in flight')]), {});
      const report = await runHousekeeping(t.server.service, { pendingGraceMs: 20 * 60_000, uploadMaxAgeMs: 7 * 86_400_000 });
      expect(report.blobsDeleted).toBe(0);
      await expect(t.server.service['deps'].blobs.head(young)).resolves.toMatchObject({ size: expect.any(Number) });
    });
  });
}


/** Every ledger row, across its shards and the partition from before sharding. */
async function ledgerRows(index: RecordIndex): Promise<IndexItem[]> {
  return (await Promise.all(ledgerPartitions().map((pk) => index.query(pk, { limit: 100 })))).flatMap((p) => p.items);
}

describeHousekeeping('embedded', () => startEmbedded());
describeHousekeeping('aws-on-moto', () => startAwsOnMoto(), awsBackendUnavailable);

describe('housekeepingConfigFromEnv', () => {
  it('defaults to a 20-minute pending grace and a 7-day upload age', () => {
    expect(housekeepingConfigFromEnv({})).toEqual({ pendingGraceMs: 1_200_000, uploadMaxAgeMs: 604_800_000 });
  });
  it('names a bad variable', () => {
    expect(() => housekeepingConfigFromEnv({ SEALSTORE_UPLOAD_MAX_AGE_DAYS: 'soon' })).toThrow(/SEALSTORE_UPLOAD_MAX_AGE_DAYS/);
  });
  it('refuses a pending grace shorter than the longest Lambda request (15 minutes)', () => {
    expect(() => housekeepingConfigFromEnv({ SEALSTORE_PENDING_GRACE_SECONDS: '899' })).toThrow(/SEALSTORE_PENDING_GRACE_SECONDS must be a number ≥ 900, not '899'/);
    expect(housekeepingConfigFromEnv({ SEALSTORE_PENDING_GRACE_SECONDS: '900' }).pendingGraceMs).toBe(900_000);
  });
});
