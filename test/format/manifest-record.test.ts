// The completion manifest (FORMAT.md §14.6): a version-2 blob of kind 3, sealed as part 10,001 under the upload's
// data key, whose frames hold the part list. It opens from the blob alone; a part blob cannot pass for it nor it for
// a part; its body decodes strictly.
import { randomBytes } from 'node:crypto';
import { IntegrityError } from '../../lambdas/core/errors';
import {
  decodeManifestBody,
  encodeManifestBody,
  HEADER_SIZE,
  MANIFEST_PART_NUMBER,
  openBuffer,
  readSealedMetadata,
  sealBuffer,
  type ManifestBody,
  type SealedRecordFields,
} from '../../lambdas/core/format';
import { dataKey, identity, SMALL_FRAME } from './helpers';

const body: ManifestBody = {
  size: 5_242_880 + 7,
  etag: '0123456789abcdef0123456789abcdef-2',
  parts: [
    { partNumber: 1, blobId: 'b1', plaintextSize: 5_242_880, sealedSize: 5_300_000, header: Buffer.alloc(HEADER_SIZE, 1), etag: 'e1' },
    { partNumber: 3, blobId: 'b3', plaintextSize: 7, sealedSize: 200, header: Buffer.alloc(HEADER_SIZE, 3), etag: 'e3', sealedChecksum: randomBytes(40) },
  ],
};

const fields = (kind: SealedRecordFields['kind']): SealedRecordFields => ({
  kind,
  key: 'videos/big.mp4',
  versionId: '',
  uploadId: 'upload-1',
  partCount: 2,
  contentType: 'video/mp4',
  headers: {},
  userMetadata: { camera: 'a' },
  createdAt: new Date('2026-12-01T10:00:00Z'),
  writtenAt: new Date('2026-12-01T10:05:00Z'),
  keyChosen: false,
});

describe('completion manifest', () => {
  const key = dataKey();
  const id = identity({ partNumber: MANIFEST_PART_NUMBER });
  const plaintext = encodeManifestBody(body);
  const { sealed } = sealBuffer(key, id, plaintext, { frameSize: SMALL_FRAME, record: { blobId: 'm1', fields: () => fields('manifest') } });

  it('opens its record and its part list from the blob and the data key alone', async () => {
    const meta = readSealedMetadata(sealed, key, 'm1');
    expect(meta).toMatchObject({ kind: 'manifest', partNumber: MANIFEST_PART_NUMBER, partCount: 2, key: 'videos/big.mp4', plaintextSize: plaintext.length });
    expect(decodeManifestBody(await openBuffer(key, id, sealed, meta.plaintextSize))).toEqual(body);
  });

  it('is sealed as part 10,001 only, and nothing else is', () => {
    expect(() => sealBuffer(key, identity({ partNumber: 2 }), plaintext, { record: { blobId: 'm1', fields: () => fields('manifest') } })).toThrow(RangeError);
    expect(() => sealBuffer(key, id, plaintext, { record: { blobId: 'm1', fields: () => fields('upload-part') } })).toThrow(RangeError);
  });

  it('refuses a body that is not the one encoding of a part list', () => {
    expect(() => decodeManifestBody(Buffer.concat([plaintext, Buffer.from([0])]))).toThrow(IntegrityError);
    const badSum = encodeManifestBody({ ...body, size: body.size + 1 });
    expect(() => decodeManifestBody(badSum)).toThrow('sum of its parts');
    const unordered = encodeManifestBody({ ...body, parts: [body.parts[1]!, body.parts[0]!], size: body.size });
    expect(() => decodeManifestBody(unordered)).toThrow('ascending');
  });

  it('does not open under another blob id or once a byte of its body changed', async () => {
    expect(() => readSealedMetadata(sealed, key, 'm2')).toThrow(IntegrityError);
    const altered = Buffer.from(sealed);
    altered.writeUInt8(altered.readUInt8(HEADER_SIZE + 3) ^ 1, HEADER_SIZE + 3);
    await expect(openBuffer(key, id, altered, plaintext.length)).rejects.toThrow(IntegrityError);
  });
});
