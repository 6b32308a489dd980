// Issue 13 item 2: a cold start must not depend on the CMK the stack was first deployed with. After a rollover
// that CMK is retired and its deletion scheduled; once KMS has deleted it, every call naming it answers
// NotFoundException. A fresh composition (what a Lambda cold start builds: lambdas/handlers/api.ts and rotation.ts)
// must still serve every object under the active CMK, and an object still under the deleted CMK must fail with an
// error that names that CMK.
//
// Why a mock: moto schedules a deletion (PendingDeletion, a deletion date) but never carries it out, and enforces no
// key states, so it cannot answer as KMS does after the pending window. `deletedInKms` below is a middleware on the
// SDK's KMS client that answers NotFoundException for that one key only — any call naming it (key id, key ARN,
// alias), and any Decrypt/ReEncrypt whose ciphertext moto reports as wrapped under it — and passes every other call
// to moto unchanged. It also records the calls it refused, so the test can show the cold start never asked for it.
import { CreateKeyCommand, NotFoundException, type KMSClient } from '@aws-sdk/client-kms';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3ServiceException, type S3Client } from '@aws-sdk/client-s3';
import { randomBytes } from 'node:crypto';
import { initAwsResources, openAwsBackend, type AwsClients } from '../../lambdas/adapters/aws';
import { composeCore, composeStore } from '../../lambdas/compose-store';
import { LAMBDA_LIMITS } from '../../lambdas/core/limits';
import { objectFromItem, objectsPk } from '../../lambdas/core/records';
import { startServer, type RunningServer } from '../../local/server';
import { client } from '../admin/helpers';
import { motoClients } from '../aws/moto-clients';
import { awsBackendUnavailable } from '../support/aws-target';
import { testCreds } from '../support/embedded-target';
import { startMoto, type MotoServer } from '../support/moto';

const describeOnMoto = awsBackendUnavailable ? describe.skip : describe;
const skipped = awsBackendUnavailable ? ` — skipped: ${awsBackendUnavailable}` : '';
const BUCKET = 'records';
const CONFIG = { retireGraceMs: 0, activeKeyCacheMs: 0, pendingWindowDays: 7, batchSize: 1, pageSize: 1 };

interface DeletedKey {
  readonly arn: string;
  readonly alias: string;
  /** KMS operations refused because they named the deleted key (or its ciphertext). */
  readonly refused: string[];
}

/** The fault described at the top of the file: KMS answers for `key` as it does once the key is deleted. */
function deletedInKms(kms: KMSClient, key: { arn: string; alias: string }): DeletedKey {
  const refused: string[] = [];
  const keyId = key.arn.slice(key.arn.lastIndexOf('/') + 1);
  const names = (ref: unknown) => typeof ref === 'string' && (ref === key.arn || ref === keyId || ref === key.alias || ref.endsWith(`:${key.alias}`));
  const notFound = (operation: string) => {
    refused.push(operation);
    return new NotFoundException({ message: `Key '${key.arn}' does not exist`, $metadata: { httpStatusCode: 400 } });
  };
  kms.middlewareStack.add(
    (next, context) => async (args) => {
      const operation = String(context.commandName ?? '').replace(/Command$/, '');
      const input = args.input as { KeyId?: unknown; DestinationKeyId?: unknown };
      if (names(input.KeyId) || names(input.DestinationKeyId)) throw notFound(operation);
      const result = await next(args);
      // Decrypt and ReEncrypt name no key: the ciphertext does, and moto still opens it.
      const output = result.output as { KeyId?: unknown; SourceKeyId?: unknown; Plaintext?: Uint8Array };
      if ((operation === 'Decrypt' && names(output.KeyId)) || (operation === 'ReEncrypt' && names(output.SourceKeyId))) {
        output.Plaintext?.fill(0);
        throw notFound(operation);
      }
      return result;
    },
    { step: 'initialize', name: 'deletedKeyFault' },
  );
  return { ...key, refused };
}

async function bodyOf(s3: S3Client, key: string): Promise<Buffer> {
  const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  return Buffer.from((await got.Body?.transformToByteArray()) ?? []);
}

describeOnMoto(`a cold start after the original CMK is deleted (moto)${skipped}`, () => {
  let moto: MotoServer;
  const opened: AwsClients[] = [];
  const servers: RunningServer[] = [];
  const s3s: S3Client[] = [];
  const creds = testCreds();

  beforeAll(async () => {
    const started = await startMoto();
    if (!started) throw new Error('moto_server vanished');
    moto = started;
  });
  afterAll(async () => {
    for (const s of s3s) s.destroy();
    for (const s of servers) await s.close();
    for (const c of opened) {
      c.kms.destroy();
      c.s3.destroy();
      c.dynamodb.destroy();
    }
    await moto.stop();
  });

  const clients = () => {
    const c = motoClients(moto.endpoint);
    opened.push(c);
    return c;
  };
  const serve = async (env: NodeJS.ProcessEnv, with_: AwsClients) => {
    const server = await startServer({ backend: await openAwsBackend(env, with_), credentials: creds, lifecycleConfig: CONFIG });
    servers.push(server);
    const s3 = client(server.url, creds);
    s3s.push(s3);
    return { server, s3 };
  };

  it('serves objects under the active CMK, runs the rotation job, and names the deleted CMK for an object still under it', async () => {
    // As deployed: the stack's CMK (with its alias) is SEALSTORE_KMS_KEY_ID; a second CMK is trusted for the rollover.
    const setup = clients();
    const suffix = randomBytes(4).toString('hex');
    const names = { tableName: `sealstore-${suffix}`, bucket: `sealstore-blobs-${suffix}`, keyAlias: `alias/sealstore-${suffix}` };
    const original = (await initAwsResources(setup, names)).keyId;
    const next = (await setup.kms.send(new CreateKeyCommand({ Description: 'sealstore rollover target' }))).KeyMetadata?.Arn;
    if (next === undefined) throw new Error('moto created no key');
    const env: NodeJS.ProcessEnv = {
      SEALSTORE_TABLE_NAME: names.tableName,
      SEALSTORE_BLOB_BUCKET: names.bucket,
      SEALSTORE_KMS_KEY_ID: original,
      SEALSTORE_TRUSTED_KEY_IDS: `${original},${next}`,
    };

    // Life before the deletion: two objects under the original CMK, a rollover, one object under the new CMK, and
    // one rotation-job run with a batch of one: it moves one object and the index key off the original CMK.
    const before = await serve(env, setup);
    await before.s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    const bodies = new Map<string, Buffer>([
      ['a', randomBytes(70_000)],
      ['b', randomBytes(1_000)],
    ]);
    for (const [key, body] of bodies) await before.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }));
    await before.server.lifecycle.rollover(next);
    bodies.set('c', randomBytes(5_000));
    await before.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'c', Body: bodies.get('c') }));
    const run = await before.server.lifecycle.runJob();
    expect({ rewrapped: run.rewrapped, secrets: run.sealedSecretsRewrapped, errors: run.errors }).toEqual({ rewrapped: 1, secrets: 1, errors: 0 });
    const under = async (key: string) => objectFromItem((await before.server.store.index.get(objectsPk(BUCKET), key))!).keyId;
    const stranded = [...bodies.keys()].filter((k) => k !== 'c');
    const moved: string[] = [];
    for (const key of stranded.splice(0)) ((await under(key)) === next ? moved : stranded).push(key);
    expect({ moved: moved.length, stranded: stranded.length }).toEqual({ moved: 1, stranded: 1 });
    // The original CMK still wraps one object, so only a forced deletion schedules it now (as a retired CMK's is).
    await before.server.lifecycle.scheduleDeletion(original, { days: 7, force: true });
    expect((await before.server.lifecycle.list()).map((k) => [k.keyId, k.role, k.kmsState])).toEqual([
      [next, 'active', 'Enabled'],
      [original, 'retiring', 'PendingDeletion'],
    ]);

    // The pending window has passed: KMS has deleted the original CMK (and its alias).
    const after = clients();
    const deleted = deletedInKms(after.kms, { arn: original, alias: names.keyAlias });

    // The API function's cold start (lambdas/handlers/api.ts): open the ports, compose, open the index key.
    const apiStore = composeStore(await openAwsBackend(env, after), creds, { region: 'us-east-1', limits: { limits: LAMBDA_LIMITS }, lifecycleConfig: CONFIG });
    await apiStore.indexKey.get({ create: true });
    expect(deleted.refused).toEqual([]);

    // A fresh composition over HTTP serves every object under the active CMK and writes new ones under it.
    const cold = await serve(env, after);
    for (const key of [...moved, 'c']) expect({ key, same: (await bodyOf(cold.s3, key)).equals(bodies.get(key)!) }).toEqual({ key, same: true });
    const fresh = randomBytes(3_000);
    await cold.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'd', Body: fresh }));
    expect((await bodyOf(cold.s3, 'd')).equals(fresh)).toBe(true);
    expect(deleted.refused).toEqual([]);

    // The object still under the deleted CMK fails, naming that CMK and KMS's answer.
    const failure = await bodyOf(cold.s3, stranded[0]!).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(failure).toBeInstanceOf(S3ServiceException);
    const err = failure as S3ServiceException;
    expect({ code: err.name, status: err.$metadata.httpStatusCode }).toEqual({ code: 'KMS.NotFoundException', status: 400 });
    expect(err.message).toContain(original);
    expect(err.message).toMatch(/no longer exists in KMS/);
    expect(deleted.refused).toEqual(['Decrypt']);

    // The rotation function's cold start (lambdas/handlers/rotation.ts) runs its job: it records the deletion and
    // reports the object it could not move instead of failing.
    const rotation = composeCore(await openAwsBackend(env, after), { lifecycleConfig: CONFIG }).lifecycle;
    const report = await rotation.runJob();
    expect(report.activeKeyId).toBe(next);
    expect((await rotation.list()).map((k) => [k.keyId, k.role, k.kmsState])).toEqual([
      [next, 'active', 'Enabled'],
      [original, 'retiring', 'Deleted'],
    ]);
  });
});
