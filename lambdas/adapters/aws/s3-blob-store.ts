// The BlobStore port over one S3 bucket: ciphertext blobs with the wrapped data key as user metadata.
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  NoSuchBucket,
  NoSuchKey,
  NotFound,
  PutObjectCommand,
  S3ServiceException,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { Readable } from 'node:stream';
import {
  BlobNotFoundError,
  EntityTooLargeError,
  InternalError,
  InvalidArgumentError,
  InvalidRangeError,
  StoreError,
} from '../../core/errors';
import type { BlobInfo, BlobMetadata, BlobPage, BlobStore, BlobWriteOptions, ByteRange } from '../../core/ports';
import { mapSdkFault, withCause } from './sdk-faults';

/**
 * A blob up to this size goes up as one PutObject from one Buffer: an exact Content-Length, no aws-chunked
 * upload (which emulators and some proxies handle poorly), and a torn client stream fails before anything is
 * written. Larger blobs (the embedded server takes 5 GiB bodies) go up as an S3 multipart upload of parts this
 * size, so memory stays bounded by about two parts whatever the blob's size.
 */
export const SINGLE_PUT_BYTES = 16 * 1024 * 1024;
/** A sealed part is at most 5 GiB plus its tags; 10,000 S3 parts of 16 MiB hold 156 GiB. */
export const MAX_BLOB_BYTES = 6 * 1024 * 1024 * 1024;

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

/** The body in pieces of exactly `size` bytes (the last one shorter), each a fresh Buffer. */
async function* fixedPieces(body: Readable, size: number, blobId: string): AsyncGenerator<Buffer> {
  let held: Buffer[] = [];
  let heldBytes = 0;
  let total = 0;
  for await (const chunk of body) {
    let buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array | string);
    total += buffer.length;
    if (total > MAX_BLOB_BYTES) {
      body.destroy();
      throw new EntityTooLargeError(`blob ${blobId} exceeds ${MAX_BLOB_BYTES} bytes`);
    }
    while (heldBytes + buffer.length >= size) {
      const take = size - heldBytes;
      held.push(buffer.subarray(0, take));
      yield Buffer.concat(held, size);
      held = [];
      heldBytes = 0;
      buffer = buffer.subarray(take);
    }
    if (buffer.length > 0) {
      held.push(buffer);
      heldBytes += buffer.length;
    }
  }
  if (heldBytes > 0 || total === 0) yield Buffer.concat(held, heldBytes);
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

  async put(blobId: string, body: Readable, metadata: BlobMetadata, options: BlobWriteOptions = {}): Promise<{ size: number }> {
    const userMetadata = checkMetadata(metadata);
    const pieces = fixedPieces(body, SINGLE_PUT_BYTES, blobId);
    const first = await pieces.next();
    const firstPiece = first.done ? Buffer.alloc(0) : first.value;
    const second = firstPiece.length < SINGLE_PUT_BYTES ? { done: true as const, value: undefined } : await pieces.next();
    if (second.done) {
      await options.beforePublish?.();
      try {
        // PutObject is atomic: readers see the previous blob or the whole new one, never a mix.
        await this.client.send(
          new PutObjectCommand({
            Bucket: this.bucket,
            Key: blobId,
            Body: firstPiece,
            ContentLength: firstPiece.length,
            ContentType: 'application/octet-stream',
            Metadata: userMetadata,
          }),
        );
      } catch (error) {
        throw this.mapError(error, 'PutObject', blobId);
      }
      return { size: firstPiece.length };
    }
    return this.putInParts(blobId, userMetadata, [firstPiece, second.value], pieces, options);
  }

  /** A multipart upload, invisible until CompleteMultipartUpload: the blob appears whole or not at all. */
  private async putInParts(
    blobId: string,
    metadata: Record<string, string>,
    head: readonly Buffer[],
    rest: AsyncGenerator<Buffer>,
    options: BlobWriteOptions,
  ): Promise<{ size: number }> {
    let uploadId: string | undefined;
    try {
      const created = await this.client.send(
        new CreateMultipartUploadCommand({ Bucket: this.bucket, Key: blobId, ContentType: 'application/octet-stream', Metadata: metadata }),
      );
      uploadId = created.UploadId;
      const parts: Array<{ PartNumber: number; ETag: string }> = [];
      let size = 0;
      const upload = async (piece: Buffer, partNumber: number) => {
        const out = await this.client.send(
          new UploadPartCommand({ Bucket: this.bucket, Key: blobId, UploadId: uploadId, PartNumber: partNumber, Body: piece, ContentLength: piece.length }),
        );
        parts.push({ PartNumber: partNumber, ETag: out.ETag ?? '' });
      };
      // One part in flight while the next one is read from the body.
      let inFlight: Promise<void> = Promise.resolve();
      let partNumber = 0;
      const queue = async (piece: Buffer) => {
        await inFlight;
        partNumber += 1;
        size += piece.length;
        inFlight = upload(piece, partNumber);
        inFlight.catch(() => undefined); // awaited by the next queue() or after the loop
      };
      for (const piece of head) await queue(piece);
      for await (const piece of rest) if (piece.length > 0) await queue(piece);
      await inFlight;
      await options.beforePublish?.();
      parts.sort((a, b) => a.PartNumber - b.PartNumber);
      await this.client.send(
        new CompleteMultipartUploadCommand({ Bucket: this.bucket, Key: blobId, UploadId: uploadId, MultipartUpload: { Parts: parts } }),
      );
      return { size };
    } catch (error) {
      if (uploadId !== undefined) {
        await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: blobId, UploadId: uploadId })).catch(() => undefined);
      }
      throw this.mapError(error, 'multipart upload', blobId);
    }
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

  /** ListObjectsV2 from StartAfter: key order, so the last key of a page is the cursor of the next. */
  async list(after: string | undefined, limit: number): Promise<BlobPage> {
    try {
      const out = await this.client.send(
        new ListObjectsV2Command({ Bucket: this.bucket, MaxKeys: Math.min(limit, 1000), ...(after === undefined ? {} : { StartAfter: after }) }),
      );
      const blobIds = (out.Contents ?? []).flatMap((o) => (o.Key === undefined ? [] : [o.Key]));
      const last = blobIds.at(-1);
      return out.IsTruncated === true && last !== undefined ? { blobIds, next: last } : { blobIds };
    } catch (error) {
      throw this.mapError(error, 'ListObjectsV2', after ?? '(start)');
    }
  }

  private mapError(error: unknown, operation: string, blobId: string): Error {
    if (error instanceof NoSuchKey || error instanceof NotFound) return new BlobNotFoundError(blobId);
    // The body's own failure (it did not verify, the client went away) or the caller's beforePublish: as they are.
    if (error instanceof StoreError) return error;
    const what = `S3 ${operation} of blob ${blobId} in bucket ${this.bucket}`;
    if (error instanceof NoSuchBucket) return withCause(new InternalError(`${what}: the blob bucket does not exist`), error);
    if (error instanceof S3ServiceException && error.name === UNMODELED_INVALID_RANGE) {
      return withCause(new InvalidRangeError(`${what}: range not satisfiable`), error);
    }
    return mapSdkFault(error, what);
  }
}
