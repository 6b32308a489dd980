// Stream helpers shared by the port contract suites: feed bodies in chunks, read them back whole.
import { Readable } from 'node:stream';
import { randomBytes } from 'node:crypto';

/** Drains a readable into one Buffer (tests only: bodies here are small enough to hold). */
export async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string));
  return Buffer.concat(chunks);
}

/** A body delivered in many small chunks, so adapters cannot rely on a single write. */
export function chunked(body: Buffer, chunkSize = 64 * 1024): Readable {
  return Readable.from(
    (function* () {
      for (let offset = 0; offset < body.length; offset += chunkSize) yield body.subarray(offset, offset + chunkSize);
    })(),
  );
}

/** A unique, portable id: lower-case letters, digits and dashes are valid everywhere (S3 keys, file names). */
export function uniqueId(prefix: string): string {
  return `${prefix}-${randomBytes(8).toString('hex')}`;
}
