// Fixed numbers of the sealed format (versions 1 and 2): sizes, limits and the labels that separate derived keys.

/** Version 1: header and frames only. Still opened; written only for its published test vectors. */
export const FORMAT_VERSION_1 = 1;
/** Version 2: version 1's layout plus a sealed metadata record after the last frame (docs/FORMAT.md §14). */
export const FORMAT_VERSION_2 = 2;
/** The version the service writes. */
export const FORMAT_VERSION = FORMAT_VERSION_2;
/**
 * The object MAC (§9) keeps its version-1 construction whatever the parts' versions: one object may hold parts
 * of both (a multipart upload begun before an upgrade), and the index of existing objects holds MACs made so.
 */
export const OBJECT_MAC_VERSION = 1;
/** Magic bytes opening every sealed part: "SLSF" (sealstore sealed format). */
export const MAGIC = Buffer.from('SLSF', 'ascii');
/** Suite id 1 = AES-256-GCM frames, HKDF-SHA256 part keys, 96-bit counter nonces, 128-bit tags. */
export const SUITE_AES256_GCM_HKDF_SHA256 = 1;

export const SALT_SIZE = 32;
export const COMMITMENT_SIZE = 32;
export const KEY_SIZE = 32;
export const NONCE_SIZE = 12;
export const TAG_SIZE = 16;
export const OBJECT_MAC_SIZE = 32;

/** magic(4) version(1) suite(1) reserved(2) frameSize(4) salt(32) commitment(32). */
export const HEADER_PREFIX_SIZE = 12;
export const HEADER_SIZE = HEADER_PREFIX_SIZE + SALT_SIZE + COMMITMENT_SIZE;

export const DEFAULT_FRAME_SIZE = 64 * 1024;
/** Tiny frames are allowed so that tamper corpora stay cheap; production uses the default. */
export const MIN_FRAME_SIZE = 16;
/** The opener holds one frame of plaintext in memory; this bounds it. */
export const MAX_FRAME_SIZE = 16 * 1024 * 1024;

export const MIN_PART_NUMBER = 1;
export const MAX_PART_NUMBER = 10000;
/**
 * The part number of a multipart object's completion manifest (§14.6): just past the real parts, so its identity,
 * keys and record can never be those of a part, and no request can name it (S3 part numbers stop at 10,000).
 */
export const MANIFEST_PART_NUMBER = MAX_PART_NUMBER + 1;
/** S3's own bound on a single PUT or a single part. */
export const MAX_PART_SIZE = 5 * 1024 * 1024 * 1024;
/** Frame indices are 32-bit in practice (nonce and AAD carry 64 bits); MAX_PART_SIZE / MIN_FRAME_SIZE stays below. */
export const MAX_FRAMES_PER_PART = 2 ** 32;
/** 10,000 parts of at most 5 GiB; the service may impose a smaller bound. */
export const MAX_OBJECT_SIZE = MAX_PART_NUMBER * MAX_PART_SIZE;
/** UTF-8 length bound for bucket and objectId (length-prefixed with 16 bits). */
export const MAX_NAME_BYTES = 4096;

/** HKDF / HMAC labels: each derived value has its own, so no two can ever coincide. */
export const LABEL_PART_KEY = 'sealstore/format/v1/part-key';
export const LABEL_COMMITMENT = 'sealstore/format/v1/commitment';
export const LABEL_OBJECT_MAC_KEY = 'sealstore/format/v1/object-mac-key';
export const LABEL_OBJECT_MAC = 'sealstore/format/v1/object-mac';
/** Version 2's metadata record: its AES-256-GCM key and the label opening its AAD. */
export const LABEL_RECORD_KEY = 'sealstore/format/v2/record-key';
export const LABEL_RECORD_AAD = 'sealstore/format/v2/record';

/** The record's own layout number, first byte of its plaintext (a new field list bumps it, not the format). */
export const RECORD_LAYOUT = 1;
/** trailer = locator || ciphertext || tag || u32 trailerLength; the u32 closes the blob. */
export const TRAILER_LENGTH_SIZE = 4;
/** Bounds what a reader will take from the last four bytes (user metadata is at most 2 KB in S3). */
export const MAX_TRAILER_SIZE = 1024 * 1024;
