// Delete markers as record-only blobs (docs/FORMAT.md §14.9): a marker gets a data key and an object id of its own
// and is sealed as part 1 of that object with an empty body, so an index rebuilt from the blobs restores it instead
// of bringing the deleted key back as current. One key-vault call per marker, as for a PUT.
import { Readable } from 'node:stream';
import type { Buckets } from './buckets';
import { newObjectId } from './ids';
import { nameTag } from './name-binding';
import { writePendingPart, type PartRecordFields, type PendingPartDeps } from './part-writer';
import type { KeyVault } from './ports';
import type { DeleteMarkerRecord } from './records';
import { blobMetadata, dataKeyContext } from './sealing-context';
import { NULL_VERSION_ID } from './version-ids';
import { chooseWriteKey, type WriteKeys } from './write-keys';

export interface MarkerWriterDeps extends PendingPartDeps {
  readonly vault: KeyVault;
  readonly keys: WriteKeys;
  readonly buckets: Buckets;
}

/** The marker version to seal: its id ('null' when Suspended), its sort key, and the time it was minted at. */
export interface MarkerVersion {
  readonly bucket: string;
  readonly key: string;
  readonly versionId: string;
  readonly vk: string;
  readonly at: Date;
}

export class MarkerWriter {
  constructor(private readonly d: MarkerWriterDeps) {}

  /**
   * Seals the marker's blob (pending in the ledger) and hands the marker to `commit`, whose transaction must consume
   * that pending entry (its blob id). If `commit` throws, the blob is discarded unless the commit landed
   * (writePendingPart). The CMK is chosen as for a write without a requested key: the bucket default, else the active one.
   */
  async write<T>(m: MarkerVersion, commit: (marker: DeleteMarkerRecord, blobId: string) => Promise<T>): Promise<T> {
    const bucket = await this.d.buckets.head(m.bucket);
    const choice = await chooseWriteKey(this.d.keys, bucket, undefined);
    const objectId = newObjectId();
    const dataKey = await this.d.vault.generateDataKey(choice.keyId, dataKeyContext(m.bucket, objectId));
    try {
      const wrapped = { bucket: m.bucket, objectId, keyId: dataKey.keyId, keyMaterialId: dataKey.keyMaterialId, wrappedKey: dataKey.wrapped };
      const fields: PartRecordFields = () => ({
        kind: 'marker',
        key: m.key,
        // The format's null version is ''.
        versionId: m.versionId === NULL_VERSION_ID ? '' : m.versionId,
        uploadId: '',
        partCount: 1,
        contentType: '',
        headers: {},
        userMetadata: {},
        createdAt: m.at,
        writtenAt: this.d.now(),
        keyChosen: choice.chosen,
      });
      const id = { bucket: m.bucket, objectId, partNumber: 1 };
      const owner = { bucket: m.bucket, key: m.key, objectId };
      return await writePendingPart(this.d, owner, dataKey.plaintext, id, () => Readable.from([]), blobMetadata(wrapped, 1), fields, (part) => {
        const marker: DeleteMarkerRecord = {
          deleteMarker: true,
          bucket: m.bucket,
          key: m.key,
          versionId: m.versionId,
          vk: m.vk,
          lastModified: m.at,
          sealed: {
            objectId,
            keyId: dataKey.keyId,
            keyMaterialId: dataKey.keyMaterialId,
            wrappedKey: dataKey.wrapped,
            wrappedAt: this.d.now(),
            blobId: part.blobId,
            nameTag: markerNameTag(dataKey.plaintext, m.bucket, m.key, objectId, m.versionId),
            ...(choice.chosen ? { keyChosen: true } : {}),
          },
        };
        return commit(marker, part.blobId);
      });
    } finally {
      dataKey.plaintext.fill(0);
    }
  }
}

/** A marker's name tag: v2 binding over its bucket, key, object id and version id ('null' for a null marker). */
export function markerNameTag(dataKey: Buffer, bucket: string, key: string, objectId: string, versionId: string): Buffer {
  return nameTag(dataKey, bucket, key, objectId, versionId);
}
