// Root credentials a user sets (npm start's SEALSTORE_* variables, a hand-edited root-credentials.json, the stack's
// secret) are refused with the rule when they are too weak to guard admin on every bucket; generated ones pass.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MIN_ROOT_SECRET_LENGTH, rootCredentialsProblem } from '../../lambdas/core/root-credentials';
import { loadRootCredentials } from '../../local/root-credentials';

describe('root credentials a user sets', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sealstore-root-creds-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('refuses a 5-character secret from SEALSTORE_SECRET_ACCESS_KEY, stating the rule and how to make a good one', async () => {
    await expect(loadRootCredentials(dir, { SEALSTORE_ACCESS_KEY_ID: 'ROOTKEY', SEALSTORE_SECRET_ACCESS_KEY: 'abcde' })).rejects.toThrow(
      'refusing the root credentials from SEALSTORE_ACCESS_KEY_ID/SEALSTORE_SECRET_ACCESS_KEY: the secret access key is 5 characters; a root secret needs at least 16 (AWS\'s are 40): generate one with `openssl rand -base64 30`.',
    );
  });

  it('takes a secret of exactly the minimum length, and refuses one a character shorter', async () => {
    const ok = 's'.repeat(MIN_ROOT_SECRET_LENGTH);
    expect(MIN_ROOT_SECRET_LENGTH).toBe(16);
    await expect(loadRootCredentials(dir, { SEALSTORE_ACCESS_KEY_ID: 'ROOTKEY', SEALSTORE_SECRET_ACCESS_KEY: ok })).resolves.toEqual({
      credentials: { accessKeyId: 'ROOTKEY', secretAccessKey: ok },
      created: false,
    });
    await expect(loadRootCredentials(dir, { SEALSTORE_ACCESS_KEY_ID: 'ROOTKEY', SEALSTORE_SECRET_ACCESS_KEY: ok.slice(1) })).rejects.toThrow('the secret access key is 15 characters');
  });

  it('refuses a weak secret written into root-credentials.json by hand, naming the file and the way out', async () => {
    const file = join(dir, 'root-credentials.json');
    await writeFile(file, JSON.stringify({ accessKeyId: 'ROOTKEY', secretAccessKey: 'short' }));
    await expect(loadRootCredentials(dir, {})).rejects.toThrow(
      `refusing the root credentials from ${file} (delete it to have new ones generated): the secret access key is 5 characters; a root secret needs at least 16`,
    );
  });

  it('refuses an access key id no client could sign with, and a secret with a stray line break', () => {
    expect(rootCredentialsProblem({ accessKeyId: 'ROOT/KEY', secretAccessKey: 'x'.repeat(40) })).toBe(
      'the access key id must be 3 to 128 characters without "/" or spaces (got 8 characters)',
    );
    expect(rootCredentialsProblem({ accessKeyId: 'ROOTKEY', secretAccessKey: `${'x'.repeat(40)}\n` })).toBe(
      'the secret access key has a space or line break in it (a copy-paste slip?)',
    );
  });

  it('generates credentials that pass the rule on a new data directory, and reads them back', async () => {
    const first = await loadRootCredentials(dir, {});
    expect(first.created).toBe(true);
    expect(rootCredentialsProblem(first.credentials)).toBeUndefined();
    expect(await loadRootCredentials(dir, {})).toEqual({ credentials: first.credentials, created: false });
  });
});
