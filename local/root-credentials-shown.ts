// Whether the root credentials kept in a data directory were ever printed: a start that creates them and then fails
// (a port in use) must not leave a user who never saw them, so they are printed by the first start that succeeds.
import { access, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** Beside root-credentials.json; its presence means a successful start printed them. */
export const ROOT_CREDENTIALS_SHOWN_FILE = 'root-credentials.shown';

export async function rootCredentialsShown(dataDir: string): Promise<boolean> {
  try {
    await access(join(dataDir, ROOT_CREDENTIALS_SHOWN_FILE));
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw e;
  }
}

export async function markRootCredentialsShown(dataDir: string): Promise<void> {
  await writeFile(join(dataDir, ROOT_CREDENTIALS_SHOWN_FILE), `${new Date().toISOString()}\n`, { mode: 0o600 });
}
