// Rewraps one object's data key with KMS ReEncrypt: the plaintext key never leaves the vault and the body
// is not rewritten. Order is what makes a crash harmless: blob copies first, index last (see docs/KEY-LIFECYCLE.md).
import { BlobNotFoundError, ConditionFailedError } from '../errors';
import { blobMetadata, dataKeyContext, formatVersionOf } from '../sealing-context';
import type { BlobStore, IndexItem, KeyVault, RecordIndex } from '../ports';
import { FORMAT_VERSION, MANIFEST_PART_NUMBER } from '../format';
import { loadParts } from '../manifest';
import { anyVersionFromItem, isDeleteMarker, rowAt, type DeleteMarkerRecord, type ObjectRecord } from '../records';

/** Fault-injection seams for the crash tests; production passes none. */
export interface RewrapHooks {
  /** Runs after every part blob carries the new wrap and before the index does. */
  afterBlobMetadata?(record: ObjectRecord): Promise<void>;
}

export interface RewrapDeps {
  readonly vault: KeyVault;
  readonly blobs: BlobStore;
  readonly index: RecordIndex;
  readonly now: () => Date;
  readonly hooks?: RewrapHooks;
}

/** rewrapped: both copies moved; gone: the object was replaced or deleted meanwhile (nothing to do). */
export type RewrapOutcome = 'rewrapped' | 'gone';

/** Whether an object item's data key is already wrapped under the destination's current material. */
export function isCurrent(item: IndexItem, destinationKeyId: string, destinationMaterialId: string | undefined): boolean {
  return item.attrs['keyId'] === destinationKeyId && destinationMaterialId !== undefined && item.attrs['keyMaterialId'] === destinationMaterialId;
}

/**
 * Invariant: until the index says an object is off a CMK, every copy of its wrapped key that might still
 * name that CMK is counted under it, so the lifecycle never schedules deletion of a CMK a copy needs.
 * 1. ReEncrypt (old wrap stays valid: the old CMK is not deleted while the index names it).
 * 2. Blob metadata of every part → new wrap. A crash here leaves blobs on the new wrap, index on the old:
 *    both open, and the next run rewraps again from the index.
 * 3. Index → new wrap, conditional on the same object (a PUT or DELETE in between wins; we report 'gone'); for a
 *    versioned key's latest entry, on the same revision, which the rewrap bumps.
 */
export async function rewrapObject(deps: RewrapDeps, item: IndexItem, destinationKeyId: string): Promise<RewrapOutcome> {
  const version = anyVersionFromItem(item);
  if (isDeleteMarker(version)) return rewrapMarker(deps, item, version, destinationKeyId);
  // A part list in manifest chunks (over 64 parts) is loaded: every part blob carries a copy of the wrapped key.
  const record = await loadParts(deps.index, version);
  const moved = await deps.vault.reEncrypt(record.wrappedKey, dataKeyContext(record.bucket, record.objectId), destinationKeyId);
  const next: ObjectRecord = {
    ...record,
    keyId: moved.keyId,
    keyMaterialId: moved.keyMaterialId,
    wrappedKey: moved.wrapped,
    wrappedAt: deps.now(),
    // A key's latest entry in a versioned bucket: a change like any other (+1 revision), so a versioned commit that
    // read the entry before the rewrap fails its condition and re-reads, instead of writing the old wrap back.
    ...(record.latest ? { latest: { ...record.latest, rev: record.latest.rev + 1 } } : {}),
  };
  // The completion manifest carries the same wrapped key: it moves with the parts, or a rebuild could not open it.
  // Each blob's format hint stays its own: a part's header says it; a manifest is always written in the current format.
  const blobs = [
    ...record.parts.map((p) => ({ blobId: p.blobId, partNumber: p.partNumber, format: formatVersionOf(p.header) })),
    ...(record.manifestBlobId === undefined ? [] : [{ blobId: record.manifestBlobId, partNumber: MANIFEST_PART_NUMBER, format: FORMAT_VERSION }]),
  ];
  for (const part of blobs) {
    try {
      await deps.blobs.replaceMetadata(part.blobId, blobMetadata(next, part.partNumber, part.format));
    } catch (e) {
      // The blob went with a concurrent overwrite or delete; the index write below would fail too.
      if (e instanceof BlobNotFoundError) return 'gone';
      throw e;
    }
  }
  await deps.hooks?.afterBlobMetadata?.(next);
  try {
    // Written back where it stands (a latest entry, or a noncurrent version's row): a version that moved between the
    // read and this write fails the condition there and is rewrapped by a later pass from its new place.
    const unchanged = record.latest ? { kind: 'equals' as const, attr: 'rev', value: record.latest.rev } : { kind: 'equals' as const, attr: 'objectId', value: record.objectId };
    await deps.index.put(rowAt(item, next), unchanged);
  } catch (e) {
    if (e instanceof ConditionFailedError) return 'gone';
    throw e;
  }
  return 'rewrapped';
}

/**
 * A sealed delete marker's row (it has a gsi1 entry under its CMK like an object): the same three steps, for its one
 * record-only blob. Conditional on the wrap as read (a marker row only changes by rewrap or by leaving), or on the
 * revision for a key's latest entry, which the rewrap bumps.
 */
async function rewrapMarker(deps: RewrapDeps, item: IndexItem, marker: DeleteMarkerRecord, destinationKeyId: string): Promise<RewrapOutcome> {
  const seal = marker.sealed;
  if (seal === undefined) return 'gone'; // an index-only marker has no gsi1 entry; nothing is wrapped
  const moved = await deps.vault.reEncrypt(seal.wrappedKey, dataKeyContext(marker.bucket, seal.objectId), destinationKeyId);
  const nextSeal = { ...seal, keyId: moved.keyId, keyMaterialId: moved.keyMaterialId, wrappedKey: moved.wrapped, wrappedAt: deps.now() };
  const next: DeleteMarkerRecord = { ...marker, sealed: nextSeal, ...(marker.latest ? { latest: { ...marker.latest, rev: marker.latest.rev + 1 } } : {}) };
  try {
    await deps.blobs.replaceMetadata(seal.blobId, blobMetadata({ bucket: marker.bucket, ...nextSeal }, 1, FORMAT_VERSION));
  } catch (e) {
    if (e instanceof BlobNotFoundError) return 'gone';
    throw e;
  }
  try {
    const unchanged = marker.latest ? { kind: 'equals' as const, attr: 'rev', value: marker.latest.rev } : { kind: 'equals' as const, attr: 'wrappedAt', value: seal.wrappedAt.getTime() };
    await deps.index.put(rowAt(item, next), unchanged);
  } catch (e) {
    if (e instanceof ConditionFailedError) return 'gone';
    throw e;
  }
  return 'rewrapped';
}

/**
 * Re-reads an object item by its own primary key (the gsi1 copy may lag in DynamoDB): a latest entry at `O#`, a
 * noncurrent version at `V#`. Every version keeps its gsi1 entry, so rewrap covers them all.
 */
export async function freshObjectItem(index: RecordIndex, item: IndexItem): Promise<IndexItem | undefined> {
  return index.get(item.pk, item.sk);
}
