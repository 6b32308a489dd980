// Opens the embedded backend under one data directory: file blobs, SQLite index, embedded key vault.
import { chmod, mkdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { KmsNotFoundError } from '../../core/errors';
import { lockDataDir } from './data-dir-lock';
import { EmbeddedKeyVault, fileExists, KEY_DATABASE_FILE } from './embedded-key-vault';
import { FsBlobStore } from './fs-blob-store';
import { SqliteRecordIndex } from './sqlite-index';

export { DataDirLockedError } from './data-dir-lock';
export { EmbeddedKeyVault, type EmbeddedKeyVaultOptions } from './embedded-key-vault';
export { FsBlobStore } from './fs-blob-store';
export { SqliteRecordIndex } from './sqlite-index';

/** The CMK new objects are wrapped under unless a bucket names another. */
export const DEFAULT_KEY_ALIAS = 'alias/sealstore-default';

export interface EmbeddedBackend {
  readonly vault: EmbeddedKeyVault;
  /** The same vault: it also implements KeyAdmin, as KMS does. */
  readonly admin: EmbeddedKeyVault;
  readonly blobs: FsBlobStore;
  readonly index: SqliteRecordIndex;
  /** ARN of the default CMK (alias/sealstore-default), created on first start. */
  readonly defaultKeyId: string;
  close(): Promise<void>;
}

/**
 * Layout: <dataDir>/blobs/ (ciphertext), <dataDir>/index.sqlite (+ WAL files), <dataDir>/keys/ (root.key and
 * the key database), <dataDir>/lock (held while open; see data-dir-lock.ts). The directory is private to its
 * owner (0700) and every file in it 0600: it holds the root key.
 */
export async function openEmbeddedBackend(dataDir: string): Promise<EmbeddedBackend> {
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  // The lock comes first: a second server on this directory stops here, having changed nothing.
  const lock = lockDataDir(dataDir);
  try {
    await chmod(dataDir, 0o700);
    const blobsDir = join(dataDir, 'blobs');
    await mkdir(blobsDir, { recursive: true, mode: 0o700 });
    const indexFile = join(dataDir, 'index.sqlite');
    const keysDir = join(dataDir, 'keys');
    await refuseLostKeys(indexFile, keysDir);
    const vault = await EmbeddedKeyVault.open(keysDir);
    const defaultKeyId = await ensureDefaultKey(vault);
    const index = new SqliteRecordIndex(indexFile);
    const blobs = new FsBlobStore(blobsDir);
    return {
      vault,
      admin: vault,
      blobs,
      index,
      defaultKeyId,
      close: async () => {
        try {
          await index.close();
          await blobs.close();
        } finally {
          lock.release();
        }
      },
    };
  } catch (e) {
    lock.release();
    throw e;
  }
}

/**
 * An index that holds a store with no key database beside it: its objects' keys are gone, and a fresh vault would
 * only hide that. Refused, naming the file to restore.
 */
async function refuseLostKeys(indexFile: string, keysDir: string): Promise<void> {
  const indexSize = await stat(indexFile).then((s) => s.size, () => 0);
  if (indexSize === 0) return;
  const database = join(keysDir, KEY_DATABASE_FILE);
  if (!(await fileExists(database))) {
    throw new Error(`${database} is missing, but ${indexFile} holds a store whose keys it kept: restore ${database} (and root.key) from a backup; starting without it would create new keys and leave every object unreadable`);
  }
}

async function ensureDefaultKey(vault: EmbeddedKeyVault): Promise<string> {
  try {
    return await vault.resolveKeyId(DEFAULT_KEY_ALIAS);
  } catch (err) {
    if (!(err instanceof KmsNotFoundError)) throw err;
    return (await vault.createKey({ alias: DEFAULT_KEY_ALIAS, description: 'sealstore default key' })).arn;
  }
}
