// Nonce uniqueness: re-sealing the same part (a retried multipart upload) never reuses a GCM key/nonce pair.
import { HEADER_SIZE, parseHeader, sealBuffer, TAG_SIZE } from '../../lambdas/core/format';
import { dataKey, identity, patterned } from './helpers';

const F = 64;

function xor(a: Buffer, b: Buffer): Buffer {
  const out = Buffer.alloc(Math.min(a.length, b.length));
  for (let i = 0; i < out.length; i++) out[i] = (a[i] as number) ^ (b[i] as number);
  return out;
}

/** Ciphertext of frame 0 without its tag. */
const firstFrameCiphertext = (sealed: Buffer): Buffer => sealed.subarray(HEADER_SIZE, sealed.length - TAG_SIZE).subarray(0, F);

describe('sealing the same part number twice', () => {
  const key = dataKey();
  const id = identity({ partNumber: 7 });

  it('draws a fresh salt each time, so the part keys and commitments differ', () => {
    const headers = Array.from({ length: 50 }, () => sealBuffer(key, id, Buffer.from('same'), { frameSize: F }).summary.header);
    expect(new Set(headers.map((h) => parseHeader(h).salt.toString('hex'))).size).toBe(50);
    expect(new Set(headers.map((h) => parseHeader(h).commitment.toString('hex'))).size).toBe(50);
  });

  it('yields different ciphertexts for the same bytes', () => {
    const plaintext = patterned(3 * F);
    const a = sealBuffer(key, id, plaintext, { frameSize: F }).sealed;
    const b = sealBuffer(key, id, plaintext, { frameSize: F }).sealed;
    expect(a.subarray(HEADER_SIZE).equals(b.subarray(HEADER_SIZE))).toBe(false);
  });

  it('does not reuse the keystream when the bytes differ (ciphertext XOR would leak plaintext XOR)', () => {
    const first = patterned(F, 1);
    const second = patterned(F, 2);
    const a = sealBuffer(key, id, first, { frameSize: F }).sealed;
    const b = sealBuffer(key, id, second, { frameSize: F }).sealed;
    expect(xor(firstFrameCiphertext(a), firstFrameCiphertext(b)).equals(xor(first, second))).toBe(false);
  });

  it('would reuse the keystream with a repeated salt: the salt is what keeps nonces unique (control)', () => {
    const salt = Buffer.alloc(32, 5);
    const first = patterned(F, 1);
    const second = patterned(F, 2);
    const a = sealBuffer(key, id, first, { frameSize: F, salt }).sealed;
    const b = sealBuffer(key, id, second, { frameSize: F, salt }).sealed;
    expect(xor(firstFrameCiphertext(a), firstFrameCiphertext(b)).equals(xor(first, second))).toBe(true);
  });
});

describe('frames within one part', () => {
  it('use distinct nonces: equal plaintext frames encrypt differently', () => {
    const plaintext = Buffer.alloc(4 * F, 0x61);
    const { sealed } = sealBuffer(dataKey(), identity(), plaintext, { frameSize: F });
    const stride = F + TAG_SIZE;
    const bodies = [0, 1, 2, 3].map((i) => sealed.subarray(HEADER_SIZE + i * stride, HEADER_SIZE + i * stride + F).toString('hex'));
    expect(new Set(bodies).size).toBe(4);
  });
});
