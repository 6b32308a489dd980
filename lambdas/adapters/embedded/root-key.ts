// The embedded vault's root secret: 32 random bytes in a 0600 file, from which the vault derives its working keys.
import { hkdfSync, randomBytes } from 'node:crypto';
import { open, readFile, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { fsyncDir } from './fs-sync';

const ROOT_KEY_LENGTH = 32;

export interface RootKeys {
  /** Seals CMK material in the key database. */
  readonly materialKey: Buffer;
  /** Authenticates the key database, so editing states or aliases in the file is detected. */
  readonly databaseMacKey: Buffer;
}

/**
 * Loads the root key, creating it on first use. Refuses a file others can read, as ssh does with private
 * keys: whoever reads root.key and the key database can open every CMK.
 */
export async function loadOrCreateRootKey(file: string): Promise<RootKeys> {
  let root: Buffer;
  try {
    const handle = await open(file, 'wx', 0o600);
    try {
      root = randomBytes(ROOT_KEY_LENGTH);
      await handle.writeFile(root);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fsyncDir(dirname(file));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    const mode = (await stat(file)).mode;
    if ((mode & 0o077) !== 0) {
      throw new Error(`${file} is accessible by group or others (mode ${(mode & 0o777).toString(8)}); chmod 600 it`);
    }
    root = await readFile(file);
    if (root.length !== ROOT_KEY_LENGTH) throw new Error(`${file} is not a ${ROOT_KEY_LENGTH}-byte root key`);
  }
  const derive = (info: string) => Buffer.from(hkdfSync('sha256', root, Buffer.alloc(0), info, 32));
  const keys = { materialKey: derive('sealstore/vault/cmk-material/v1'), databaseMacKey: derive('sealstore/vault/db-mac/v1') };
  root.fill(0);
  return keys;
}
