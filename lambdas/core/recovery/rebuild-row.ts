// From an opened blob to the index row the write path would have made: the same record builders' inputs, and the
// keyed values (ETag, name tag, object MAC, sealed checksums) computed from the data key while it is open.
import type { Readable } from 'node:stream';
import type { OpenedBlob } from '../blob-record';
import { BlobNotFoundError, IntegrityError } from '../errors';
import { sealedEtag } from '../etag';
import { computeObjectMac, decodeManifestBody, HEADER_SIZE, MANIFEST_PART_NUMBER, openBuffer, type SealedMetadata } from '../format';
import { nameTag } from '../name-binding';
import { sealChecksum, type StoredChecksum } from '../object-checksum';
import type { BlobStore } from '../ports';
import { isVersionKey, legacyVersionKey, NULL_VERSION_ID } from '../version-ids';
import { markerNameTag } from '../marker-writer';
import { STORED_HEADER_NAMES, type DeleteMarkerRecord, type ObjectRecord, type PartRecord, type StoredHeaderName, type StoredHeaders } from '../records';

async function bytesOf(stream: Readable): Promise<Buffer> {
  const pieces: Buffer[] = [];
  for await (const piece of stream) pieces.push(piece as Buffer);
  return Buffer.concat(pieces);
}

function storedHeaders(m: Readonly<Record<string, string>>): StoredHeaders {
  const out: Partial<Record<StoredHeaderName, string>> = {};
  for (const name of STORED_HEADER_NAMES) if (m[name] !== undefined) out[name] = m[name];
  return out;
}

function storedChecksum(r: SealedMetadata): StoredChecksum | undefined {
  const c = r.checksum;
  if (c === undefined) return undefined;
  if (c.type !== 'FULL_OBJECT' && c.type !== 'COMPOSITE') throw new IntegrityError(`record names checksum type ${c.type}`);
  return { algorithm: c.algorithm, value: c.value, type: c.type };
}

/** What both kinds share: the object's name, metadata and key, as the record and the vault said. */
function baseRecord(opened: OpenedBlob, dataKey: Buffer): Omit<ObjectRecord, 'size' | 'etag' | 'parts' | 'mac'> {
  const r = opened.record;
  const checksum = storedChecksum(r);
  // A version written while its bucket had versioning Enabled carries its id (= its sort key); '' is the null version.
  const versionId = r.versionId === '' ? undefined : r.versionId;
  if (versionId !== undefined && !isVersionKey(versionId)) throw new IntegrityError(`record names version id ${JSON.stringify(versionId)}, not one this store makes`);
  return {
    bucket: r.bucket,
    key: r.key,
    objectId: r.objectId,
    contentType: r.contentType,
    headers: storedHeaders(r.headers),
    userMetadata: r.userMetadata,
    // The write path's LastModified is its commit, a moment after the record's writtenAt; recovery has only this.
    lastModified: r.writtenAt,
    keyId: opened.keyId,
    keyMaterialId: opened.keyMaterialId,
    wrappedKey: opened.wrappedKey,
    wrappedAt: r.writtenAt,
    nameTag: nameTag(dataKey, r.bucket, r.key, r.objectId, versionId),
    ...(versionId !== undefined ? { versionId, vk: versionId } : {}),
    ...(r.keyChosen ? { keyChosen: true } : {}),
    ...(checksum ? { sealedChecksum: sealChecksum(dataKey, { objectId: r.objectId }, checksum) } : {}),
  };
}

/** A single-part object (PUT, copy): its one blob is its one part (object-writer.ts builds the same row). */
export function singlePartObject(opened: OpenedBlob, dataKey: Buffer, blobId: string): ObjectRecord {
  const r = opened.record;
  if (r.partNumber !== 1 || r.partCount !== 1) throw new IntegrityError(`blob ${blobId} is an object record of part ${r.partNumber} of ${r.partCount}`);
  const part: PartRecord = { partNumber: 1, blobId, plaintextSize: r.plaintextSize, sealedSize: r.blobSize, header: r.header, etag: sealedEtag(dataKey, r.tagDigest) };
  return { ...baseRecord(opened, dataKey), size: r.plaintextSize, etag: part.etag, parts: [part], mac: computeObjectMac(dataKey, r.bucket, r.objectId, [part]) };
}

/**
 * A multipart object from its completion manifest (multipart.ts#commitUpload builds the same row). Every part the
 * manifest names must still be there with the header it recorded (one 76-byte read each): a part missing or altered
 * would make the object unreadable, so it is not restored and the manifest is reported instead.
 */
export async function multipartObject(blobs: BlobStore, opened: OpenedBlob, dataKey: Buffer, blobId: string): Promise<ObjectRecord> {
  const r = opened.record;
  const sealed = await bytesOf(await blobs.get(blobId));
  const body = decodeManifestBody(await openBuffer(dataKey, { bucket: r.bucket, objectId: r.objectId, partNumber: MANIFEST_PART_NUMBER }, sealed, r.plaintextSize));
  if (body.parts.length !== r.partCount) throw new IntegrityError(`manifest ${blobId} lists ${body.parts.length} parts, its record ${r.partCount}`);
  for (const p of body.parts) {
    let header: Buffer;
    try {
      header = await bytesOf(await blobs.get(p.blobId, { start: 0, end: HEADER_SIZE - 1 }));
    } catch (e) {
      if (e instanceof BlobNotFoundError) throw new IntegrityError(`part ${p.partNumber} (blob ${p.blobId}) of the object is missing`);
      throw e;
    }
    if (!header.equals(p.header)) throw new IntegrityError(`part ${p.partNumber} (blob ${p.blobId}) of the object was altered (its header is not the one the completion recorded)`);
  }
  const parts: PartRecord[] = body.parts.map((p) => ({ ...p }));
  return {
    ...baseRecord(opened, dataKey),
    size: body.size,
    etag: body.etag,
    parts,
    mac: computeObjectMac(dataKey, r.bucket, r.objectId, parts),
    manifestBlobId: blobId,
  };
}

/**
 * A delete marker from its record-only blob (marker-writer.ts builds the same row): its version id ('' in the record:
 * the null marker, written while Suspended), its sort key (an Enabled marker's id; a null marker's from its record's
 * createdAt, the time it was minted at, as a null write's is derived when no id is sealed) and its blob.
 */
export function deleteMarker(opened: OpenedBlob, dataKey: Buffer, blobId: string): DeleteMarkerRecord {
  const r = opened.record;
  if (r.partNumber !== 1 || r.partCount !== 1 || r.plaintextSize !== 0) throw new IntegrityError(`blob ${blobId} is a marker record of part ${r.partNumber} with ${r.plaintextSize} bytes`);
  if (r.versionId !== '' && !isVersionKey(r.versionId)) throw new IntegrityError(`record names version id ${JSON.stringify(r.versionId)}, not one this store makes`);
  const versionId = r.versionId === '' ? NULL_VERSION_ID : r.versionId;
  return {
    deleteMarker: true,
    bucket: r.bucket,
    key: r.key,
    versionId,
    vk: versionId === NULL_VERSION_ID ? legacyVersionKey(r.createdAt, r.objectId) : versionId,
    lastModified: r.createdAt,
    sealed: {
      objectId: r.objectId,
      keyId: opened.keyId,
      keyMaterialId: opened.keyMaterialId,
      wrappedKey: opened.wrappedKey,
      wrappedAt: r.writtenAt,
      blobId,
      nameTag: markerNameTag(dataKey, r.bucket, r.key, r.objectId, versionId),
      ...(r.keyChosen ? { keyChosen: true } : {}),
    },
  };
}
