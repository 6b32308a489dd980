// A second, deliberately naive implementation written from docs/FORMAT.md alone (shares no code with
// lambdas/core/format): the vector test checks that both agree with the published bytes.
import { createCipheriv, createHmac, hkdfSync } from 'node:crypto';

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
): ReferencePart {
  const prefix = Buffer.concat([Buffer.from('SLSF', 'ascii'), u8(1), u8(1), u16(0), u32(frameSize)]);
  const identity = Buffer.concat([str(bucket), str(objectId), u32(partNumber)]);
  const partKey = hkdf(dataKey, salt, Buffer.concat([label('sealstore/format/v1/part-key'), prefix, identity]));
  const commitment = hkdf(dataKey, salt, Buffer.concat([label('sealstore/format/v1/commitment'), prefix, identity]));
  const header = Buffer.concat([prefix, salt, commitment]);
  const frames = plaintext.length === 0 ? 1 : Math.ceil(plaintext.length / frameSize);
  const out: Buffer[] = [header];
  let firstFrameAad = Buffer.alloc(0);
  for (let i = 0; i < frames; i++) {
    const nonce = Buffer.concat([u32(0), u64(i)]);
    const aad = Buffer.concat([u8(1), identity, u64(i), u8(i === frames - 1 ? 1 : 0)]);
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
