// The fixed inputs of the published test vectors (docs/format-vectors.json).

export const VECTOR_INPUTS = {
  dataKey: Buffer.from('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f', 'hex'),
  bucket: 'vector-bucket',
  objectId: 'vector-object',
  frameSize: 16,
  parts: [
    { partNumber: 1, description: 'empty part: one final frame of 0 bytes', plaintextHex: '' },
    { partNumber: 2, description: 'one byte', plaintextHex: Buffer.from('x').toString('hex') },
    { partNumber: 3, description: 'frame + 1 bytes: a full frame and a 1-byte final frame', plaintextHex: Buffer.from('sealstore vector!').toString('hex') },
    { partNumber: 4, description: 'exactly two frames: the second full frame is final', plaintextHex: Buffer.from('0123456789abcdefFEDCBA9876543210').toString('hex') },
  ],
} as const;

/** salt[j] = (j + 0x40 · partNumber) mod 256 — fixed for vectors only; real salts are random. */
export function vectorSalt(partNumber: number): Buffer {
  return Buffer.from(Array.from({ length: 32 }, (_, j) => (j + 0x40 * partNumber) & 0xff));
}
