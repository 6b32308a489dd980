// Version 2: the sealed metadata record after the last frame. Frames open as before (whole and by range), the record
// opens with the data key and the blob's name alone, and any change to it, or moving it, is refused.
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Writable } from 'node:stream';
import { IntegrityError } from '../../lambdas/core/errors';
import {
  createSealer,
  FORMAT_VERSION_1,
  FORMAT_VERSION_2,
  HEADER_SIZE,
  openBuffer,
  openSealedTrailer,
  parseHeader,
  readSealedMetadata,
  type RecordInput,
  sealBuffer,
  sealedSize,
  type SealedRecordFields,
} from '../../lambdas/core/format';
import { decodeRecord, encodeRecord } from '../../lambdas/core/format/record';
import { dataKey, identity, openBlob, openRange, patterned, SMALL_FRAME } from './helpers';

const F = SMALL_FRAME;

function fields(overrides: Partial<SealedRecordFields> = {}): SealedRecordFields {
  return {
    kind: 'object',
    key: 'reports/2026/ü.pdf',
    versionId: '',
    uploadId: '',
    partCount: 1,
    contentType: 'application/pdf',
    headers: { 'cache-control': 'no-cache', 'content-disposition': 'attachment' },
    userMetadata: { zeta: 'last', alpha: 'first', 'ünï': 'cödé' },
    createdAt: new Date('2026-12-01T10:00:00.123Z'),
    writtenAt: new Date('2026-12-01T10:00:01.456Z'),
    keyChosen: true,
    checksum: { algorithm: 'CRC32', type: 'FULL_OBJECT', value: 'AAAAAA==' },
    ...overrides,
  };
}

function record(blobId = 'blob-0001', overrides: Partial<SealedRecordFields> = {}): RecordInput {
  return { blobId, fields: () => fields(overrides) };
}

describe('version 2 sealing', () => {
  const key = dataKey();
  const id = identity({ partNumber: 3 });
  const plaintext = patterned(5 * F + 3);
  const { sealed, summary } = sealBuffer(key, id, plaintext, { frameSize: F, record: record() });

  it('writes a version-2 header, the frames of version 1, then the trailer; the summary counts the whole blob', () => {
    expect(parseHeader(sealed).version).toBe(FORMAT_VERSION_2);
    expect(summary.sealedSize).toBe(sealed.length);
    expect(sealed.length).toBeGreaterThan(sealedSize(plaintext.length, F) + 4);
    expect(sealed.readUInt32BE(sealed.length - 4)).toBe(sealed.length - 4 - sealedSize(plaintext.length, F));
  });

  it('opens whole, streamed and by range (a GET fetches frames only, never the trailer)', async () => {
    expect((await openBuffer(key, id, sealed, plaintext.length)).equals(plaintext)).toBe(true);
    const frames = sealed.subarray(0, sealedSize(plaintext.length, F));
    const whole = await openBlob(key, id, frames, plaintext.length);
    expect(whole.error).toBeUndefined();
    expect(whole.released.equals(plaintext)).toBe(true);
    for (const range of [{ start: 0, end: 0 }, { start: 15, end: 17 }, { start: 40, end: plaintext.length - 1 }]) {
      const got = await openRange(key, id, sealed, plaintext.length, F, range);
      expect(got.error).toBeUndefined();
      expect(got.released.equals(plaintext.subarray(range.start, range.end + 1))).toBe(true);
    }
  });

  it('gives back every field from the blob, the data key and the blob id alone', () => {
    const meta = readSealedMetadata(sealed, key, 'blob-0001');
    expect(meta).toEqual({
      ...fields(),
      userMetadata: { alpha: 'first', zeta: 'last', 'ünï': 'cödé' },
      bucket: id.bucket,
      objectId: id.objectId,
      partNumber: 3,
      plaintextSize: plaintext.length,
      tagDigest: summary.tagDigest,
      frameSize: F,
      header: summary.header,
      blobSize: sealed.length,
    });
  });

  it('opens from the header and a suffix of the blob (two small range reads)', () => {
    const tail = sealed.subarray(sealed.length - 400 > HEADER_SIZE ? sealed.length - 400 : HEADER_SIZE);
    expect(openSealedTrailer(key, sealed.subarray(0, HEADER_SIZE), tail, sealed.length, 'blob-0001').key).toBe('reports/2026/ü.pdf');
    expect(() => openSealedTrailer(key, sealed.subarray(0, HEADER_SIZE), sealed.subarray(sealed.length - 20), sealed.length, 'blob-0001')).toThrow(IntegrityError);
  });

  it('streams to the same bytes as sealBuffer for the same salt', async () => {
    const salt = Buffer.alloc(32, 7);
    const expected = sealBuffer(key, id, plaintext, { frameSize: F, salt, record: record() }).sealed;
    const sealer = createSealer(key, id, { frameSize: F, salt, record: record() });
    const out: Buffer[] = [];
    await pipeline(Readable.from([plaintext.subarray(0, 5), plaintext.subarray(5)]), sealer, new Writable({ write(c: Buffer, _e, cb) { out.push(c); cb(); } }));
    expect(Buffer.concat(out).equals(expected)).toBe(true);
    expect(sealer.summary().sealedSize).toBe(expected.length);
  });

  it('round-trips an empty part, empty maps, no checksum, a multipart part of unknown count', () => {
    const input = record('b', { kind: 'upload-part', uploadId: 'upl-1', partCount: 0, headers: {}, userMetadata: {}, contentType: '', checksum: undefined, keyChosen: false });
    const empty = sealBuffer(key, id, Buffer.alloc(0), { frameSize: F, record: input }).sealed;
    const meta = readSealedMetadata(empty, key, 'b');
    expect(meta).toMatchObject({ kind: 'upload-part', uploadId: 'upl-1', partCount: 0, plaintextSize: 0, headers: {}, userMetadata: {}, keyChosen: false });
    expect(meta.checksum).toBeUndefined();
  });

  it('reads the record only after the body: fields() is called once, at the end', () => {
    let calls = 0;
    const sealer = createSealer(key, id, { frameSize: F, record: { blobId: 'x', fields: () => (calls++, fields()) } });
    sealer.write(plaintext);
    expect(calls).toBe(0);
    sealer.end();
    return new Promise<void>((resolve) => {
      sealer.resume();
      sealer.on('end', () => {
        expect(calls).toBe(1);
        resolve();
      });
    });
  });
});

describe('version 2 record integrity', () => {
  const key = dataKey();
  const id = identity({ partNumber: 2 });
  const plaintext = patterned(2 * F + 1);
  const { sealed } = sealBuffer(key, id, plaintext, { frameSize: F, record: record('blob-A') });
  const frameEnd = sealedSize(plaintext.length, F);

  it('refuses the record with any one byte of the trailer or header changed', () => {
    const positions = [...Array.from({ length: HEADER_SIZE }, (_, i) => i), ...Array.from({ length: sealed.length - frameEnd }, (_, i) => frameEnd + i)];
    for (const at of positions) {
      const bad = Buffer.from(sealed);
      bad[at] = (bad[at] as number) ^ 0x01;
      expect(() => readSealedMetadata(bad, key, 'blob-A')).toThrow(IntegrityError);
    }
    expect(positions.length).toBeGreaterThan(HEADER_SIZE + 150);
  });

  it('refuses a blob presented under another name, key, or cut short / extended', () => {
    expect(() => readSealedMetadata(sealed, key, 'blob-B')).toThrow(IntegrityError);
    expect(() => readSealedMetadata(sealed, dataKey(), 'blob-A')).toThrow(IntegrityError);
    expect(() => readSealedMetadata(Buffer.concat([sealed, Buffer.alloc(1)]), key, 'blob-A')).toThrow(IntegrityError);
    expect(() => readSealedMetadata(sealed.subarray(1), key, 'blob-A')).toThrow(IntegrityError);
    // Frames dropped in front of an intact trailer: the record's size no longer accounts for the blob.
    const shortened = Buffer.concat([sealed.subarray(0, HEADER_SIZE + F + 16), sealed.subarray(frameEnd)]);
    expect(() => readSealedMetadata(shortened, key, 'blob-A')).toThrow(IntegrityError);
  });

  it('refuses a record moved from another sealing of the same part, or from another part', () => {
    const retry = sealBuffer(key, id, plaintext, { frameSize: F, record: record('blob-A', { key: 'other' }) }).sealed;
    const moved = Buffer.concat([sealed.subarray(0, frameEnd), retry.subarray(frameEnd)]);
    expect(() => readSealedMetadata(moved, key, 'blob-A')).toThrow(IntegrityError);
    const part5 = sealBuffer(key, identity({ partNumber: 5 }), plaintext, { frameSize: F, record: record('blob-A') }).sealed;
    expect(() => readSealedMetadata(Buffer.concat([sealed.subarray(0, frameEnd), part5.subarray(frameEnd)]), key, 'blob-A')).toThrow(IntegrityError);
  });

  it('refuses a version-2 header rewritten to version 1 (frames and record both fail)', async () => {
    const downgraded = Buffer.from(sealed);
    downgraded[4] = FORMAT_VERSION_1;
    expect(() => readSealedMetadata(downgraded, key, 'blob-A')).toThrow(IntegrityError);
    await expect(openBuffer(key, id, downgraded.subarray(0, frameEnd), plaintext.length)).rejects.toBeInstanceOf(IntegrityError);
  });

  it('says a version-1 blob has no record', () => {
    const v1 = sealBuffer(key, id, plaintext, { frameSize: F }).sealed;
    expect(() => readSealedMetadata(v1, key, 'blob-A')).toThrow(/version 1 carries no metadata record/);
  });

  it('refuses a whole-blob open whose trailer length does not fit', async () => {
    const bad = Buffer.from(sealed);
    bad.writeUInt32BE(bad.readUInt32BE(bad.length - 4) + 1, bad.length - 4);
    await expect(openBuffer(key, id, bad, plaintext.length)).rejects.toBeInstanceOf(IntegrityError);
  });
});

describe('record encoding', () => {
  const body = { ...fields(), bucket: 'b', objectId: 'o', partNumber: 1, plaintextSize: 9, tagDigest: Buffer.alloc(32, 3) };

  it('is canonical: map order in the input does not change the bytes', () => {
    const reordered = { ...body, userMetadata: { 'ünï': 'cödé', alpha: 'first', zeta: 'last' } };
    expect(encodeRecord(reordered).equals(encodeRecord(body))).toBe(true);
    expect(encodeRecord(decodeRecord(encodeRecord(body))).equals(encodeRecord(body))).toBe(true);
  });

  it('rejects trailing bytes, truncation, unknown layout, kind and flags', () => {
    const bytes = encodeRecord(body);
    expect(() => decodeRecord(Buffer.concat([bytes, Buffer.alloc(1)]))).toThrow(IntegrityError);
    expect(() => decodeRecord(bytes.subarray(0, bytes.length - 1))).toThrow(IntegrityError);
    for (const [at, value] of [[0, 2], [1, 9], [2, 2]] as const) {
      const bad = Buffer.from(bytes);
      bad[at] = value;
      expect(() => decodeRecord(bad)).toThrow(IntegrityError);
    }
  });

  it('rejects maps out of order (a second encoding of the same record)', () => {
    const one = encodeRecord({ ...body, headers: {}, userMetadata: { a: '1', b: '2' }, checksum: undefined });
    const swapped = Buffer.from(one);
    // The map is the last thing before the checksum flag: "a"→"b" and "b"→"a" swaps the names only.
    const a = swapped.indexOf(Buffer.from([0, 1, 0x61, 0, 1, 0x31]));
    swapped[a + 2] = 0x62;
    swapped[a + 8] = 0x61;
    expect(() => decodeRecord(swapped)).toThrow(/canonical order/);
  });
});
