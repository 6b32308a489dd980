// The root credentials' stored form, one JSON object {"accessKeyId", "secretAccessKey"}: the stack's Secrets
// Manager secret and the embedded server's data-directory file both hold it, and every reader parses it here.
import type { RootCredentials } from './access';

/** The file in the embedded server's data directory (mode 0600) that keeps generated root credentials. */
export const ROOT_CREDENTIALS_FILE = 'root-credentials.json';

/** The credentials `json` holds, or undefined when it is JSON of another shape; malformed JSON throws. */
export function parseRootCredentials(json: string): RootCredentials | undefined {
  const parsed: unknown = JSON.parse(json);
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const { accessKeyId, secretAccessKey } = parsed as Record<string, unknown>;
  return typeof accessKeyId === 'string' && typeof secretAccessKey === 'string' ? { accessKeyId, secretAccessKey } : undefined;
}

/** The shortest root secret the store takes from a user. AWS's own secret keys are 40 characters. */
export const MIN_ROOT_SECRET_LENGTH = 16;

/**
 * Why credentials a user chose cannot be the root key (admin on every bucket), or undefined when they can. A short
 * secret can be guessed offline from one captured signature; an id with "/" or spaces cannot be put in a SigV4
 * credential scope, so no client could ever sign with it.
 */
export function rootCredentialsProblem(credentials: RootCredentials): string | undefined {
  const { accessKeyId, secretAccessKey } = credentials;
  if (accessKeyId.length < 3 || accessKeyId.length > 128 || /[\s/]/.test(accessKeyId)) {
    return `the access key id must be 3 to 128 characters without "/" or spaces (got ${accessKeyId.length} characters)`;
  }
  if (secretAccessKey.length < MIN_ROOT_SECRET_LENGTH) {
    return `the secret access key is ${secretAccessKey.length} characters; a root secret needs at least ${MIN_ROOT_SECRET_LENGTH} (AWS's are 40): generate one with \`openssl rand -base64 30\``;
  }
  if (/\s/.test(secretAccessKey)) return 'the secret access key has a space or line break in it (a copy-paste slip?)';
  return undefined;
}
