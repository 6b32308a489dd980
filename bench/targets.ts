// The systems under test behind one interface: the raw file system (the floor) and any S3 endpoint
// (s3rver, sealstore), driven by the same client code.
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  PutObjectCommand,
  S3ServiceException,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';

export const KiB = 1024;
export const MiB = 1024 * KiB;
export const GiB = 1024 * MiB;
/** Part size for large objects: the AWS CLI's default multipart chunk size. */
export const PART_SIZE = 8 * MiB;

export interface BenchTarget {
  readonly name: string;
  put(key: string, body: Buffer): Promise<void>;
  /** Reads the whole object, discarding bytes as they arrive; returns the byte count. */
  get(key: string): Promise<number>;
  /** A large object in PART_SIZE parts, `concurrency` in flight (S3: lib-storage Upload = multipart). */
  putLarge(key: string, body: Buffer, concurrency: number): Promise<void>;
  /** Reads a large object as PART_SIZE ranges, `concurrency` in flight; returns the byte count. */
  getLarge(key: string, size: number, concurrency: number): Promise<number>;
}

/** Runs `count` tasks with at most `concurrency` in flight. */
export async function pool(count: number, concurrency: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < count) await task(next++);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
}

async function drain(body: Readable): Promise<number> {
  let n = 0;
  for await (const chunk of body) n += (chunk as Buffer).length;
  return n;
}

/**
 * The floor: the same bytes written and read on the same disk with no HTTP, no index and no crypto. Writes
 * give sealstore's durability (temp file, fsync, rename), so the floor is what a durable store cannot beat.
 */
export async function floorTarget(dir: string): Promise<BenchTarget> {
  await mkdir(dir, { recursive: true });
  const file = (key: string) => join(dir, key.replace(/\//g, '_'));
  const durableWrite = async (key: string, write: (fd: Awaited<ReturnType<typeof open>>) => Promise<void>) => {
    const tmp = `${file(key)}.${randomBytes(6).toString('hex')}.tmp`;
    const fd = await open(tmp, 'w', 0o600);
    try {
      await write(fd);
      await fd.sync();
    } finally {
      await fd.close();
    }
    await rename(tmp, file(key));
  };
  return {
    name: 'floor',
    put: (key, body) => durableWrite(key, async (fd) => void (await fd.write(body, 0, body.length, 0))),
    get: async (key) => (await readFile(file(key))).length,
    putLarge: (key, body, concurrency) =>
      durableWrite(key, (fd) =>
        pool(Math.ceil(body.length / PART_SIZE), concurrency, async (i) => {
          const start = i * PART_SIZE;
          const part = body.subarray(start, Math.min(start + PART_SIZE, body.length));
          await fd.write(part, 0, part.length, start);
        }),
      ),
    getLarge: async (key, size, concurrency) => {
      const fd = await open(file(key), 'r');
      let total = 0;
      try {
        await pool(Math.ceil(size / PART_SIZE), concurrency, async (i) => {
          const buf = Buffer.allocUnsafe(Math.min(PART_SIZE, size - i * PART_SIZE));
          const { bytesRead } = await fd.read(buf, 0, buf.length, i * PART_SIZE);
          total += bytesRead; // after the await: `total += await …` would read a stale total
        });
      } finally {
        await fd.close();
      }
      return total;
    },
  };
}

export async function s3Target(name: string, s3: S3Client, bucket: string): Promise<BenchTarget> {
  try {
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  } catch (e) {
    if (!(e instanceof S3ServiceException) || !/BucketAlready/.test(e.name)) throw e;
  }
  return {
    name,
    put: async (key, body) => void (await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentLength: body.length }))),
    get: async (key) => drain((await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body as Readable),
    putLarge: (key, body, concurrency) => multipartUpload(s3, bucket, key, body, concurrency),
    getLarge: async (key, size, concurrency) => {
      let total = 0;
      await pool(Math.ceil(size / PART_SIZE), concurrency, async (i) => {
        const start = i * PART_SIZE;
        const end = Math.min(start + PART_SIZE, size) - 1;
        const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, Range: `bytes=${start}-${end}` }));
        const n = await drain(got.Body as Readable);
        total += n;
      });
      return total;
    },
  };
}

/**
 * Multipart upload in PART_SIZE parts, `concurrency` in flight, driven by hand (as s3transfer does) so that both
 * systems see exactly the same requests.
 */
export async function multipartUpload(s3: S3Client, bucket: string, key: string, body: Buffer, concurrency: number): Promise<void> {
  const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
  const count = Math.ceil(body.length / PART_SIZE);
  const etags: string[] = new Array<string>(count);
  try {
    await pool(count, concurrency, async (i) => {
      const part = body.subarray(i * PART_SIZE, Math.min((i + 1) * PART_SIZE, body.length));
      const out = await s3.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId, PartNumber: i + 1, Body: part, ContentLength: part.length }));
      etags[i] = out.ETag ?? '';
    });
    await s3.send(
      new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId, MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) } }),
    );
  } catch (e) {
    await s3.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId })).catch(() => undefined);
    throw e;
  }
}
