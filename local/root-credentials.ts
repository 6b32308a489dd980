// The embedded server's root credentials: from the environment, else generated once and kept (0600) in the data directory.
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RootCredentials } from '../lambdas/core/access';
import { parseRootCredentials, ROOT_CREDENTIALS_FILE, rootCredentialsProblem } from '../lambdas/core/root-credentials';

export async function loadRootCredentials(dataDir: string, env: NodeJS.ProcessEnv = process.env): Promise<{ credentials: RootCredentials; created: boolean }> {
  const id = env['SEALSTORE_ACCESS_KEY_ID'];
  const secret = env['SEALSTORE_SECRET_ACCESS_KEY'];
  if (id && secret) return { credentials: refuseWeak({ accessKeyId: id, secretAccessKey: secret }, 'SEALSTORE_ACCESS_KEY_ID/SEALSTORE_SECRET_ACCESS_KEY'), created: false };
  if (id || secret) throw new Error('Set both SEALSTORE_ACCESS_KEY_ID and SEALSTORE_SECRET_ACCESS_KEY, or neither.');
  const file = join(dataDir, ROOT_CREDENTIALS_FILE);
  try {
    const saved = parseRootCredentials(await readFile(file, 'utf8'));
    if (saved !== undefined) return { credentials: refuseWeak(saved, `${file} (delete it to have new ones generated)`), created: false };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const credentials = {
    accessKeyId: `SEAL${randomBytes(8).toString('hex').toUpperCase()}`,
    secretAccessKey: randomBytes(30).toString('base64url'),
  };
  await writeFile(file, JSON.stringify(credentials, null, 2), { mode: 0o600, flag: 'wx' });
  return { credentials, created: true };
}

/** Root credentials a user set are refused, with the rule, when they are too weak to guard admin on every bucket. */
function refuseWeak(credentials: RootCredentials, source: string): RootCredentials {
  const problem = rootCredentialsProblem(credentials);
  if (problem !== undefined) throw new Error(`refusing the root credentials from ${source}: ${problem}.`);
  return credentials;
}
