// The body of a completion manifest (docs/FORMAT.md §14.6): the part list a CompleteMultipartUpload chose, sealed as
// the frames of a version-2 blob of kind 'manifest' under the upload's data key. With it, recovery knows which part
// blobs make the object, in which order, and what the index held of each; without it, part blobs are only an upload.
import { IntegrityError } from '../errors';
import { HEADER_SIZE, MAX_PART_NUMBER } from './constants';
import { Reader, Writer } from './record';

const MANIFEST_LAYOUT = 1;

/** One chosen part, as the object's index row holds it. */
export interface ManifestPart {
  readonly partNumber: number;
  readonly blobId: string;
  readonly plaintextSize: number;
  readonly sealedSize: number;
  /** The part blob's 76-byte header (not secret). */
  readonly header: Buffer;
  readonly etag: string;
  /** The part's sealed flexible checksum, as the index row holds it (already sealed under the data key). */
  readonly sealedChecksum?: Buffer;
}

export interface ManifestBody {
  /** The object's size: the sum of the parts' plaintext sizes. */
  readonly size: number;
  /** The object's ETag ("<hex>-<count>"). */
  readonly etag: string;
  /** In ascending part-number order, as the completion listed them. */
  readonly parts: readonly ManifestPart[];
}

/**
 * u8 layout || u64 size || txt etag || u32 count || per part: u32 partNumber || txt blobId || u64 plaintextSize ||
 * u64 sealedSize || header (76 bytes) || txt etag || u8 0 | u8 1 txt(base64 sealedChecksum).
 */
export function encodeManifestBody(m: ManifestBody): Buffer {
  if (m.parts.length === 0 || m.parts.length > MAX_PART_NUMBER) throw new RangeError(`a manifest lists 1..${MAX_PART_NUMBER} parts`);
  const w = new Writer().u8(MANIFEST_LAYOUT).u64(m.size).text('etag', m.etag).u32(m.parts.length);
  for (const p of m.parts) {
    if (p.header.length !== HEADER_SIZE) throw new RangeError(`a part header is ${HEADER_SIZE} bytes`);
    w.u32(p.partNumber).text('blobId', p.blobId).u64(p.plaintextSize).u64(p.sealedSize).bytes(p.header).text('etag', p.etag);
    if (p.sealedChecksum) w.u8(1).text('sealedChecksum', p.sealedChecksum.toString('base64'));
    else w.u8(0);
  }
  return w.done();
}

/** Strict: any other encoding, a part number out of order or bounds, or a size that is not the parts' sum fails. */
export function decodeManifestBody(bytes: Buffer): ManifestBody {
  const r = new Reader(bytes);
  if (r.u8() !== MANIFEST_LAYOUT) throw new IntegrityError('manifest has an unknown layout');
  const size = r.u64();
  const etag = r.text();
  const count = r.u32();
  if (count === 0 || count > MAX_PART_NUMBER) throw new IntegrityError('manifest part count out of bounds');
  const parts: ManifestPart[] = [];
  let previous = 0;
  let sum = 0;
  for (let i = 0; i < count; i++) {
    const partNumber = r.u32();
    if (partNumber <= previous || partNumber > MAX_PART_NUMBER) throw new IntegrityError('manifest part numbers are not ascending within 1..10000');
    previous = partNumber;
    const blobId = r.text();
    const plaintextSize = r.u64();
    const sealedSize = r.u64();
    const header = Buffer.from(r.take(HEADER_SIZE));
    const partEtag = r.text();
    const flag = r.u8();
    if (flag > 1) throw new IntegrityError('manifest has a bad checksum flag');
    const sealedChecksum = flag === 1 ? Buffer.from(r.text(), 'base64') : undefined;
    sum += plaintextSize;
    parts.push({ partNumber, blobId, plaintextSize, sealedSize, header, etag: partEtag, ...(sealedChecksum ? { sealedChecksum } : {}) });
  }
  r.end();
  if (sum !== size) throw new IntegrityError('manifest size is not the sum of its parts');
  return { size, etag, parts };
}
