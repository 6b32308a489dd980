// The API Lambda entry: AWS adapters and root credentials built once per container, then the shared handler,
// wrapped for response streaming (API Gateway REST, transfer mode STREAM).
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { openAwsBackend } from '../adapters/aws';
import { ChainedCredentialStore, StaticCredentialStore } from '../core/access';
import { AccessKeyStore } from '../core/access-keys';
import { KeyLifecycle, lifecycleConfigFromEnv } from '../core/key-lifecycle';
import { ObjectService } from '../core/object-service';
import { makeAdminApi } from '../api/admin-api';
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
const lifecycleConfig = lifecycleConfigFromEnv(process.env);

async function build(): Promise<ApiHandler> {
  const backend = await openAwsBackend(process.env);
  const root = await readRootSecret(new SecretsManagerClient({}), rootSecretArn);
  const lifecycle = new KeyLifecycle({ ...backend, config: lifecycleConfig, logger: lambdaLogger });
  const service = new ObjectService({
    vault: backend.vault,
    blobs: backend.blobs,
    index: backend.index,
    keys: lifecycle.activeKeys,
    logger: lambdaLogger,
  });
  const accessKeys = new AccessKeyStore({ index: backend.index, vault: backend.vault, activeKeys: lifecycle.activeKeys });
  lifecycle.useSealedSecrets(accessKeys);
  const credentials = new ChainedCredentialStore([new StaticCredentialStore(root.accessKeyId, root.secretAccessKey), accessKeys]);
  const admin = makeAdminApi({ lifecycle, accessKeys });
  return makeHandler({ service, credentials, region, logger: lambdaLogger, admin });
}

let ready: Promise<ApiHandler> | undefined;
const handle = async (event: APIGatewayProxyEvent) => {
  ready ??= build().catch((e: unknown) => {
    ready = undefined; // let the next invocation retry a transient start-up failure
    throw e;
  });
  return (await ready)(event);
};

/**
 * Lambda's runtime provides `awslambda.streamifyResponse`; elsewhere (bundle import checks) the plain handler
 * is exported. Test the function itself: the bundled SDK defines a bare `globalThis.awslambda` on import.
 */
const runtime = (globalThis as { awslambda?: Partial<LambdaStreamingRuntime> }).awslambda;
export const handler =
  typeof runtime?.streamifyResponse === 'function' && runtime.HttpResponseStream !== undefined
    ? streamingHandler(runtime as LambdaStreamingRuntime, handle)
    : handle;
