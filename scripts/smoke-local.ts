// PUT/GET round trip through a deployed sealstore API, signed with the stack's root credentials (from Secrets Manager).
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { CreateBucketCommand, DeleteObjectCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';

async function main(outputsPath: string): Promise<void> {
  const all = JSON.parse(readFileSync(outputsPath, 'utf8')) as Record<string, Record<string, string>>;
  const outputs = Object.values(all)[0];
  const endpoint = outputs?.['ApiEndpoint'];
  const secretArn = outputs?.['RootCredentialsSecretArn'];
  if (!endpoint || !secretArn) throw new Error(`${outputsPath} lacks ApiEndpoint or RootCredentialsSecretArn`);

  // The secret lives in LocalStack (AWS_ENDPOINT_URL); the object API is the deployed stack's endpoint.
  const secret = await new SecretsManagerClient({}).send(new GetSecretValueCommand({ SecretId: secretArn }));
  const root = JSON.parse(secret.SecretString ?? '{}') as { accessKeyId?: string; secretAccessKey?: string };
  if (!root.accessKeyId || !root.secretAccessKey) throw new Error('root credentials secret is not {accessKeyId, secretAccessKey}');

  const s3 = new S3Client({
    endpoint,
    forcePathStyle: true,
    region: process.env.AWS_REGION ?? 'us-east-1',
    credentials: { accessKeyId: root.accessKeyId, secretAccessKey: root.secretAccessKey },
  });
  const bucket = `smoke-${randomBytes(4).toString('hex')}`;
  const key = 'hello/round-trip.bin';
  const body = randomBytes(64 * 1024);
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
  const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  const bytes = Buffer.from(await got.Body!.transformToByteArray());
  await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
  if (!bytes.equals(body)) throw new Error(`round trip changed the object: sent ${body.length} bytes, got ${bytes.length}`);
  console.log(JSON.stringify({ smoke: 'ok', endpoint, bucket, key, bytes: body.length }));
}

main(process.argv[2] ?? 'cdk.out/local-outputs.json').catch((e: unknown) => {
  console.error(`smoke:local failed: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
