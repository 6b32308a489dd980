// The sealed object format (docs/FORMAT.md): a versioned, framed, key-committing streaming AEAD over AES-256-GCM.
export {
  DEFAULT_FRAME_SIZE,
  FORMAT_VERSION,
  FORMAT_VERSION_1,
  FORMAT_VERSION_2,
  HEADER_SIZE,
  MAX_FRAME_SIZE,
  MAX_FRAMES_PER_PART,
  MAX_OBJECT_SIZE,
  MANIFEST_PART_NUMBER,
  MAX_PART_NUMBER,
  MAX_PART_SIZE,
  MAX_TRAILER_SIZE,
  MIN_FRAME_SIZE,
  OBJECT_MAC_SIZE,
  SALT_SIZE,
  TAG_SIZE,
} from './constants';
export type { PartIdentity } from './identity';
export { parseHeader, type FormatVersion, type ParsedHeader } from './header';
export { sealedRangeFor, sealedSize, type PlaintextRange, type SealedRange } from './geometry';
export { createSealer, sealBuffer, Sealer, type SealedPartSummary, type SealOptions } from './sealer';
export { createOpener, openBuffer, Opener, type OpenOptions } from './opener';
export { computeObjectMac, verifyObjectMac, type PartDigestInput } from './object-mac';
export {
  openSealedTrailer,
  readSealedMetadata,
  type RecordInput,
  type SealedMetadata,
  type SealedRecordFields,
} from './record';
export { decodeManifestBody, encodeManifestBody, type ManifestBody, type ManifestPart } from './manifest-body';
