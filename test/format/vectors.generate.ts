// Regenerates docs/format-vectors.json (npx tsx test/format/vectors.generate.ts). Only run when the format
// version changes: the vectors are a published contract, and vectors.test.ts checks them byte for byte.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { computeObjectMac, FORMAT_VERSION_1, sealBuffer } from '../../lambdas/core/format';
import { referenceObjectMac, referenceSeal, referenceSealV2 } from './reference';
import { v2Fields } from './vector-fields';
import { VECTOR_INPUTS, VECTOR_INPUTS_V2, vectorSalt } from './vector-inputs';

const { dataKey, bucket, objectId, frameSize, parts } = VECTOR_INPUTS;
const sealedParts = parts.map((part) => {
  const plaintext = Buffer.from(part.plaintextHex, 'hex');
  const salt = vectorSalt(part.partNumber);
  const id = { bucket, objectId, partNumber: part.partNumber };
  const { sealed, summary } = sealBuffer(dataKey, id, plaintext, { frameSize, salt });
  const reference = referenceSeal(dataKey, salt, bucket, objectId, part.partNumber, frameSize, plaintext);
  if (!reference.sealed.equals(sealed)) throw new Error(`reference and library disagree on part ${part.partNumber}`);
  return {
    description: part.description,
    partNumber: part.partNumber,
    plaintext: part.plaintextHex,
    salt: salt.toString('hex'),
    partKey: reference.partKey.toString('hex'),
    commitment: reference.commitment.toString('hex'),
    firstFrameNonce: '000000000000000000000000',
    firstFrameAad: reference.firstFrameAad.toString('hex'),
    header: summary.header.toString('hex'),
    sealed: sealed.toString('hex'),
    sealedSize: summary.sealedSize,
  };
});
const digestInputs = sealedParts.map((p) => ({
  partNumber: p.partNumber,
  plaintextSize: p.plaintext.length / 2,
  header: Buffer.from(p.header, 'hex'),
}));
const mac = computeObjectMac(dataKey, bucket, objectId, digestInputs);
const reference = referenceObjectMac(dataKey, bucket, objectId, digestInputs);
if (!reference.mac.equals(mac)) throw new Error('reference and library disagree on the object MAC');

const version2Parts = VECTOR_INPUTS_V2.parts.map((part) => {
  const plaintext = Buffer.from(part.plaintextHex, 'hex');
  const salt = vectorSalt(part.partNumber);
  const id = { bucket, objectId, partNumber: part.partNumber };
  const { sealed, summary } = sealBuffer(dataKey, id, plaintext, { frameSize, salt, record: { blobId: part.blobId, fields: () => v2Fields(part.record) } });
  const reference = referenceSealV2(dataKey, salt, bucket, objectId, part.partNumber, frameSize, plaintext, part.blobId, part.record);
  if (!reference.sealed.equals(sealed)) throw new Error(`reference and library disagree on version-2 part ${part.partNumber}`);
  return {
    description: part.description,
    partNumber: part.partNumber,
    plaintext: part.plaintextHex,
    blobId: part.blobId,
    record: part.record,
    salt: salt.toString('hex'),
    partKey: reference.partKey.toString('hex'),
    commitment: reference.commitment.toString('hex'),
    firstFrameAad: reference.firstFrameAad.toString('hex'),
    recordKey: reference.recordKey.toString('hex'),
    recordAad: reference.recordAad.toString('hex'),
    recordPlaintext: reference.recordPlaintext.toString('hex'),
    trailer: reference.trailer.toString('hex'),
    header: summary.header.toString('hex'),
    sealed: sealed.toString('hex'),
    sealedSize: summary.sealedSize,
  };
});

const document = {
  description: 'Known-answer vectors of the sealstore sealed object format; see docs/FORMAT.md.',
  formatVersion: FORMAT_VERSION_1,
  dataKey: dataKey.toString('hex'),
  bucket,
  objectId,
  frameSize,
  parts: sealedParts,
  object: {
    description: 'object MAC over all parts above, in ascending part number order',
    parts: sealedParts.map((p) => ({ partNumber: p.partNumber, plaintextSize: p.plaintext.length / 2 })),
    macKey: reference.macKey.toString('hex'),
    mac: mac.toString('hex'),
  },
  version2: {
    description: 'Format version 2 (docs/FORMAT.md §14): same data key, bucket, objectId and frame size; frames as version 1 with version byte 2, then the sealed metadata record.',
    formatVersion: 2,
    parts: version2Parts,
  },
};
writeFileSync(join(__dirname, '../../docs/format-vectors.json'), `${JSON.stringify(document, null, 2)}\n`);
