// Known-answer tests: the library and an independent from-the-spec implementation both reproduce docs/format-vectors.json.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  computeObjectMac,
  FORMAT_VERSION_1,
  FORMAT_VERSION_2,
  openBuffer,
  parseHeader,
  readSealedMetadata,
  sealBuffer,
  verifyObjectMac,
} from '../../lambdas/core/format';
import { referenceObjectMac, referenceSeal, referenceSealV2 } from './reference';
import { v2Fields, type VectorRecord } from './vector-fields';
import { VECTOR_INPUTS, VECTOR_INPUTS_V2, vectorSalt } from './vector-inputs';

interface VectorPart {
  partNumber: number;
  plaintext: string;
  salt: string;
  partKey: string;
  commitment: string;
  firstFrameAad: string;
  header: string;
  sealed: string;
  sealedSize: number;
}
interface VectorPartV2 extends VectorPart {
  blobId: string;
  record: VectorRecord;
  recordKey: string;
  recordAad: string;
  recordPlaintext: string;
  trailer: string;
}
interface VectorFile {
  formatVersion: number;
  dataKey: string;
  bucket: string;
  objectId: string;
  frameSize: number;
  parts: VectorPart[];
  object: { parts: { partNumber: number; plaintextSize: number }[]; macKey: string; mac: string };
  version2: { formatVersion: number; parts: VectorPartV2[] };
}

const vectors = JSON.parse(readFileSync(join(__dirname, '../../docs/format-vectors.json'), 'utf8')) as VectorFile;
const dataKey = Buffer.from(vectors.dataKey, 'hex');
const hex = (b: Buffer): string => b.toString('hex');

describe('format test vectors (docs/format-vectors.json)', () => {
  it('are built from the documented inputs', () => {
    expect(vectors.formatVersion).toBe(FORMAT_VERSION_1);
    expect(vectors.dataKey).toBe(hex(VECTOR_INPUTS.dataKey));
    expect(vectors.parts.map((p) => p.plaintext)).toEqual(VECTOR_INPUTS.parts.map((p) => p.plaintextHex));
    expect(vectors.parts.map((p) => p.salt)).toEqual(VECTOR_INPUTS.parts.map((p) => hex(vectorSalt(p.partNumber))));
    expect(vectors.parts.map((p) => p.plaintext.length / 2)).toEqual(expect.arrayContaining([0, 1, vectors.frameSize + 1]));
  });

  describe.each(vectors.parts.map((p) => [p.partNumber, p] as const))('part %i', (_n, part) => {
    const id = { bucket: vectors.bucket, objectId: vectors.objectId, partNumber: part.partNumber };
    const plaintext = Buffer.from(part.plaintext, 'hex');
    const salt = Buffer.from(part.salt, 'hex');

    it('seals to the published bytes', () => {
      const { sealed, summary } = sealBuffer(dataKey, id, plaintext, { frameSize: vectors.frameSize, salt });
      expect(hex(sealed)).toBe(part.sealed);
      expect(hex(summary.header)).toBe(part.header);
      expect(summary.sealedSize).toBe(part.sealedSize);
    });

    it('matches the independent reference implementation, intermediate values included', () => {
      const reference = referenceSeal(dataKey, salt, id.bucket, id.objectId, id.partNumber, vectors.frameSize, plaintext);
      expect(hex(reference.partKey)).toBe(part.partKey);
      expect(hex(reference.commitment)).toBe(part.commitment);
      expect(hex(reference.firstFrameAad)).toBe(part.firstFrameAad);
      expect(hex(reference.sealed)).toBe(part.sealed);
    });

    it('parses and opens the published bytes', async () => {
      const sealed = Buffer.from(part.sealed, 'hex');
      expect(parseHeader(sealed)).toEqual({ version: 1, frameSize: vectors.frameSize, salt, commitment: Buffer.from(part.commitment, 'hex') });
      expect(hex(await openBuffer(dataKey, id, sealed, plaintext.length))).toBe(part.plaintext);
    });
  });

  it('reproduces the published object MAC', () => {
    const parts = vectors.parts.map((p) => ({ partNumber: p.partNumber, plaintextSize: p.plaintext.length / 2, header: Buffer.from(p.header, 'hex') }));
    expect(vectors.object.parts).toEqual(parts.map(({ partNumber, plaintextSize }) => ({ partNumber, plaintextSize })));
    expect(hex(computeObjectMac(dataKey, vectors.bucket, vectors.objectId, parts))).toBe(vectors.object.mac);
    const reference = referenceObjectMac(dataKey, vectors.bucket, vectors.objectId, parts);
    expect(hex(reference.macKey)).toBe(vectors.object.macKey);
    expect(hex(reference.mac)).toBe(vectors.object.mac);
    expect(() => verifyObjectMac(dataKey, vectors.bucket, vectors.objectId, parts, Buffer.from(vectors.object.mac, 'hex'))).not.toThrow();
  });

  it('are the ones printed in docs/FORMAT.md', () => {
    const spec = readFileSync(join(__dirname, '../../docs/FORMAT.md'), 'utf8').replace(/\s+/g, '');
    for (const part of vectors.parts) {
      for (const value of [part.sealed, part.partKey, part.commitment, part.firstFrameAad]) expect(spec).toContain(value);
    }
    expect(spec).toContain(vectors.object.mac);
    expect(spec).toContain(vectors.object.macKey);
  });
});

describe('format version 2 test vectors (docs/format-vectors.json, "version2")', () => {
  const v2 = vectors.version2;

  it('are built from the documented inputs', () => {
    expect(v2.formatVersion).toBe(FORMAT_VERSION_2);
    expect(v2.parts.map((p) => [p.plaintext, p.blobId, p.record])).toEqual(VECTOR_INPUTS_V2.parts.map((p) => [p.plaintextHex, p.blobId, p.record]));
  });

  describe.each(v2.parts.map((p) => [p.partNumber, p] as const))('part %i', (_n, part) => {
    const id = { bucket: vectors.bucket, objectId: vectors.objectId, partNumber: part.partNumber };
    const plaintext = Buffer.from(part.plaintext, 'hex');
    const salt = Buffer.from(part.salt, 'hex');
    const sealed = Buffer.from(part.sealed, 'hex');

    it('seals to the published bytes, trailer last', () => {
      const record = { blobId: part.blobId, fields: () => v2Fields(part.record) };
      const { sealed: ours, summary } = sealBuffer(dataKey, id, plaintext, { frameSize: vectors.frameSize, salt, record });
      expect(hex(ours)).toBe(part.sealed);
      expect(summary.sealedSize).toBe(part.sealedSize);
      expect(part.sealed.endsWith(part.trailer)).toBe(true);
    });

    it('matches the independent reference implementation, intermediate values included', () => {
      const reference = referenceSealV2(dataKey, salt, id.bucket, id.objectId, id.partNumber, vectors.frameSize, plaintext, part.blobId, part.record);
      expect(hex(reference.partKey)).toBe(part.partKey);
      expect(hex(reference.commitment)).toBe(part.commitment);
      expect(hex(reference.firstFrameAad)).toBe(part.firstFrameAad);
      expect(hex(reference.recordKey)).toBe(part.recordKey);
      expect(hex(reference.recordAad)).toBe(part.recordAad);
      expect(hex(reference.recordPlaintext)).toBe(part.recordPlaintext);
      expect(hex(reference.sealed)).toBe(part.sealed);
    });

    it('opens the published bytes: frames, and the record from the blob alone', async () => {
      expect(parseHeader(sealed).version).toBe(FORMAT_VERSION_2);
      expect(hex(await openBuffer(dataKey, id, sealed, plaintext.length))).toBe(part.plaintext);
      const meta = readSealedMetadata(sealed, dataKey, part.blobId);
      expect(meta).toMatchObject({ ...v2Fields(part.record), ...id, plaintextSize: plaintext.length, blobSize: sealed.length });
    });
  });

  it('leave version 1 opening as before: every version-1 vector still opens', async () => {
    for (const part of vectors.parts) {
      const id = { bucket: vectors.bucket, objectId: vectors.objectId, partNumber: part.partNumber };
      expect(hex(await openBuffer(dataKey, id, Buffer.from(part.sealed, 'hex'), part.plaintext.length / 2))).toBe(part.plaintext);
    }
  });

  it('are the ones printed in docs/FORMAT.md', () => {
    const spec = readFileSync(join(__dirname, '../../docs/FORMAT.md'), 'utf8').replace(/\s+/g, '');
    for (const part of v2.parts) {
      for (const value of [part.sealed, part.recordKey, part.recordPlaintext, part.commitment]) expect(spec).toContain(value);
    }
  });
});
