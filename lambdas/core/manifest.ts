// Where an object's part list lives: inline in its index item when small, in manifest chunk items when large.
import { IntegrityError } from './errors';
import { walk } from './index-walk';
import type { RecordIndex } from './ports';
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
export async function writeManifestChunks(index: RecordIndex, record: ObjectRecord): Promise<void> {
  if (!record.manifest) return;
  for (let chunk = 0; chunk < record.manifest.chunks; chunk++) {
    const parts = record.parts.slice(chunk * MANIFEST_CHUNK_PARTS, (chunk + 1) * MANIFEST_CHUNK_PARTS);
    await index.put(manifestChunkItem(record.objectId, chunk, parts));
  }
}

/** Reads the chunks of a chunked manifest; a missing or short chunk is tampering or loss, never a partial object. */
export async function readManifestParts(index: RecordIndex, objectId: string, chunks: number): Promise<PartRecord[]> {
  const parts: PartRecord[] = [];
  let seen = 0;
  // Exactly `chunks` chunks: a completion retried with fewer parts may leave a stale chunk past the count.
  if (chunks > 0) {
    for await (const item of walk(index, manifestPk(objectId), { pageSize: () => Math.min(100, chunks - seen) })) {
      parts.push(...partsFromManifestChunk(item));
      if (++seen >= chunks) break;
    }
  }
  if (seen !== chunks) throw new IntegrityError(`object manifest has ${seen} chunks, expected ${chunks}`);
  return parts;
}

/** Fills `parts` of a record read from its item; a no-op for inline manifests (the one-read GET). */
export async function loadParts(index: RecordIndex, record: ObjectRecord): Promise<ObjectRecord> {
  if (!record.manifest) return record;
  const parts = await readManifestParts(index, record.objectId, record.manifest.chunks);
  if (parts.length !== record.manifest.partCount) {
    throw new IntegrityError(`object manifest lists ${parts.length} parts, expected ${record.manifest.partCount}`);
  }
  return { ...record, parts };
}

/** Every chunk item under an object id, whatever the count a record claims (a crashed complete may leave extra). */
export async function deleteManifestChunks(index: RecordIndex, objectId: string): Promise<void> {
  for await (const item of walk(index, manifestPk(objectId), { pageSize: 100 })) await index.delete(item.pk, item.sk);
}

/** Blob ids of every chunk under an object id (for the sweep of a garbage manifest). */
export async function manifestBlobIds(index: RecordIndex, objectId: string): Promise<string[]> {
  const chunks = await walk(index, manifestPk(objectId), { pageSize: 100 }).all(partsFromManifestChunk);
  return chunks.flat().map((p) => p.blobId);
}
