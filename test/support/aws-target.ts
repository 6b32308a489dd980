// Starts sealstore over the AWS adapters against a fresh moto_server: the deployed code path, on loopback.
import { CreateAliasCommand, CreateKeyCommand, DescribeKeyCommand } from '@aws-sdk/client-kms';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { randomBytes } from 'node:crypto';
import { initAwsResources, openAwsBackend } from '../../lambdas/adapters/aws';
import { startServer, type RunningServer, type ServerOptions } from '../../local/server';
import { consoleLogger } from '../../local/logger';

const errorsOnly = { info: () => undefined, warn: () => undefined, error: consoleLogger.error };
import { LAMBDA_LIMITS, S3_LIMITS } from '../../lambdas/core/limits';
import type { S3Target } from '../blackbox/s3-suite';
import { motoClients } from '../aws/moto-clients';
import { motoMissingReason, motoUnavailable, startMoto, type MotoServer } from './moto';
import { testCreds } from './embedded-target';

export interface AwsTarget extends S3Target {
  readonly server: RunningServer;
  readonly endpoint: string;
  /** CMKs made in moto's KMS before the start and trusted with the default one (see extraTrustedKeys). */
  readonly extraKeys: ReadonlyArray<{ readonly arn: string; readonly alias: string }>;
}

/** Why the AWS-backend suites cannot run here, or undefined when they can. Said once per file that asks. */
export const awsBackendUnavailable: string | undefined = motoUnavailable();
if (awsBackendUnavailable !== undefined) console.warn(`AWS-backend tests in this file SKIPPED: ${awsBackendUnavailable}`);

export interface AwsTargetOptions extends Partial<Omit<ServerOptions, 'backend'>> {
  /** Configure SEALSTORE_TRUSTED_KEY_IDS with the default CMK alone, as the deployed stack does with its own. */
  readonly trustDefaultKeyOnly?: boolean;
  /** With trustDefaultKeyOnly: this many more CMKs (with aliases) are created and trusted too, as a stack's additionalTrustedKeyArns. */
  readonly extraTrustedKeys?: number;
}

export async function startAwsOnMoto(options: AwsTargetOptions = {}): Promise<AwsTarget> {
  const moto = await startMoto();
  if (!moto) throw new Error(motoMissingReason);
  try {
    return await serveOnMoto(moto, options);
  } catch (e) {
    // A start that fails half way must not leave moto_server (and its temp directory) behind.
    await moto.stop();
    throw e;
  }
}

async function serveOnMoto(moto: MotoServer, options: AwsTargetOptions): Promise<AwsTarget> {
  const clients = motoClients(moto.endpoint);
  const suffix = randomBytes(4).toString('hex');
  const names = { tableName: `sealstore-${suffix}`, bucket: `sealstore-blobs-${suffix}`, keyAlias: `alias/sealstore-${suffix}` };
  await initAwsResources(clients, names);
  const env: NodeJS.ProcessEnv = { SEALSTORE_TABLE_NAME: names.tableName, SEALSTORE_BLOB_BUCKET: names.bucket, SEALSTORE_KMS_KEY_ID: names.keyAlias };
  const extraKeys: Array<{ arn: string; alias: string }> = [];
  for (let i = 0; i < (options.extraTrustedKeys ?? 0); i++) {
    const created = await clients.kms.send(new CreateKeyCommand({ Description: `sealstore test trusted key ${i}` }));
    const alias = `alias/sealstore-${suffix}-extra-${i}`;
    await clients.kms.send(new CreateAliasCommand({ AliasName: alias, TargetKeyId: created.KeyMetadata?.KeyId }));
    extraKeys.push({ arn: created.KeyMetadata?.Arn ?? '', alias });
  }
  if (options.trustDefaultKeyOnly) {
    const described = await clients.kms.send(new DescribeKeyCommand({ KeyId: names.keyAlias }));
    env['SEALSTORE_TRUSTED_KEY_IDS'] = [described.KeyMetadata?.Arn, ...extraKeys.map((k) => k.arn)].join(',');
  }
  const backend = await openAwsBackend(env, clients);
  const creds = options.credentials ?? testCreds();
  const { trustDefaultKeyOnly: _trust, extraTrustedKeys: _extra, ...serverOptions } = options;
  // Errors always reach stderr (an unexpected 500 on moto must say why in a CI log); everything with SEALSTORE_TEST_LOG.
  const server = await startServer({ logger: process.env['SEALSTORE_TEST_LOG'] ? consoleLogger : errorsOnly, ...serverOptions, backend, credentials: creds });
  return {
    url: server.url,
    endpoint: moto.endpoint,
    extraKeys,
    limits: options.lambdaLimits ? LAMBDA_LIMITS : S3_LIMITS,
    creds: { accessKeyId: creds.accessKeyId, secretAccessKey: creds.secretAccessKey },
    server,
    rawBlobs: async () => {
      await server.service.settle();
      const out: Buffer[] = [];
      let token: string | undefined;
      do {
        const page = await clients.s3.send(new ListObjectsV2Command({ Bucket: names.bucket, ContinuationToken: token }));
        for (const o of page.Contents ?? []) {
          const got = await clients.s3.send(new GetObjectCommand({ Bucket: names.bucket, Key: o.Key! }));
          out.push(Buffer.from(await got.Body!.transformToByteArray()));
        }
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
      return out;
    },
    close: async () => {
      try {
        await server.close();
      } finally {
        clients.s3.destroy();
        clients.kms.destroy();
        clients.dynamodb.destroy();
        await moto.stop();
      }
    },
  };
}
