// The API Lambda entry: AWS adapters and root credentials built once per container, then the shared handler,
// wrapped for response streaming (API Gateway REST, transfer mode STREAM).
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { openAwsBackend } from '../adapters/aws';
import { ChainedCredentialStore, StaticCredentialStore } from '../core/access';
import { ObjectService } from '../core/object-service';
import { makeHandler, streamingHandler, type ApiHandler, type LambdaStreamingRuntime } from './api-handler';
import { readRootSecret } from './root-credentials';
import { lambdaLogger } from './lambda-logger';

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`missing environment variable ${name} (set by the CDK stack)`);
  return value;
}

// Read at cold start so a misconfigured function fails on its first invocation, naming the variable.
const rootSecretArn = required('SEALSTORE_ROOT_CREDENTIALS_SECRET_ARN');
const region = process.env['SEALSTORE_REGION'] ?? required('AWS_REGION');

async function build(): Promise<ApiHandler> {
  const backend = await openAwsBackend(process.env);
  const root = await readRootSecret(new SecretsManagerClient({}), rootSecretArn);
  const service = new ObjectService({
    vault: backend.vault,
    blobs: backend.blobs,
    index: backend.index,
    keys: { activeKeyId: async () => backend.defaultKeyId },
    logger: lambdaLogger,
  });
  const credentials = new ChainedCredentialStore([new StaticCredentialStore(root.accessKeyId, root.secretAccessKey)]);
  return makeHandler({ service, credentials, region, logger: lambdaLogger });
}

let ready: Promise<ApiHandler> | undefined;
const handle = async (event: APIGatewayProxyEvent) => {
  ready ??= build().catch((e: unknown) => {
    ready = undefined; // let the next invocation retry a transient start-up failure
    throw e;
  });
  return (await ready)(event);
};

declare const awslambda: LambdaStreamingRuntime | undefined;

/** Lambda's runtime provides `awslambda`; elsewhere (bundle import checks) the plain handler is exported. */
export const handler = typeof awslambda !== 'undefined' ? streamingHandler(awslambda, handle) : handle;
