// Opens the embedded backend under one data directory: file blobs, SQLite index, embedded key vault.
import { chmod, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { KmsNotFoundError } from '../../core/errors';
import { EmbeddedKeyVault } from './embedded-key-vault';
import { FsBlobStore } from './fs-blob-store';
import { SqliteObjectIndex } from './sqlite-index';

export { EmbeddedKeyVault, type EmbeddedKeyVaultOptions } from './embedded-key-vault';
export { FsBlobStore } from './fs-blob-store';
export { SqliteObjectIndex } from './sqlite-index';

/** The CMK new objects are wrapped under unless a bucket names another. */
export const DEFAULT_KEY_ALIAS = 'alias/sealstore-default';

export interface EmbeddedBackend {
  readonly vault: EmbeddedKeyVault;
  /** The same vault: it also implements KeyAdmin, as KMS does. */
  readonly admin: EmbeddedKeyVault;
  readonly blobs: FsBlobStore;
  readonly index: SqliteObjectIndex;
  /** ARN of the default CMK (alias/sealstore-default), created on first start. */
  readonly defaultKeyId: string;
  close(): Promise<void>;
}

/**
 * Layout: <dataDir>/blobs/ (ciphertext), <dataDir>/index.sqlite (+ WAL files), <dataDir>/keys/ (root.key and
 * the key database). The directory is private to its owner (0700): it holds the root key.
 */
export async function openEmbeddedBackend(dataDir: string): Promise<EmbeddedBackend> {
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  await chmod(dataDir, 0o700);
  const blobsDir = join(dataDir, 'blobs');
  await mkdir(blobsDir, { recursive: true, mode: 0o700 });
  const vault = await EmbeddedKeyVault.open(join(dataDir, 'keys'));
  const defaultKeyId = await ensureDefaultKey(vault);
  const index = new SqliteObjectIndex(join(dataDir, 'index.sqlite'));
  const blobs = new FsBlobStore(blobsDir);
  return {
    vault,
    admin: vault,
    blobs,
    index,
    defaultKeyId,
    close: async () => {
      await index.close();
      await blobs.close();
    },
  };
}

async function ensureDefaultKey(vault: EmbeddedKeyVault): Promise<string> {
  try {
    return await vault.resolveKeyId(DEFAULT_KEY_ALIAS);
  } catch (err) {
    if (!(err instanceof KmsNotFoundError)) throw err;
    return (await vault.createKey({ alias: DEFAULT_KEY_ALIAS, description: 'sealstore default key' })).arn;
  }
}
