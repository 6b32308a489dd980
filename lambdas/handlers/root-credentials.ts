// The store's root S3 credentials in AWS: a Secrets Manager secret the stack generates, read once per container.
import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { RootCredentials } from '../core/access';
import { parseRootCredentials, rootCredentialsProblem } from '../core/root-credentials';

export async function readRootSecret(client: SecretsManagerClient, secretArn: string): Promise<RootCredentials> {
  const out = await client.send(new GetSecretValueCommand({ SecretId: secretArn }));
  const credentials = parseRootCredentials(out.SecretString ?? '{}');
  if (credentials === undefined) throw new Error(`secret ${secretArn} must hold JSON {"accessKeyId": "...", "secretAccessKey": "..."}`);
  // The stack generates a strong secret; one a user put in its place is held to the same rule as npm start's.
  const problem = rootCredentialsProblem(credentials);
  if (problem !== undefined) throw new Error(`refusing the root credentials in secret ${secretArn}: ${problem}.`);
  return credentials;
}
