// Where an object's part list lives: inline in its index item when small, in manifest chunk items when large.
import { IntegrityError } from './errors';
import type { ObjectIndex } from './ports';
import {
  MANIFEST_CHUNK_PARTS,
  MAX_INLINE_PARTS,
  manifestChunkItem,
  manifestPk,
  partsFromManifestChunk,
  type ObjectRecord,
  type PartRecord,
} from './records';

/** The record as it will be stored: a part list too long for one item is marked as chunked. */
export function withManifestShape(record: ObjectRecord): ObjectRecord {
  if (record.parts.length <= MAX_INLINE_PARTS) return record;
  return { ...record, manifest: { chunks: Math.ceil(record.parts.length / MANIFEST_CHUNK_PARTS), partCount: record.parts.length } };
}

/**
 * Writes the manifest chunks of a chunked record. They are keyed by the object id and invisible until the
 * object item that names them commits, so they need no transaction; a retry simply overwrites them.
 */
export async function writeManifestChunks(index: ObjectIndex, record: ObjectRecord): Promise<void> {
  if (!record.manifest) return;
  for (let chunk = 0; chunk < record.manifest.chunks; chunk++) {
    const parts = record.parts.slice(chunk * MANIFEST_CHUNK_PARTS, (chunk + 1) * MANIFEST_CHUNK_PARTS);
    await index.put(manifestChunkItem(record.objectId, chunk, parts));
  }
}

/** Reads the chunks of a chunked manifest; a missing or short chunk is tampering or loss, never a partial object. */
export async function readManifestParts(index: ObjectIndex, objectId: string, chunks: number): Promise<PartRecord[]> {
  const parts: PartRecord[] = [];
  let startAfter: string | undefined;
  let seen = 0;
  while (seen < chunks) {
    const page = await index.query(manifestPk(objectId), { limit: Math.min(100, chunks - seen), startAfter });
    for (const item of page.items) parts.push(...partsFromManifestChunk(item));
    seen += page.items.length;
    if (!page.lastKey) break;
    startAfter = page.lastKey;
  }
  if (seen !== chunks) throw new IntegrityError(`object manifest has ${seen} chunks, expected ${chunks}`);
  return parts;
}

/** Fills `parts` of a record read from its item; a no-op for inline manifests (the one-read GET). */
export async function loadParts(index: ObjectIndex, record: ObjectRecord): Promise<ObjectRecord> {
  if (!record.manifest) return record;
  const parts = await readManifestParts(index, record.objectId, record.manifest.chunks);
  if (parts.length !== record.manifest.partCount) {
    throw new IntegrityError(`object manifest lists ${parts.length} parts, expected ${record.manifest.partCount}`);
  }
  return { ...record, parts };
}

/** Every chunk item under an object id, whatever the count a record claims (a crashed complete may leave extra). */
export async function deleteManifestChunks(index: ObjectIndex, objectId: string): Promise<void> {
  for (;;) {
    const page = await index.query(manifestPk(objectId), { limit: 100 });
    for (const item of page.items) await index.delete(item.pk, item.sk);
    if (!page.lastKey) return;
  }
}

/** Blob ids of every chunk under an object id (for the sweep of a garbage manifest). */
export async function manifestBlobIds(index: ObjectIndex, objectId: string): Promise<string[]> {
  const ids: string[] = [];
  let startAfter: string | undefined;
  for (;;) {
    const page = await index.query(manifestPk(objectId), { limit: 100, startAfter });
    for (const item of page.items) ids.push(...partsFromManifestChunk(item).map((p) => p.blobId));
    if (!page.lastKey) return ids;
    startAfter = page.lastKey;
  }
}
