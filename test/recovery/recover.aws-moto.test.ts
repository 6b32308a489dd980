// Index rebuild from the blobs on the AWS adapters over moto_server: the DynamoDB table deleted and recreated empty
// (what a dropped table past its PITR window leaves), the server restarted, then `sealstore recover --rebuild-index`
// over HTTP, through the same ports (S3 ListObjectsV2, KMS Decrypt). moto's KMS does not enforce key states, so the
// disabled-CMK case runs on the embedded backend only (said in the log). See recover-suite.ts.
import { DeleteTableCommand, waitUntilTableNotExists } from '@aws-sdk/client-dynamodb';
import { randomBytes } from 'node:crypto';
import { initAwsResources, openAwsBackend } from '../../lambdas/adapters/aws';
import { S3_LIMITS } from '../../lambdas/core/limits';
import { startServer, type RunningServer } from '../../local/server';
import { motoClients } from '../aws/moto-clients';
import { awsBackendUnavailable } from '../support/aws-target';
import { testCreds } from '../support/embedded-target';
import { startMoto, type MotoServer } from '../support/moto';
import { describeRecovery, PART, type RecoveryHarness } from './recover-suite';

const quiet = { info: () => undefined, warn: () => undefined, error: (m: string, f?: object) => console.error(m, f) };

describeRecovery(
  'recover --rebuild-index (AWS adapters on moto)',
  async (): Promise<RecoveryHarness> => {
    const moto = (await startMoto()) as MotoServer;
    const clients = motoClients(moto.endpoint);
    const suffix = randomBytes(4).toString('hex');
    const names = { tableName: `sealstore-${suffix}`, bucket: `sealstore-blobs-${suffix}`, keyAlias: `alias/sealstore-${suffix}` };
    await initAwsResources(clients, names);
    const env: NodeJS.ProcessEnv = { SEALSTORE_TABLE_NAME: names.tableName, SEALSTORE_BLOB_BUCKET: names.bucket, SEALSTORE_KMS_KEY_ID: names.keyAlias };
    const credentials = testCreds();
    let server: RunningServer | undefined;
    return {
      start: async () => {
        server = await startServer({ backend: await openAwsBackend(env, clients), credentials, logger: quiet, limits: { ...S3_LIMITS, minPartBytes: PART } });
        return { url: server.url, creds: credentials };
      },
      stop: async () => {
        await server?.close();
        server = undefined;
      },
      emptyIndex: async () => {
        await clients.dynamodb.send(new DeleteTableCommand({ TableName: names.tableName }));
        await waitUntilTableNotExists({ client: clients.dynamodb, maxWaitTime: 60 }, { TableName: names.tableName });
        await initAwsResources(clients, names);
      },
      raw: async () => {
        const backend = await openAwsBackend(env, clients);
        return { blobs: backend.blobs, vault: backend.vault, close: () => Promise.resolve() };
      },
      cleanup: async () => {
        try {
          await server?.close();
        } finally {
          clients.s3.destroy();
          clients.kms.destroy();
          clients.dynamodb.destroy();
          await moto.stop();
        }
      },
    };
  },
  { ...(awsBackendUnavailable !== undefined ? { skip: awsBackendUnavailable } : {}), noKeyStates: "moto's KMS does not enforce Disabled on Decrypt" },
);
