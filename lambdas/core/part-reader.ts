// Reading sealed parts back: the plaintext of a byte range of an object, fetching only the frames it touches.
import { PassThrough, type Readable, type Transform } from 'node:stream';
import { createOpener, parseHeader, sealedRangeFor } from './format';
import { BlobNotFoundError, NoSuchKeyError } from './errors';
import type { BlobStore, ByteRange } from './ports';
import type { ObjectRecord } from './records';

/** The object's blobs vanished under a reader: it was overwritten or deleted after its index entry was read. */
export class ObjectChangedError extends NoSuchKeyError {}

/**
 * Plaintext of `range` (inclusive, inside the object) as one stream. Every part's key commitment is checked
 * here, synchronously, before any byte flows, so a caller can still answer with an error status; the part
 * keys are derived up front, so `dataKey` may be zeroed as soon as this returns.
 */
export async function openRange(blobs: BlobStore, record: ObjectRecord, dataKey: Buffer, range: ByteRange): Promise<Readable> {
  const reads: Array<{ blobId: string; opener: ReturnType<typeof createOpener>; sealed: ByteRange }> = [];
  let offset = 0;
  for (const part of record.parts) {
    const partStart = offset;
    const partEnd = offset + part.plaintextSize - 1;
    offset += part.plaintextSize;
    if (part.plaintextSize === 0 || partEnd < range.start || partStart > range.end) continue;
    const id = { bucket: record.bucket, objectId: record.objectId, partNumber: part.partNumber };
    const local = { start: Math.max(range.start, partStart) - partStart, end: Math.min(range.end, partEnd) - partStart };
    const sealed = sealedRangeFor(part.plaintextSize, parseHeader(part.header).frameSize, local);
    const opener = createOpener(dataKey, id, { header: part.header, plaintextSize: part.plaintextSize, range: local });
    reads.push({ blobId: part.blobId, opener, sealed: { start: sealed.start, end: sealed.end } });
  }
  const fetch = async (r: (typeof reads)[number]): Promise<Readable> => {
    try {
      return await blobs.get(r.blobId, r.sealed);
    } catch (e) {
      if (e instanceof BlobNotFoundError) throw new ObjectChangedError(`The object ${record.key} was replaced or deleted while being read.`, { Key: record.key });
      throw e;
    }
  };
  // The first blob is opened before returning: if a concurrent overwrite already removed it, the caller
  // learns it before any status line is sent and can read the new version instead.
  const first = reads[0] ? await fetch(reads[0]) : undefined;
  // Parts flow one after another into one stream, chunk by chunk (no re-buffering). An error in any part ends
  // the stream with it; the consumer going away stops the part being read.
  const out = new PassThrough({ readableHighWaterMark: 256 * 1024 });
  let current: { source: Readable; opener: Transform } | undefined;
  out.once('close', () => {
    current?.source.destroy();
    current?.opener.destroy();
  });
  const fail = (e: unknown) => {
    first?.destroy();
    current?.source.destroy();
    if (!out.destroyed) out.destroy(e instanceof Error ? e : new Error(String(e)));
  };
  const next = async (i: number): Promise<void> => {
    const r = reads[i];
    if (r === undefined) {
      out.end();
      return;
    }
    const source = i === 0 && first ? first : await fetch(r);
    if (out.destroyed) {
      source.destroy();
      return;
    }
    current = { source, opener: r.opener };
    source.once('error', fail);
    r.opener.once('error', fail);
    r.opener.once('end', () => void next(i + 1).catch(fail));
    source.pipe(r.opener).pipe(out, { end: false });
  };
  void next(0).catch(fail);
  return out;
}
