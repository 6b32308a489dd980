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
    {
      partNumber: 10001,
      description: 'a completion manifest (kind 3, part 10,001): the part list of an object made of parts 1 and 3',
      plaintextHex: referenceManifestBody().toString('hex'),
      blobId: 'vector-manifest',
      record: {
        kind: 'manifest',
        keyChosen: false,
        partCount: 2,
        createdAtMs: 1_796_000_000_000,
        writtenAtMs: 1_796_000_002_000,
        key: 'backups/nightly.tar',
        versionId: '',
        uploadId: 'vector-upload',
        contentType: 'application/x-tar',
        headers: {},
        userMetadata: { host: 'db-1' },
      },
    },
    {
      partNumber: 5,
      description: 'a delete marker (kind 4): an empty body and a record naming the marker version (a marker is part 1 of its own object id; 5 here keeps this vector off the other vectors\' part keys)',
      plaintextHex: '',
      blobId: 'vector-marker',
      record: {
        kind: 'marker',
        keyChosen: false,
        partCount: 1,
        createdAtMs: 1_796_000_003_000,
        writtenAtMs: 1_796_000_003_010,
        key: 'records/ü.txt',
        versionId: 'fe5dd60ecc470123456789abcdef',
        uploadId: '',
        contentType: '',
        headers: {},
        userMetadata: {},
      },
    },
  ],
} as const;

/**
 * FORMAT.md §14.6's manifest body, encoded here independently of the library: two parts (1 and 3; 3 with a sealed
 * checksum), headers of fixed bytes (the vector is of the encoding, not of those parts' sealing).
 */
function referenceManifestBody(): Buffer {
  const u8 = (n: number) => Buffer.from([n]);
  const u32 = (n: number) => Buffer.from([(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff]);
  const u64 = (n: number) => Buffer.concat([u32(Math.floor(n / 2 ** 32)), u32(n >>> 0)]);
  const txt = (t: string) => {
    const b = Buffer.from(t, 'utf8');
    return Buffer.concat([Buffer.from([b.length >> 8, b.length & 0xff]), b]);
  };
  const part = (n: number, blobId: string, size: number, sealedSize: number, fill: number, etag: string, checksum?: Buffer) =>
    Buffer.concat([u32(n), txt(blobId), u64(size), u64(sealedSize), Buffer.alloc(76, fill), txt(etag), checksum ? Buffer.concat([u8(1), txt(checksum.toString('base64'))]) : u8(0)]);
  return Buffer.concat([
    u8(1),
    u64(5_242_880 + 17),
    txt('00112233445566778899aabbccddeeff-2'),
    u32(2),
    part(1, 'vector-part-1', 5_242_880, 5_243_996, 0x11, 'aa'.repeat(16)),
    part(3, 'vector-part-3', 17, 250, 0x33, 'bb'.repeat(16), Buffer.alloc(8, 0xcc)),
  ]);
}
