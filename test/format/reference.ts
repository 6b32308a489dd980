// A second, deliberately naive implementation written from docs/FORMAT.md alone (shares no code with
// lambdas/core/format): the vector test checks that both agree with the published bytes.
import { createCipheriv, createHash, createHmac, hkdfSync } from 'node:crypto';

const u8 = (n: number): Buffer => Buffer.from([n]);
const u16 = (n: number): Buffer => {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
};
const u32 = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
};
const u64 = (n: number): Buffer => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(n));
  return b;
};
const str = (s: string): Buffer => Buffer.concat([u16(Buffer.byteLength(s)), Buffer.from(s, 'utf8')]);
const label = (s: string): Buffer => Buffer.concat([Buffer.from(s, 'ascii'), u8(0)]);
const hkdf = (ikm: Buffer, salt: Buffer, info: Buffer): Buffer => Buffer.from(hkdfSync('sha256', ikm, salt, info, 32));

export interface ReferencePart {
  readonly partKey: Buffer;
  readonly commitment: Buffer;
  readonly header: Buffer;
  readonly firstFrameAad: Buffer;
  readonly sealed: Buffer;
}

export function referenceSeal(
  dataKey: Buffer,
  salt: Buffer,
  bucket: string,
  objectId: string,
  partNumber: number,
  frameSize: number,
  plaintext: Buffer,
  version = 1,
): ReferencePart {
  const prefix = Buffer.concat([Buffer.from('SLSF', 'ascii'), u8(version), u8(1), u16(0), u32(frameSize)]);
  const identity = Buffer.concat([str(bucket), str(objectId), u32(partNumber)]);
  const partKey = hkdf(dataKey, salt, Buffer.concat([label('sealstore/format/v1/part-key'), prefix, identity]));
  const commitment = hkdf(dataKey, salt, Buffer.concat([label('sealstore/format/v1/commitment'), prefix, identity]));
  const header = Buffer.concat([prefix, salt, commitment]);
  const frames = plaintext.length === 0 ? 1 : Math.ceil(plaintext.length / frameSize);
  const out: Buffer[] = [header];
  let firstFrameAad = Buffer.alloc(0);
  for (let i = 0; i < frames; i++) {
    const nonce = Buffer.concat([u32(0), u64(i)]);
    const aad = Buffer.concat([u8(version), identity, u64(i), u8(i === frames - 1 ? 1 : 0)]);
    if (i === 0) firstFrameAad = aad;
    const cipher = createCipheriv('aes-256-gcm', partKey, nonce);
    cipher.setAAD(aad);
    out.push(cipher.update(plaintext.subarray(i * frameSize, (i + 1) * frameSize)), cipher.final(), cipher.getAuthTag());
  }
  return { partKey, commitment, header, firstFrameAad, sealed: Buffer.concat(out) };
}

export function referenceObjectMac(
  dataKey: Buffer,
  bucket: string,
  objectId: string,
  parts: readonly { partNumber: number; plaintextSize: number; header: Buffer }[],
): { macKey: Buffer; mac: Buffer } {
  const macKey = hkdf(dataKey, Buffer.alloc(0), Buffer.concat([label('sealstore/format/v1/object-mac-key'), u8(1), str(bucket), str(objectId)]));
  const hmac = createHmac('sha256', macKey).update(Buffer.concat([label('sealstore/format/v1/object-mac'), u8(1), u32(parts.length)]));
  for (const p of parts) hmac.update(Buffer.concat([u32(p.partNumber), u64(p.plaintextSize), p.header]));
  return { macKey, mac: hmac.digest() };
}

/** The fields of a version-2 record (FORMAT.md §14.2), as plain values. */
export interface ReferenceRecord {
  readonly kind: 'object' | 'upload-part' | 'manifest' | 'marker';
  readonly keyChosen: boolean;
  readonly partCount: number;
  readonly createdAtMs: number;
  readonly writtenAtMs: number;
  readonly key: string;
  readonly versionId: string;
  readonly uploadId: string;
  readonly contentType: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly userMetadata: Readonly<Record<string, string>>;
  readonly checksum?: { readonly algorithm: string; readonly type: string; readonly value: string };
}

const map = (m: Readonly<Record<string, string>>): Buffer => {
  const names = Object.keys(m).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  return Buffer.concat([u16(names.length), ...names.flatMap((n) => [str(n), str(m[n] as string)])]);
};

/** A version-2 blob: the version-2 frames, then locator || AES-GCM(record) || tag || u32(length). */
export function referenceSealV2(
  dataKey: Buffer,
  salt: Buffer,
  bucket: string,
  objectId: string,
  partNumber: number,
  frameSize: number,
  plaintext: Buffer,
  blobId: string,
  record: ReferenceRecord,
): ReferencePart & { recordKey: Buffer; recordAad: Buffer; recordPlaintext: Buffer; trailer: Buffer } {
  const part = referenceSeal(dataKey, salt, bucket, objectId, partNumber, frameSize, plaintext, 2);
  const identity = Buffer.concat([str(bucket), str(objectId), u32(partNumber)]);
  const recordKey = hkdf(dataKey, salt, Buffer.concat([label('sealstore/format/v2/record-key'), part.header.subarray(0, 12), identity]));
  // tagDigest: SHA-256 over the header and each frame's 16-byte tag, in order.
  const frames = plaintext.length === 0 ? 1 : Math.ceil(plaintext.length / frameSize);
  const digest = createHash('sha256').update(part.header);
  for (let i = 0, at = 76; i < frames; i++) {
    const length = i < frames - 1 ? frameSize : plaintext.length - (frames - 1) * frameSize;
    at += length;
    digest.update(part.sealed.subarray(at, at + 16));
    at += 16;
  }
  const recordPlaintext = Buffer.concat([
    u8(1),
    u8({ object: 1, 'upload-part': 2, manifest: 3, marker: 4 }[record.kind]),
    u8(record.keyChosen ? 1 : 0),
    identity,
    u32(record.partCount),
    u64(plaintext.length),
    digest.digest(),
    u64(record.createdAtMs),
    u64(record.writtenAtMs),
    str(record.key),
    str(record.versionId),
    str(record.uploadId),
    str(record.contentType),
    map(record.headers),
    map(record.userMetadata),
    record.checksum ? Buffer.concat([u8(1), str(record.checksum.algorithm), str(record.checksum.type), str(record.checksum.value)]) : u8(0),
  ]);
  const recordAad = Buffer.concat([label('sealstore/format/v2/record'), part.header, identity, str(blobId)]);
  const cipher = createCipheriv('aes-256-gcm', recordKey, Buffer.alloc(12));
  cipher.setAAD(recordAad);
  const ciphertext = Buffer.concat([cipher.update(recordPlaintext), cipher.final(), cipher.getAuthTag()]);
  const body = Buffer.concat([identity, ciphertext]);
  const trailer = Buffer.concat([body, u32(body.length)]);
  return { ...part, sealed: Buffer.concat([part.sealed, trailer]), recordKey, recordAad, recordPlaintext, trailer };
}
