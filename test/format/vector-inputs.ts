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

/** Version 2 (FORMAT.md §14): the same key, names and frame size; each part also carries a record and a blob id. */
export const VECTOR_INPUTS_V2 = {
  parts: [
    {
      partNumber: 1,
      description: 'a one-part object (PUT): one byte, headers, user metadata, a checksum, key chosen',
      plaintextHex: Buffer.from('x').toString('hex'),
      blobId: 'vector-blob-1',
      record: {
        kind: 'object',
        keyChosen: true,
        partCount: 1,
        createdAtMs: 1_796_000_000_000,
        writtenAtMs: 1_796_000_000_123,
        key: 'records/ü.txt',
        versionId: '',
        uploadId: '',
        contentType: 'text/plain',
        headers: { 'content-language': 'en', 'cache-control': 'no-cache' },
        userMetadata: { patient: 'p-1', 'ünï': 'cödé' },
        checksum: { algorithm: 'CRC32', type: 'FULL_OBJECT', value: 'jKtRuw==' },
      },
    },
    {
      partNumber: 2,
      description: 'a multipart upload part: frame + 1 bytes, part count unknown (0), no headers or checksum',
      plaintextHex: Buffer.from('sealstore vector!').toString('hex'),
      blobId: 'vector-blob-2',
      record: {
        kind: 'upload-part',
        keyChosen: false,
        partCount: 0,
        createdAtMs: 1_796_000_000_000,
        writtenAtMs: 1_796_000_001_000,
        key: 'backups/nightly.tar',
        versionId: '',
        uploadId: 'vector-upload',
        contentType: 'application/x-tar',
        headers: {},
        userMetadata: {},
      },
    },
  ],
} as const;
