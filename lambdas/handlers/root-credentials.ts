// The store's root S3 credentials in AWS: a Secrets Manager secret the stack generates, read once per container.
import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';

export interface RootSecret {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

export async function readRootSecret(client: SecretsManagerClient, secretArn: string): Promise<RootSecret> {
  const out = await client.send(new GetSecretValueCommand({ SecretId: secretArn }));
  const parsed: unknown = JSON.parse(out.SecretString ?? '{}');
  if (
    typeof parsed === 'object' && parsed !== null &&
    typeof (parsed as Record<string, unknown>)['accessKeyId'] === 'string' &&
    typeof (parsed as Record<string, unknown>)['secretAccessKey'] === 'string'
  ) {
    const p = parsed as Record<string, string>;
    return { accessKeyId: p['accessKeyId']!, secretAccessKey: p['secretAccessKey']! };
  }
  throw new Error(`secret ${secretArn} must hold JSON {"accessKeyId": "...", "secretAccessKey": "..."}`);
}
