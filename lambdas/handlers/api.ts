// The API Lambda entry: AWS ports and root credentials built once per container, composed into the store, then
// the shared S3 API behind the Lambda front, wrapped for response streaming (API Gateway REST, transfer mode STREAM).
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { openAwsBackend } from '../adapters/aws';
import { composeStore } from '../compose-store';
import { ENV } from '../core/deployment-names';
import { causeOf } from '../core/errors';
import { lifecycleConfigFromEnv } from '../core/key-lifecycle';
import { LAMBDA_LIMITS } from '../core/limits';
import { makeHandler, streamingHandler, type ApiHandler, type LambdaStreamingRuntime } from './api-handler';
import { readRootSecret } from './root-credentials';
import { lambdaLogger } from './lambda-logger';

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`missing environment variable ${name} (set by the CDK stack)`);
  return value;
}

// Read at cold start so a misconfigured function fails on its first invocation, naming the variable.
const rootSecretArn = required(ENV.rootCredentialsSecretArn);
const region = process.env[ENV.region] ?? required('AWS_REGION');
const lifecycleConfig = lifecycleConfigFromEnv(process.env);

interface Started {
  readonly handle: ApiHandler;
  /** Finishes work queued behind answered requests (shredding replaced versions) before the container freezes. */
  readonly settle: () => Promise<void>;
}

async function build(): Promise<Started> {
  const ports = await openAwsBackend(process.env);
  const root = await readRootSecret(new SecretsManagerClient({}), rootSecretArn);
  // Behind API Gateway every request body is bounded by what one Lambda invocation carries.
  const store = composeStore(ports, root, { region, limits: { limits: LAMBDA_LIMITS }, lifecycleConfig, logger: lambdaLogger });
  // The index key opens at cold start (one KMS Decrypt), before any request is served. If it cannot, requests
  // answer a generic 503/500 until it can (IndexKey.unwrap): never the KMS error, which may reach a caller who
  // is not authenticated yet.
  await store.indexKey.get({ create: true }).catch((e: unknown) => {
    lambdaLogger.error('index key not available at start; requests will retry it', { error: e instanceof Error ? e.message : String(e), ...causeOf(e) });
  });
  return { handle: makeHandler(store.api), settle: () => store.service.settle() };
}

let ready: Promise<Started> | undefined;
function started(): Promise<Started> {
  ready ??= build().catch((e: unknown) => {
    ready = undefined; // let the next invocation retry a transient start-up failure
    throw e;
  });
  return ready;
}
const handle = async (event: APIGatewayProxyEvent) => (await started()).handle(event);
const settle = async () => (await started()).settle();

/**
 * Lambda's runtime provides `awslambda.streamifyResponse`; elsewhere (bundle import checks) the plain handler
 * is exported. Test the function itself: the bundled SDK defines a bare `globalThis.awslambda` on import.
 */
const runtime = (globalThis as { awslambda?: Partial<LambdaStreamingRuntime> }).awslambda;
export const handler =
  typeof runtime?.streamifyResponse === 'function' && runtime.HttpResponseStream !== undefined
    ? streamingHandler(runtime as LambdaStreamingRuntime, handle, settle)
    : handle;
