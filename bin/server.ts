// `npm start`: serves the S3 API on loopback, embedded by default or over any AWS endpoint with --backend aws.
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadRootCredentials } from '../local/root-credentials';
import { startServer, type Backend } from '../local/server';
import { consoleLogger, quietLogger } from '../local/logger';
import { housekeepingConfigFromEnv, runHousekeeping } from '../lambdas/core/housekeeping';
import { ROOT_CREDENTIALS_FILE } from '../lambdas/core/root-credentials';
import { markRootCredentialsShown, rootCredentialsShown } from '../local/root-credentials-shown';
import { explainListenError, explainNativeModuleError } from '../local/start-errors';

// The SDK's notice that its releases after January 2027 need Node.js 22 is for us, who pick the Node.js versions
// sealstore supports (README: Requirements), not for someone starting a server; a user may still turn it back on.
process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';

const HELP = `sealstore server

Usage: npm start -- [options]

  --backend embedded|aws  embedded (default): files, SQLite and a local key vault under the data dir.
                          aws: KMS, S3 and DynamoDB through the standard SDK environment
                          (AWS_ENDPOINT_URL, AWS_REGION, credentials) and SEALSTORE_TABLE_NAME,
                          SEALSTORE_BLOB_BUCKET, SEALSTORE_KMS_KEY_ID.
  --init                  with --backend aws: create the table, bucket and CMK if missing
                          (for LocalStack or moto).
  --port N                port (env PORT, default 9000)
  --host H                address (env HOST, default 127.0.0.1)
  --data-dir D            data directory (env SEALSTORE_DATA_DIR, default ./.sealstore)
  --domain D              serve buckets as subdomains of D too (virtual-hosted style: bucket.D); may be
                          given more than once (env SEALSTORE_DOMAIN, comma-separated). Default: localhost,
                          the --host name and this machine's name. Requests to those names or to an IP
                          address are path style; a subdomain of any other name is refused.
  --rotation-interval S   run the key lifecycle job (rotate when due, rewrap, retire) every S seconds
                          (env SEALSTORE_ROTATION_INTERVAL_SECONDS, default 3600; 0 turns the timer off;
                          \`npx sealstore keys rewrap\` runs it on demand)
  --lambda-limits         refuse what the deployed stack refuses: request bodies over 4,669,440 bytes
                          (one request through API Gateway and Lambda), parts from 1 MiB
                          (env SEALSTORE_LAMBDA_LIMITS=1). Without it, S3's own limits apply:
                          5 GiB per PUT and per part, parts of at least 5 MiB.
  --seal-index            adopt an index written by a sealstore before index rows were authenticated:
                          authenticate every row as it stands, then serve. Only for a data directory
                          (or table) you trust: whatever it holds now is authentic afterwards.
  --drain-seconds S       on Ctrl-C (SIGINT) or SIGTERM, stop accepting and let requests in flight finish for
                          up to S seconds before closing (env SEALSTORE_DRAIN_SECONDS, default 10); a second
                          Ctrl-C exits at once
  --verbose               log every request

  Housekeeping runs every 5 minutes: it aborts multipart uploads idle for SEALSTORE_UPLOAD_MAX_AGE_DAYS
  (default 7, at least 1 hour) and deletes blobs no object references, leaving pending ones younger than
  SEALSTORE_PENDING_GRACE_SECONDS (default 1200, at least 900). One PUT or part that takes longer than
  the grace may be swept and then answered with an error to retry: raise it for very slow links.
`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      backend: { type: 'string', default: 'embedded' },
      init: { type: 'boolean', default: false },
      port: { type: 'string' },
      host: { type: 'string' },
      'data-dir': { type: 'string' },
      domain: { type: 'string', multiple: true },
      verbose: { type: 'boolean', default: false },
      'lambda-limits': { type: 'boolean', default: false },
      'rotation-interval': { type: 'string' },
      'seal-index': { type: 'boolean', default: false },
      'drain-seconds': { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return;
  }
  const env = process.env;
  const dataDir = resolve(values['data-dir'] ?? env['SEALSTORE_DATA_DIR'] ?? '.sealstore');
  const host = values.host ?? env['HOST'] ?? '127.0.0.1';
  const port = Number(values.port ?? env['PORT'] ?? '9000');
  const region = env['SEALSTORE_REGION'] ?? env['AWS_REGION'] ?? 'us-east-1';
  const logger = values.verbose ? consoleLogger : quietLogger;
  const drainSeconds = Number(values['drain-seconds'] ?? env['SEALSTORE_DRAIN_SECONDS'] ?? '10');
  if (!Number.isFinite(drainSeconds) || drainSeconds < 0) throw new Error(`--drain-seconds must be a number of seconds, not ${String(values['drain-seconds'] ?? env['SEALSTORE_DRAIN_SECONDS'])}`);

  let backend: Backend;
  if (values.backend === 'embedded') {
    // Loaded on demand (and with require: the entry runs under tsx's require hook, with no ES-module loader thread).
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- a lazy load under tsx's require hook, as above
      const { openEmbeddedBackend } = require('../lambdas/adapters/embedded') as typeof import('../lambdas/adapters/embedded');
      backend = await openEmbeddedBackend(dataDir);
    } catch (e) {
      throw explained(e, explainNativeModuleError(e));
    }
  } else if (values.backend === 'aws') {
    // The AWS SDK clients load only for this backend.
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- a lazy load, as above
    const aws = require('../lambdas/adapters/aws') as typeof import('../lambdas/adapters/aws');
    if (values.init) {
      const created = await aws.initFromEnv(env);
      process.stdout.write(`initialised: table ${created.tableName}, bucket ${created.bucket}, key ${created.keyId}\n`);
    }
    backend = await aws.openAwsBackend(env);
  } else {
    throw new Error(`--backend must be embedded or aws, not ${values.backend}`);
  }

  const { credentials, created } = await loadRootCredentials(dataDir, env);
  const lambdaLimits = values['lambda-limits'] || ['1', 'true'].includes(env['SEALSTORE_LAMBDA_LIMITS'] ?? '');
  // Bodies spooled for their signature: in the data directory its lock keeps to one server; else a temp directory.
  const spoolDir = values.backend === 'embedded' ? join(dataDir, 'spool') : undefined;
  const domains = values.domain ?? (env['SEALSTORE_DOMAIN'] ?? '').split(',').filter((d) => d.trim() !== '');
  const server = await startServer({ backend, credentials, host, port, region, logger, lambdaLimits, ...(spoolDir === undefined ? {} : { spoolDir }), sealIndex: values['seal-index'], domains }).catch((e: unknown) => {
    throw explained(e, explainListenError(e, host, port));
  });
  // Credentials kept in the data directory are printed by the first start that gets this far, even when the one
  // that created them failed (a port in use) before it could print them.
  const credentialsFromEnv = Boolean(env['SEALSTORE_ACCESS_KEY_ID'] && env['SEALSTORE_SECRET_ACCESS_KEY']);
  const showCredentials = !credentialsFromEnv && (created || !(await rootCredentialsShown(dataDir)));
  if (values['seal-index']) process.stdout.write(`--seal-index: authenticated ${server.sealedRows} index rows as they stood\n`);
  const rotationSeconds = Number(values['rotation-interval'] ?? env['SEALSTORE_ROTATION_INTERVAL_SECONDS'] ?? '3600');
  if (!Number.isFinite(rotationSeconds) || rotationSeconds < 0) throw new Error(`--rotation-interval must be a number of seconds, not ${String(rotationSeconds)}`);
  const lifecycle = server.lifecycle;
  const rotationTimer = lifecycle && rotationSeconds > 0 ? every(rotationSeconds * 1000, 'key lifecycle run', () => lifecycle.runJob()) : undefined;
  // The local stand-in for the housekeeping schedule: idle uploads aborted, unreferenced blobs deleted.
  const housekeepingConfig = housekeepingConfigFromEnv(env);
  const housekeepingTimer = every(5 * 60 * 1000, 'housekeeping run', () => runHousekeeping(server.service, housekeepingConfig));
  // Signals are handled from the moment the server listens: a SIGTERM that lands while the banner is printed (or the
  // credentials marked shown) still drains and exits 0 instead of killing the process mid-write.
  let closing = false;
  const shutdown = (signal: NodeJS.Signals) => {
    if (closing) {
      // The second Ctrl-C: whoever presses it again wants out now, transfers or not.
      process.stdout.write(`${signal} again: exiting now${inFlightText(server.inFlight(), ', cutting')}\n`);
      process.exit(128 + (signal === 'SIGINT' ? 2 : 15));
    }
    closing = true;
    if (rotationTimer) clearInterval(rotationTimer);
    clearInterval(housekeepingTimer);
    const inFlight = server.inFlight();
    process.stdout.write(
      inFlight === 0 || drainSeconds === 0
        ? `${signal}: closing${inFlightText(inFlight, ', cutting')}\n`
        : `${signal}: not accepting new connections; finishing ${inFlightText(inFlight)} (up to ${drainSeconds} s; Ctrl-C again to exit now)\n`,
    );
    server.close(drainSeconds * 1000).then(
      ({ cut }) => {
        if (cut > 0) process.stdout.write(`${signal}: ${inFlightText(cut)} still unfinished after ${drainSeconds} s: cut (--drain-seconds sets the wait)\n`);
        process.stdout.write('closed\n');
        process.exit(0);
      },
      (e: unknown) => {
        process.stderr.write(`shutdown failed: ${String(e)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  const url = server.url;
  process.stdout.write(
    [
      `sealstore (${values.backend}) listening on ${url}${lambdaLimits ? ' with the deployed stack\'s request limits (--lambda-limits)' : ''}`,
      `data: ${values.backend === 'embedded' ? dataDir : 'AWS endpoint from the SDK environment'}`,
      `addressing: path style, or virtual-hosted as bucket.${server.domains.join(' / bucket.')} (--domain adds more)`,
      showCredentials
        ? `root credentials (printed once${created ? '' : ': the start that created them stopped before printing them'}; saved in ${dataDir}/${ROOT_CREDENTIALS_FILE}, mode 0600):`
        : `root credentials: ${credentialsFromEnv ? 'from SEALSTORE_ACCESS_KEY_ID' : `${dataDir}/${ROOT_CREDENTIALS_FILE}`}`,
      ...(showCredentials ? [`  access key id:     ${credentials.accessKeyId}`, `  secret access key: ${credentials.secretAccessKey}`] : []),
      '',
      'Try it:',
      `  export AWS_ACCESS_KEY_ID=${credentials.accessKeyId} AWS_SECRET_ACCESS_KEY=<secret> AWS_DEFAULT_REGION=${region}`,
      `  aws --endpoint-url ${url} s3 mb s3://demo`,
      `  aws --endpoint-url ${url} s3 cp ./README.md s3://demo/README.md`,
      `  curl --aws-sigv4 "aws:amz:${region}:s3" --user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" ${url}/demo/README.md`,
      '',
    ].join('\n'),
  );

  if (showCredentials) await markRootCredentialsShown(dataDir);

}

/** "2 requests in flight", "1 request in flight"; with a lead (", cutting"), nothing when there are none. */
function inFlightText(n: number, lead?: string): string {
  if (lead !== undefined && n === 0) return '';
  return `${lead === undefined ? '' : `${lead} `}${n} request${n === 1 ? '' : 's'} in flight`;
}

/** An error whose message is `explanation` when there is one: main() prints messages, not stacks. */
function explained(e: unknown, explanation: string | undefined): unknown {
  return explanation === undefined ? e : new ExplainedStartError(explanation);
}

/** A start failure already put in words for the user: printed as it stands. */
class ExplainedStartError extends Error {}

/** The local stand-in for an EventBridge schedule: one run per interval, reported on stdout, never stacked. */
function every(intervalMs: number, name: string, job: () => Promise<object>): NodeJS.Timeout {
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    job()
      .then((report) => consoleLogger.info(name, { ...report }))
      .catch((e: unknown) => consoleLogger.error(`${name} failed`, { error: e instanceof Error ? e.message : String(e) }))
      .finally(() => {
        running = false;
      });
  }, intervalMs);
  timer.unref();
  return timer;
}

main().catch((e: unknown) => {
  if (e instanceof ExplainedStartError) process.stderr.write(e.message);
  else process.stderr.write(`sealstore: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
