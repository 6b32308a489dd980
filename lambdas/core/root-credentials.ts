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
