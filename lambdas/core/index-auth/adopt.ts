// Every row of an index, walked partition by partition (the index port has queries, not scans): for adopting an
// index written before rows were authenticated, once, when its owner says its rows are what they should be.
import { walk, walkGsi1 } from '../index-walk';
import type { IndexItem, RecordIndex } from '../ports';
import type { AuthenticatedIndex } from './authenticated-index';
import type { IndexKey } from './index-key';
import { BUCKETS_GSI1PK, bucketFromItem, LEGACY_BUCKETS_PK, ledgerPartitions, manifestPk, objectsPk, uploadPartsPk, uploadsPk, versionsPk } from '../records';
import { ACCESS_KEYS_PK } from '../access-keys';
import { ACTIVE_PK, KEYS_PK } from '../key-lifecycle/key-state';
import { LEASE_PK } from '../key-lifecycle/lease';

function partition(index: RecordIndex, pk: string): AsyncIterable<IndexItem> {
  return walk(index, pk);
}

/** Rows of the raw index: top-level partitions, then each bucket's objects and uploads, their manifests and parts. */
export async function* everyRow(index: RecordIndex): AsyncGenerator<IndexItem> {
  for (const pk of [KEYS_PK, ACTIVE_PK, ACCESS_KEYS_PK, LEASE_PK]) yield* partition(index, pk);
  for (const ledger of ledgerPartitions()) yield* ledgerRows(index, ledger);
  for await (const bucket of partition(index, LEGACY_BUCKETS_PK)) yield* bucketRows(index, bucket);
  for await (const bucket of walkGsi1(index, BUCKETS_GSI1PK)) yield* bucketRows(index, bucket);
}

async function* ledgerRows(index: RecordIndex, pk: string): AsyncGenerator<IndexItem> {
  for await (const entry of partition(index, pk)) {
    yield entry;
    // A replaced many-part object's manifest, waiting for the sweep: its chunks are rows too.
    const objectId = entry.attrs['objectId'];
    if (entry.attrs['kind'] === 'manifest' && typeof objectId === 'string') yield* partition(index, manifestPk(objectId));
  }
}

/** A bucket's row, then its objects and uploads with their manifests and parts. */
async function* bucketRows(index: RecordIndex, bucket: IndexItem): AsyncGenerator<IndexItem> {
  yield bucket;
  const name = bucketFromItem(bucket).name;
  for await (const object of partition(index, objectsPk(name))) {
    yield object;
    const objectId = object.attrs['objectId'];
    if (typeof object.attrs['manifestChunks'] === 'number' && typeof objectId === 'string') yield* partition(index, manifestPk(objectId));
    // A key's noncurrent versions, with their own manifests.
    const noncurrent = object.attrs['noncurrent'];
    if (typeof noncurrent === 'number' && noncurrent > 0) {
      for await (const version of partition(index, versionsPk(name, object.sk))) {
        yield version;
        const versionObjectId = version.attrs['objectId'];
        if (typeof version.attrs['manifestChunks'] === 'number' && typeof versionObjectId === 'string') yield* partition(index, manifestPk(versionObjectId));
      }
    }
  }
  for await (const upload of partition(index, uploadsPk(name))) {
    yield upload;
    const uploadId = upload.attrs['uploadId'];
    if (typeof uploadId === 'string') {
      yield* partition(index, uploadPartsPk(uploadId));
      // A completion that stopped after writing manifest chunks for the upload's object id.
      const objectId = upload.attrs['objectId'];
      if (typeof objectId === 'string') yield* partition(index, manifestPk(objectId));
    }
  }
}

/**
 * `--seal-index`: takes every row of `raw` as it stands and MACs it (creating the index key if there is none).
 * Only for an index its owner trusts: what is in it now, forged or not, is authentic afterwards.
 */
export async function adoptExistingRows(raw: RecordIndex, key: IndexKey, index: AuthenticatedIndex): Promise<number> {
  await key.createForAdoption();
  return index.sealRows(everyRow(raw));
}
