// The 1 GiB round trip of `sealstore cp` through the deployed stack's request path: the installed bin in a child
// process, the API Lambda's handler behind the API Gateway stand-in (every request one base64 event under 6 MiB,
// every GET answer within the uncapped burst of a streamed response). Left out of `npm run test:fast`
// (jest.fast.config.js); about a minute on 2 cores. The same against the embedded server (S3 limits) runs with
// SEALSTORE_CP_EMBEDDED_GIB=1, and prints its times too.
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MAX_REQUEST_BODY_BYTES } from '../../lambdas/core/limits';
import { startEmbedded } from '../support/embedded-target';
import { LAMBDA_INVOKE_PAYLOAD_BYTES, startLambdaGateway } from '../support/lambda-gateway';
import { createBucket, credentialsLine, envFor, MiB, sha256File, spawnCli, writeFile, type Endpointed } from './helpers';

const GiB = 1024 * MiB;

let work: string;
let source: string;
let digest: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'sealstore-cp-large-'));
  source = join(work, 'one.gib');
  await writeFile(source, GiB);
  digest = await sha256File(source);
}, 120_000);
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

async function roundTrip(target: Endpointed, bucket: string, label: string): Promise<{ up: Record<string, unknown>; down: Record<string, unknown> }> {
  await createBucket(target, bucket);
  const env = envFor(target, join(work, `state-${bucket}`));
  const t0 = Date.now();
  const up = await spawnCli(['cp', source, `s3://${bucket}/one.gib`], env).done;
  const upSeconds = (Date.now() - t0) / 1000;
  expect(up.err).toBe(credentialsLine(env));
  expect(up.code).toBe(0);
  const back = join(work, `${bucket}.back`);
  const t1 = Date.now();
  const down = await spawnCli(['cp', `s3://${bucket}/one.gib`, back], env).done;
  const downSeconds = (Date.now() - t1) / 1000;
  expect(down.err).toBe(credentialsLine(env));
  expect(down.code).toBe(0);
  expect((await stat(back)).size).toBe(GiB);
  expect(await sha256File(back)).toBe(digest);
  await rm(back);
  const rate = (s: number) => `${(GiB / MiB / s).toFixed(0)} MiB/s`;
  console.log(`sealstore cp, 1 GiB, ${label}: up ${upSeconds.toFixed(1)} s (${rate(upSeconds)}), down ${downSeconds.toFixed(1)} s (${rate(downSeconds)}), bins' own start included`);
  return { up: up.events.at(-1) ?? {}, down: down.events.at(-1) ?? {} };
}

it("round-trips 1 GiB byte for byte through the deployed stack's request path", async () => {
  const gateway = await startLambdaGateway();
  try {
    const { up, down } = await roundTrip(gateway, 'cp-large-stack', "the stack's request path");
    expect(up).toMatchObject({ event: 'done', parts: Math.ceil(GiB / MAX_REQUEST_BODY_BYTES), partSize: MAX_REQUEST_BODY_BYTES });
    expect(down).toMatchObject({ event: 'done', parts: Math.ceil(GiB / (5 * MiB)) });
    expect(gateway.records.every((r) => r.status < 300)).toBe(true);
    expect(Math.max(...gateway.records.map((r) => r.eventBytes))).toBeLessThanOrEqual(LAMBDA_INVOKE_PAYLOAD_BYTES);
    expect(Math.max(...gateway.records.map((r) => r.responseBytes))).toBeLessThanOrEqual(5 * MiB);
  } finally {
    await gateway.close();
  }
}, 600_000);

const embeddedToo = process.env['SEALSTORE_CP_EMBEDDED_GIB'] === '1';
(embeddedToo ? it : it.skip)(`round-trips 1 GiB through the embedded server${embeddedToo ? '' : ' (skipped: set SEALSTORE_CP_EMBEDDED_GIB=1 to run it; npm test keeps one 1 GiB case)'}`, async () => {
  const target = await startEmbedded();
  try {
    const { up } = await roundTrip(target, 'cp-large-embedded', 'the embedded server (S3 limits)');
    expect(up).toMatchObject({ event: 'done', parts: 64, partSize: 16 * MiB });
  } finally {
    await target.close();
  }
}, 600_000);
