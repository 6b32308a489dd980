// Version 2's sealed metadata record (docs/FORMAT.md §14): what the index needs to be rebuilt from a blob alone,
// sealed after the last frame under a key derived from the data key, bound to the header, the part and the blob id.
import { createCipheriv, createDecipheriv, timingSafeEqual } from 'node:crypto';
import { IntegrityError } from '../errors';
import {
  FORMAT_VERSION_2,
  HEADER_SIZE,
  LABEL_RECORD_AAD,
  MAX_NAME_BYTES,
  MANIFEST_PART_NUMBER,
  MAX_PART_NUMBER,
  MAX_PART_SIZE,
  MAX_TRAILER_SIZE,
  NONCE_SIZE,
  RECORD_LAYOUT,
  TAG_SIZE,
  TRAILER_LENGTH_SIZE,
} from './constants';
import { sealedSize } from './geometry';
import { encodeHeaderPrefix, parseHeader, type ParsedHeader } from './header';
import { encodeIdentity, encodeName, type PartIdentity } from './identity';
import { derivePartKeys, hkdfInfo } from './keys';

/** What the writer knows of the object when it seals a part; all of it is sealed, none of it is in the clear. */
export interface SealedRecordFields {
  /**
   * 'object': a part of an object written whole (PUT, copy). 'upload-part': a part of a multipart upload.
   * 'manifest': a multipart object's completion manifest (§14.6), sealed as part MANIFEST_PART_NUMBER, whose body
   * lists the parts the completion chose (./manifest-body). 'marker': a delete marker (§14.4), sealed as part 1 of
   * its own object id with an empty body, so an index rebuilt from the blobs knows the marker.
   */
  readonly kind: 'object' | 'upload-part' | 'manifest' | 'marker';
  readonly key: string;
  /** Reserved for versioning; '' is the null version. */
  readonly versionId: string;
  /** The multipart upload this part belongs to; '' for kind 'object'. */
  readonly uploadId: string;
  /** Parts in the object when known at sealing time (1 for a PUT); 0 when not (a multipart part). */
  readonly partCount: number;
  readonly contentType: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly userMetadata: Readonly<Record<string, string>>;
  /** When the object's write began (a PUT's request, an upload's initiation). */
  readonly createdAt: Date;
  /** When this part was sealed. */
  readonly writtenAt: Date;
  /** The CMK was chosen by the request or the bucket default (ObjectRecord.keyChosen). */
  readonly keyChosen: boolean;
  /** The flexible checksum the client sent for this part's plaintext, as S3 returns it. */
  readonly checksum?: { readonly algorithm: string; readonly type: string; readonly value: string };
}

/** A record as recovery reads it back: the fields above, the part's place, and what the sealer measured. */
export interface SealedMetadata extends SealedRecordFields {
  readonly bucket: string;
  readonly objectId: string;
  readonly partNumber: number;
  readonly plaintextSize: number;
  /** SHA-256 over header and frame tags (SealedPartSummary.tagDigest): the ETag derives from it. */
  readonly tagDigest: Buffer;
  readonly frameSize: number;
  readonly header: Buffer;
  /** The whole blob's length: header, frames and trailer. */
  readonly blobSize: number;
}

/** What a version-2 sealer needs beyond the data key and identity. `fields` is read once the body has ended. */
export interface RecordInput {
  readonly blobId: string;
  readonly fields: () => SealedRecordFields;
}

const KIND_CODES = { object: 1, 'upload-part': 2, manifest: 3, marker: 4 } as const;
const FLAG_KEY_CHOSEN = 1;
const MAX_TEXT_BYTES = 0xffff;
// One message per record key (the key is unique per sealing, like the part key): a fixed nonce is safe.
const RECORD_NONCE = Buffer.alloc(NONCE_SIZE);

export class Writer {
  private readonly pieces: Buffer[] = [];
  u8(n: number): this {
    this.pieces.push(Buffer.from([n]));
    return this;
  }
  u32(n: number): this {
    const b = Buffer.allocUnsafe(4);
    b.writeUInt32BE(n);
    this.pieces.push(b);
    return this;
  }
  u64(n: number): this {
    if (!Number.isSafeInteger(n) || n < 0) throw new RangeError('u64 field must be a non-negative safe integer');
    const b = Buffer.allocUnsafe(8);
    b.writeBigUInt64BE(BigInt(n));
    this.pieces.push(b);
    return this;
  }
  bytes(b: Buffer): this {
    this.pieces.push(b);
    return this;
  }
  /** u16 length || UTF-8; may be empty. */
  text(field: string, s: string): this {
    const bytes = Buffer.from(s, 'utf8');
    if (bytes.length > MAX_TEXT_BYTES) throw new RangeError(`${field} is longer than ${MAX_TEXT_BYTES} UTF-8 bytes`);
    return this.u16(bytes.length).bytes(bytes);
  }
  map(field: string, m: Readonly<Record<string, string>>): this {
    const entries = sortedEntries(m);
    if (entries.length > 0xffff) throw new RangeError(`${field} has too many entries`);
    this.u16(entries.length);
    for (const [name, value] of entries) {
      if (name.length === 0) throw new RangeError(`${field} has an empty name`);
      this.text(field, name).text(field, value);
    }
    return this;
  }
  done(): Buffer {
    return Buffer.concat(this.pieces);
  }
  private u16(n: number): this {
    const b = Buffer.allocUnsafe(2);
    b.writeUInt16BE(n);
    this.pieces.push(b);
    return this;
  }
}

/** Entries in ascending order of their names' UTF-8 bytes: one encoding per map. */
function sortedEntries(m: Readonly<Record<string, string>>): Array<[string, string]> {
  return Object.entries(m).sort(([a], [b]) => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8')));
}

/** A strict cursor: any read past the end, invalid UTF-8 or non-canonical form is an IntegrityError. */
export class Reader {
  private at = 0;
  constructor(private readonly b: Buffer) {}
  u8(): number {
    return this.take(1).readUInt8(0);
  }
  u16(): number {
    return this.take(2).readUInt16BE(0);
  }
  u32(): number {
    return this.take(4).readUInt32BE(0);
  }
  u64(): number {
    const n = this.take(8).readBigUInt64BE(0);
    if (n > BigInt(Number.MAX_SAFE_INTEGER)) throw new IntegrityError('metadata record holds an out-of-range integer');
    return Number(n);
  }
  take(n: number): Buffer {
    if (this.at + n > this.b.length) throw new IntegrityError('metadata record is truncated');
    const out = this.b.subarray(this.at, this.at + n);
    this.at += n;
    return out;
  }
  text(): string {
    const bytes = this.take(this.u16());
    const s = bytes.toString('utf8');
    if (!Buffer.from(s, 'utf8').equals(bytes)) throw new IntegrityError('metadata record holds invalid UTF-8');
    return s;
  }
  name(): string {
    const s = this.text();
    const length = Buffer.byteLength(s, 'utf8');
    if (length === 0 || length > MAX_NAME_BYTES) throw new IntegrityError('metadata record holds a name out of bounds');
    return s;
  }
  map(): Record<string, string> {
    const count = this.u16();
    const out: Record<string, string> = Object.create(null) as Record<string, string>;
    let previous: Buffer | undefined;
    for (let i = 0; i < count; i++) {
      const name = this.text();
      const nameBytes = Buffer.from(name, 'utf8');
      if (nameBytes.length === 0 || (previous && Buffer.compare(previous, nameBytes) >= 0)) {
        throw new IntegrityError('metadata record map is not in canonical order');
      }
      previous = nameBytes;
      out[name] = this.text();
    }
    return { ...out };
  }
  end(): void {
    if (this.at !== this.b.length) throw new IntegrityError('metadata record has trailing bytes');
  }
}

interface RecordBody extends SealedRecordFields {
  readonly bucket: string;
  readonly objectId: string;
  readonly partNumber: number;
  readonly plaintextSize: number;
  readonly tagDigest: Buffer;
}

/** The record's plaintext: a fixed field order, integers big-endian, texts u16-length-prefixed, maps sorted. */
export function encodeRecord(body: RecordBody): Buffer {
  if (!Number.isInteger(body.partCount) || body.partCount < 0 || body.partCount > MAX_PART_NUMBER) {
    throw new RangeError(`partCount must be 0..${MAX_PART_NUMBER}`);
  }
  if (body.tagDigest.length !== 32) throw new RangeError('tagDigest is 32 bytes');
  if ((body.kind === 'manifest') !== (body.partNumber === MANIFEST_PART_NUMBER)) throw new RangeError(`a manifest, and only a manifest, is sealed as part ${MANIFEST_PART_NUMBER}`);
  const w = new Writer()
    .u8(RECORD_LAYOUT)
    .u8(KIND_CODES[body.kind])
    .u8(body.keyChosen ? FLAG_KEY_CHOSEN : 0)
    .bytes(encodeIdentity(body))
    .u32(body.partCount)
    .u64(body.plaintextSize)
    .bytes(body.tagDigest)
    .u64(body.createdAt.getTime())
    .u64(body.writtenAt.getTime())
    .bytes(encodeName('key', body.key))
    .text('versionId', body.versionId)
    .text('uploadId', body.uploadId)
    .text('contentType', body.contentType)
    .map('headers', body.headers)
    .map('userMetadata', body.userMetadata);
  if (body.checksum) {
    w.u8(1).text('checksum', body.checksum.algorithm).text('checksum', body.checksum.type).text('checksum', body.checksum.value);
  } else {
    w.u8(0);
  }
  return w.done();
}

export function decodeRecord(plaintext: Buffer): RecordBody {
  const r = new Reader(plaintext);
  if (r.u8() !== RECORD_LAYOUT) throw new IntegrityError('metadata record has an unknown layout');
  const kindCode = r.u8();
  const kind = (Object.keys(KIND_CODES) as Array<keyof typeof KIND_CODES>).find((k) => KIND_CODES[k] === kindCode);
  if (kind === undefined) throw new IntegrityError('metadata record has an unknown kind');
  const flags = r.u8();
  if ((flags & ~FLAG_KEY_CHOSEN) !== 0) throw new IntegrityError('metadata record has unknown flags');
  const bucket = r.name();
  const objectId = r.name();
  const partNumber = r.u32();
  // The manifest and only the manifest is sealed as MANIFEST_PART_NUMBER: neither can pass for the other.
  if ((kind === 'manifest') !== (partNumber === MANIFEST_PART_NUMBER)) throw new IntegrityError('metadata record kind does not match its part number');
  const partCount = r.u32();
  const plaintextSize = r.u64();
  const tagDigest = Buffer.from(r.take(32));
  const createdAt = new Date(r.u64());
  const writtenAt = new Date(r.u64());
  const key = r.name();
  const versionId = r.text();
  const uploadId = r.text();
  const contentType = r.text();
  const headers = r.map();
  const userMetadata = r.map();
  const hasChecksum = r.u8();
  if (hasChecksum > 1) throw new IntegrityError('metadata record has a bad checksum flag');
  const checksum = hasChecksum === 1 ? { algorithm: r.text(), type: r.text(), value: r.text() } : undefined;
  r.end();
  return {
    kind,
    keyChosen: flags === FLAG_KEY_CHOSEN,
    bucket,
    objectId,
    partNumber,
    partCount,
    plaintextSize,
    tagDigest,
    createdAt,
    writtenAt,
    key,
    versionId,
    uploadId,
    contentType,
    headers,
    userMetadata,
    ...(checksum ? { checksum } : {}),
  };
}

/** AAD = label("sealstore/format/v2/record") || header || identity || str(blobId). */
export function recordAad(header: Buffer, id: PartIdentity, blobId: string): Buffer {
  return hkdfInfo(LABEL_RECORD_AAD, header, encodeIdentity(id), encodeName('blobId', blobId));
}

/**
 * trailer = identity || AES-256-GCM(recordKey, nonce 0, aad, record) || tag || u32(trailer length before this u32).
 * The identity in the clear (already in the blob's store metadata) lets a reader derive the keys from the blob alone.
 */
export function sealTrailer(recordKey: Buffer, header: Buffer, id: PartIdentity, blobId: string, body: RecordBody): Buffer {
  const cipher = createCipheriv('aes-256-gcm', recordKey, RECORD_NONCE).setAAD(recordAad(header, id, blobId));
  const ciphertext = Buffer.concat([cipher.update(encodeRecord(body)), cipher.final()]);
  const locator = encodeIdentity(id);
  const length = locator.length + ciphertext.length + TAG_SIZE;
  if (length > MAX_TRAILER_SIZE) throw new RangeError(`metadata record exceeds ${MAX_TRAILER_SIZE} bytes`);
  const suffix = Buffer.allocUnsafe(TRAILER_LENGTH_SIZE);
  suffix.writeUInt32BE(length);
  return Buffer.concat([locator, ciphertext, cipher.getAuthTag(), suffix]);
}

/** Reads the clear identity at the start of a trailer: str bucket || str objectId || u32 partNumber. */
function readLocator(trailer: Buffer): { id: PartIdentity; length: number } {
  const r = new Reader(trailer);
  const bucket = r.name();
  const objectId = r.name();
  const partNumber = r.u32();
  if ((partNumber < 1 || partNumber > MAX_PART_NUMBER) && partNumber !== MANIFEST_PART_NUMBER) throw new IntegrityError('metadata record names a part number out of bounds');
  const length = 2 + Buffer.byteLength(bucket) + 2 + Buffer.byteLength(objectId) + 4;
  return { id: { bucket, objectId, partNumber }, length };
}

/** The trailer length a version-2 blob ends with, checked against the blob's size; IntegrityError when impossible. */
export function trailerLength(lastFour: Buffer, blobSize: number): number {
  if (lastFour.length !== TRAILER_LENGTH_SIZE) throw new IntegrityError('sealed blob is truncated');
  const length = lastFour.readUInt32BE(0);
  if (length < TAG_SIZE || length > MAX_TRAILER_SIZE || HEADER_SIZE + length + TRAILER_LENGTH_SIZE > blobSize) {
    throw new IntegrityError('sealed blob trailer length is impossible');
  }
  return length;
}

/**
 * Opens a version-2 blob's metadata record from its header (first 76 bytes) and any suffix `tail` of the blob that
 * holds the whole trailer (so recovery can fetch two small ranges instead of the blob). `blobId` is the name the
 * blob store has it under: a blob copied to another name no longer opens. Checks, in order: the header parses and
 * is version 2, the trailer's length fits the blob, the header's key commitment matches the data key and the
 * identity the trailer names, the record's tag, its canonical encoding, and that its identity and plaintext size
 * account for the blob's exact size. Any failure is an IntegrityError; nothing unauthenticated is returned.
 */
export function openSealedTrailer(dataKey: Buffer, header: Buffer, tail: Buffer, blobSize: number, blobId: string): SealedMetadata {
  const parsed: ParsedHeader = parseHeader(header);
  if (parsed.version !== FORMAT_VERSION_2) {
    throw new IntegrityError(`sealed format version ${parsed.version} carries no metadata record`);
  }
  const length = trailerLength(tail.subarray(tail.length - TRAILER_LENGTH_SIZE), blobSize);
  if (tail.length < length + TRAILER_LENGTH_SIZE) throw new IntegrityError('the bytes given do not hold the whole trailer');
  const trailer = tail.subarray(tail.length - TRAILER_LENGTH_SIZE - length, tail.length - TRAILER_LENGTH_SIZE);
  const locator = readLocator(trailer);
  if (locator.length + TAG_SIZE > trailer.length) throw new IntegrityError('metadata record is truncated');
  const headerBytes = Buffer.from(header.subarray(0, HEADER_SIZE));
  let keys;
  try {
    keys = derivePartKeys(dataKey, parsed.salt, encodeHeaderPrefix(parsed.frameSize, FORMAT_VERSION_2), locator.id, true);
  } catch (e) {
    if (e instanceof RangeError) throw new IntegrityError(`metadata record names an impossible part: ${e.message}`);
    throw e;
  }
  const recordKey = keys.recordKey as Buffer;
  try {
    if (!timingSafeEqual(keys.commitment, parsed.commitment)) {
      throw new IntegrityError('sealed blob is not committed to this data key and the part its trailer names');
    }
    const decipher = createDecipheriv('aes-256-gcm', recordKey, RECORD_NONCE).setAAD(recordAad(headerBytes, locator.id, blobId));
    decipher.setAuthTag(trailer.subarray(trailer.length - TAG_SIZE));
    let plaintext: Buffer;
    try {
      plaintext = Buffer.concat([decipher.update(trailer.subarray(locator.length, trailer.length - TAG_SIZE)), decipher.final()]);
    } catch {
      throw new IntegrityError(`the metadata record of blob ${blobId} does not open: it was altered or moved`);
    }
    const body = decodeRecord(plaintext);
    if (body.bucket !== locator.id.bucket || body.objectId !== locator.id.objectId || body.partNumber !== locator.id.partNumber) {
      throw new IntegrityError('metadata record names another part than its trailer');
    }
    if (body.plaintextSize > MAX_PART_SIZE || sealedSize(body.plaintextSize, parsed.frameSize) + length + TRAILER_LENGTH_SIZE !== blobSize) {
      throw new IntegrityError('sealed blob size does not match its metadata record');
    }
    return { ...body, frameSize: parsed.frameSize, header: headerBytes, blobSize };
  } finally {
    recordKey.fill(0);
  }
}

/** The metadata record of a whole version-2 blob held in memory; see openSealedTrailer. */
export function readSealedMetadata(blob: Buffer, dataKey: Buffer, blobId: string): SealedMetadata {
  if (blob.length < HEADER_SIZE + TRAILER_LENGTH_SIZE) throw new IntegrityError('sealed blob is truncated');
  return openSealedTrailer(dataKey, blob.subarray(0, HEADER_SIZE), blob, blob.length, blobId);
}
