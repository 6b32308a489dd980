// The BlobStore port over one S3 bucket: ciphertext blobs with the wrapped data key as user metadata.
import {
  CopyObjectCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  NoSuchBucket,
  NoSuchKey,
  NotFound,
  PutObjectCommand,
  S3ServiceException,
  type S3Client,
} from '@aws-sdk/client-s3';
import { Readable } from 'node:stream';
import {
  BlobNotFoundError,
  EntityTooLargeError,
  InternalError,
  InvalidArgumentError,
  InvalidRangeError,
} from '../../core/errors';
import type { BlobInfo, BlobMetadata, BlobStore, ByteRange } from '../../core/ports';
import { mapSdkFault, withCause } from './sdk-faults';

/**
 * Blobs are sealed parts of at most ~5 MiB (one API Gateway body). The body is collected into one
 * Buffer before PutObject: that gives S3 an exact Content-Length, avoids aws-chunked streaming uploads
 * (which emulators and some proxies handle poorly), and makes a torn client stream fail before
 * anything is written. The cap keeps a misbehaving caller from exhausting Lambda memory.
 */
export const MAX_BLOB_BYTES = 64 * 1024 * 1024;

/** S3 lowercases user-metadata names, so mixed case would not round-trip: refuse it up front. */
const METADATA_NAME = /^[a-z0-9][a-z0-9._-]*$/;
/** User metadata travels in HTTP headers (x-amz-meta-*): printable ASCII only. */
const METADATA_VALUE = /^[\x20-\x7e]*$/;

/** S3's error code for a range that starts past the end; the SDK models no class for it. */
const UNMODELED_INVALID_RANGE = 'InvalidRange';

export interface S3BlobStoreOptions {
  readonly client: S3Client;
  readonly bucket: string;
}

function checkMetadata(metadata: BlobMetadata): Record<string, string> {
  for (const [name, value] of Object.entries(metadata)) {
    if (!METADATA_NAME.test(name)) throw new InvalidArgumentError(`blob metadata name "${name}" must be lower-case ASCII`);
    if (!METADATA_VALUE.test(value)) throw new InvalidArgumentError(`blob metadata "${name}" must be printable ASCII`);
  }
  return { ...metadata };
}

async function collect(body: Readable, blobId: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array | string);
    size += buffer.length;
    if (size > MAX_BLOB_BYTES) {
      body.destroy();
      throw new EntityTooLargeError(`blob ${blobId} exceeds ${MAX_BLOB_BYTES} bytes`);
    }
    chunks.push(buffer);
  }
  return Buffer.concat(chunks, size);
}

/** CopySource is "bucket/key", URL-encoded except for the slashes between key segments. */
const copySource = (bucket: string, key: string): string =>
  `${bucket}/${key.split('/').map(encodeURIComponent).join('/')}`;

export class S3BlobStore implements BlobStore {
  private readonly client: S3Client;
  private readonly bucket: string;

  constructor(options: S3BlobStoreOptions) {
    this.client = options.client;
    this.bucket = options.bucket;
  }

  async put(blobId: string, body: Readable, metadata: BlobMetadata): Promise<{ size: number }> {
    const userMetadata = checkMetadata(metadata);
    const bytes = await collect(body, blobId);
    try {
      // PutObject is atomic: readers see the previous blob or the whole new one, never a mix.
      await this.client.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: blobId,
          Body: bytes,
          ContentLength: bytes.length,
          ContentType: 'application/octet-stream',
          Metadata: userMetadata,
        }),
      );
    } catch (error) {
      throw this.mapError(error, 'PutObject', blobId);
    }
    return { size: bytes.length };
  }

  async get(blobId: string, range?: ByteRange): Promise<Readable> {
    try {
      const out = await this.client.send(
        new GetObjectCommand({
          Bucket: this.bucket,
          Key: blobId,
          ...(range !== undefined && { Range: `bytes=${range.start}-${range.end}` }),
        }),
      );
      const body = out.Body;
      if (body instanceof Readable) return body;
      if (body === undefined) return Readable.from([]);
      // Non-Node runtimes hand back a web stream or blob; transformToByteArray covers all of them.
      return Readable.from([Buffer.from(await body.transformToByteArray())]);
    } catch (error) {
      throw this.mapError(error, 'GetObject', blobId);
    }
  }

  async head(blobId: string): Promise<BlobInfo> {
    try {
      const out = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: blobId }));
      return {
        size: out.ContentLength ?? 0,
        metadata: out.Metadata ?? {},
        lastModified: out.LastModified ?? new Date(0),
      };
    } catch (error) {
      throw this.mapError(error, 'HeadObject', blobId);
    }
  }

  async replaceMetadata(blobId: string, metadata: BlobMetadata): Promise<void> {
    const userMetadata = checkMetadata(metadata);
    try {
      // A copy onto itself with REPLACE rewrites metadata server-side; the body never leaves S3.
      await this.client.send(
        new CopyObjectCommand({
          Bucket: this.bucket,
          Key: blobId,
          CopySource: copySource(this.bucket, blobId),
          MetadataDirective: 'REPLACE',
          ContentType: 'application/octet-stream',
          Metadata: userMetadata,
        }),
      );
    } catch (error) {
      throw this.mapError(error, 'CopyObject', blobId);
    }
  }

  async delete(blobId: string): Promise<void> {
    try {
      // S3 answers 204 for a missing key too, which is exactly the idempotence the port asks for.
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: blobId }));
    } catch (error) {
      throw this.mapError(error, 'DeleteObject', blobId);
    }
  }

  private mapError(error: unknown, operation: string, blobId: string): Error {
    if (error instanceof NoSuchKey || error instanceof NotFound) return new BlobNotFoundError(blobId);
    const what = `S3 ${operation} of blob ${blobId} in bucket ${this.bucket}`;
    if (error instanceof InvalidArgumentError || error instanceof EntityTooLargeError) return error;
    if (error instanceof NoSuchBucket) return withCause(new InternalError(`${what}: the blob bucket does not exist`), error);
    if (error instanceof S3ServiceException && error.name === UNMODELED_INVALID_RANGE) {
      return withCause(new InvalidRangeError(`${what}: range not satisfiable`), error);
    }
    return mapSdkFault(error, what);
  }
}
