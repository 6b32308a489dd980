// The admin CLI as a newcomer meets it, word for word: which credentials it used and why, what to do when the store
// refuses them, key counts before the hourly job, the state a key command leaves, and disabled access keys.
// Embedded only: the embedded vault enforces key states (KMS brings a cancelled key back Disabled; moto does not).
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { runCli } from '../../bin/sealstore-cli';
import type { Logger } from '../../lambdas/core/logger';
import { startEmbedded, type EmbeddedTarget } from '../support/embedded-target';
import { cli, cliJson, client, s3Error, type CliResult } from './helpers';

interface KeyJson {
  keyId: string;
  alias?: string;
  role: string;
  kmsState: string;
  currentMaterialId?: string;
  objectCount?: number;
  countedOnDemand?: boolean;
}

const PRECEDENCE = (file: string) =>
  `sealstore takes credentials from SEALSTORE_ACCESS_KEY_ID/SEALSTORE_SECRET_ACCESS_KEY first, then, for a store on this machine, ${file}, then AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY`;

describe('the admin CLI tells what it did and what to do next', () => {
  let target: EmbeddedTarget;
  let s3: S3Client;
  let work: string;
  const warnings: Array<{ message: string; fields?: Record<string, unknown> }> = [];
  const infos: Array<{ message: string; fields?: Record<string, unknown> }> = [];
  const logger: Logger = {
    info: (message, fields) => infos.push({ message, ...(fields ? { fields } : {}) }),
    warn: (message, fields) => warnings.push({ message, ...(fields ? { fields } : {}) }),
    error: () => undefined,
  };

  beforeAll(async () => {
    target = await startEmbedded({ lifecycleConfig: { retireGraceMs: 0, pendingWindowDays: 7 }, logger });
    s3 = client(target.url, target.creds);
    await s3.send(new CreateBucketCommand({ Bucket: 'first' }));
    work = await mkdtemp(join(tmpdir(), 'sealstore-first-cli-'));
  });
  afterAll(async () => {
    s3?.destroy();
    await target?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  /** The CLI with exactly this environment (no SEALSTORE_* unless given). */
  async function run(env: Record<string, string>, ...args: string[]): Promise<CliResult> {
    let out = '';
    let err = '';
    const code = await runCli(args, { SEALSTORE_ENDPOINT: target.url, ...env }, { out: (t) => (out += t), err: (t) => (err += t), waitMs: 0 });
    return { code, out, err };
  }

  it('takes SEALSTORE_* first, then the local store’s root credentials file, then AWS_*, and names the one it used', async () => {
    const dataDir = join(work, 'data');
    const file = join(dataDir, 'root-credentials.json');
    await rm(dataDir, { recursive: true, force: true });
    await (await import('node:fs/promises')).mkdir(dataDir);
    await writeFile(file, JSON.stringify(target.creds));
    // A shell holding some AWS account's keys: the local file wins for a store on this machine.
    const awsAccount = { AWS_ACCESS_KEY_ID: 'AKIAEXAMPLEEXAMPLE01', AWS_SECRET_ACCESS_KEY: 'an-aws-account-secret-that-sealstore-never-saw' };
    const local = await run({ ...awsAccount, SEALSTORE_DATA_DIR: dataDir }, 'keys', 'ls');
    expect(local.code).toBe(0);
    expect(local.err).toBe(`sealstore: using access key ${target.creds.accessKeyId} from ${file} (the local store's root credentials), endpoint ${target.url}\n`);

    const chosen = await run({ ...awsAccount, SEALSTORE_DATA_DIR: dataDir, SEALSTORE_ACCESS_KEY_ID: target.creds.accessKeyId, SEALSTORE_SECRET_ACCESS_KEY: target.creds.secretAccessKey }, 'keys', 'ls');
    expect(chosen.code).toBe(0);
    expect(chosen.err).toBe(`sealstore: using access key ${target.creds.accessKeyId} from SEALSTORE_ACCESS_KEY_ID/SEALSTORE_SECRET_ACCESS_KEY, endpoint ${target.url}\n`);

    const half = await run({ SEALSTORE_ACCESS_KEY_ID: target.creds.accessKeyId }, 'keys', 'ls');
    expect(half.code).toBe(2);
    expect(half.err).toBe('sealstore: SEALSTORE_ACCESS_KEY_ID and SEALSTORE_SECRET_ACCESS_KEY go together: set both, or neither\nRun `sealstore --help` for usage.\n');

    const noFile = join(work, 'no-such-dir');
    const none = await run({ SEALSTORE_DATA_DIR: noFile }, 'keys', 'ls');
    expect(none.code).toBe(2);
    expect(none.err).toBe(`sealstore: no credentials: ${PRECEDENCE(join(noFile, 'root-credentials.json'))}, and none of them is set\nRun \`sealstore --help\` for usage.\n`);
  });

  it('on InvalidAccessKeyId and SignatureDoesNotMatch, names the key, where it came from, and how to choose another', async () => {
    const noFile = join(work, 'no-such-dir');
    const unknown = await run({ SEALSTORE_DATA_DIR: noFile, AWS_ACCESS_KEY_ID: 'AKIAEXAMPLEEXAMPLE01', AWS_SECRET_ACCESS_KEY: 'an-aws-account-secret' }, 'keys', 'ls');
    expect(unknown.code).toBe(1);
    expect(unknown.err).toBe(
      `sealstore: using access key AKIAEXAMPLEEXAMPLE01 from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, endpoint ${target.url}\n` +
        'sealstore: InvalidAccessKeyId: The AWS Access Key Id you provided does not exist in our records.\n' +
        `  the store at ${target.url} does not know the access key AKIAEXAMPLEEXAMPLE01 (or it is disabled there); it came from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY.\n` +
        `  ${PRECEDENCE(join(noFile, 'root-credentials.json'))}: set SEALSTORE_ACCESS_KEY_ID and SEALSTORE_SECRET_ACCESS_KEY to use other credentials.\n`,
    );
    const wrong = await run({ SEALSTORE_DATA_DIR: noFile, SEALSTORE_ACCESS_KEY_ID: target.creds.accessKeyId, SEALSTORE_SECRET_ACCESS_KEY: 'not-the-secret-not-the-secret' }, 'keys', 'ls');
    expect(wrong.code).toBe(1);
    expect(wrong.err.split('\n').slice(1).join('\n')).toBe(
      'sealstore: SignatureDoesNotMatch: The request signature we calculated does not match the signature you provided. Check your key and signing method.\n' +
        `  the secret of ${target.creds.accessKeyId} is not the one the store at ${target.url} holds; both came from SEALSTORE_ACCESS_KEY_ID/SEALSTORE_SECRET_ACCESS_KEY.\n` +
        `  ${PRECEDENCE(join(noFile, 'root-credentials.json'))}: set SEALSTORE_ACCESS_KEY_ID and SEALSTORE_SECRET_ACCESS_KEY to use other credentials.\n`,
    );
  });

  it('keys ls counts objects before the hourly job has, and says the figure was counted just now', async () => {
    for (const key of ['a', 'b', 'c']) await s3.send(new PutObjectCommand({ Bucket: 'first', Key: key, Body: key }));
    const listed = await cli(target, 'keys', 'ls');
    expect(listed.code).toBe(0);
    expect(listed.out).toMatch(/^alias\/sealstore-default\s+active\s+Enabled\s+3\s/m);
    expect(listed.out.endsWith(
      'OBJECTS counted just now for keys the hourly lifecycle job has not counted yet (at most 10000, then shown with +); `sealstore keys rewrap` counts them all and keeps the count.\n',
    )).toBe(true);
    expect((await cli(target, 'keys', 'rewrap')).code).toBe(0);
    const counted = await cli(target, 'keys', 'ls');
    expect(counted.out).toMatch(/^alias\/sealstore-default\s+active\s+Enabled\s+3\s/m);
    expect(counted.out).not.toContain('counted just now');
    const keys = (await cliJson<{ keys: KeyJson[] }>(target, 'keys', 'ls')).keys;
    expect(keys[0]).toMatchObject({ objectCount: 3 });
    expect(keys[0]?.countedOnDemand).toBeUndefined();
  });

  it('keys rotate says what it leaves: new material current, the key’s state and role, how old material moves', async () => {
    const rotated = await cli(target, 'keys', 'rotate');
    expect(rotated.code).toBe(0);
    const [active] = (await cliJson<{ keys: KeyJson[] }>(target, 'keys', 'ls')).keys;
    expect(rotated.out.split('\n').at(-2)).toBe(
      `alias/sealstore-default has new key material (${active?.currentMaterialId}); it stays Enabled and active. New objects are sealed under the new material; objects under older material stay readable and are rewrapped by the lifecycle job (hourly), or now with \`sealstore keys rewrap --wait\`.`,
    );
  });

  it('disabling the active key warns that every PUT now fails and says how to undo it; enable says the state', async () => {
    const disabled = await cli(target, 'keys', 'disable', 'sealstore-default');
    expect(disabled.code).toBe(0);
    expect(disabled.err.split('\n').slice(1).join('\n')).toBe(
      'sealstore: warning: alias/sealstore-default is the active key: every PUT, copy and upload now fails with 403 KMS.DisabledException, and objects under it cannot be read. ' +
        'Run `sealstore keys enable sealstore-default` to undo, or make another key active: `sealstore keys create --alias A`, then `sealstore keys rollover --to A`.\n',
    );
    expect(disabled.out.split('\n').at(-2)).toBe('alias/sealstore-default is now Disabled: objects under it cannot be read until `sealstore keys enable sealstore-default`.');
    // What the warning says is what happens.
    expect(await s3Error(s3.send(new PutObjectCommand({ Bucket: 'first', Key: 'd', Body: 'd' })))).toMatchObject({ code: 'KMS.DisabledException', status: 403 });
    const enabled = await cli(target, 'keys', 'enable', 'sealstore-default');
    expect(enabled.out.split('\n').at(-2)).toBe('alias/sealstore-default is now Enabled (active).');
    await s3.send(new PutObjectCommand({ Bucket: 'first', Key: 'd', Body: 'd' }));
  });

  it('keys cancel-deletion says the key comes back Disabled, as in KMS, and what to run next', async () => {
    expect((await cli(target, 'keys', 'create', '--alias', 'spare')).code).toBe(0);
    expect((await cli(target, 'keys', 'schedule-deletion', 'spare', '--days', '7')).code).toBe(0);
    const cancelled = await cli(target, 'keys', 'cancel-deletion', 'spare');
    expect(cancelled.code).toBe(0);
    expect(cancelled.out.split('\n').at(-2)).toBe(
      'deletion of alias/spare cancelled. It is now Disabled (KMS leaves a key whose deletion is cancelled disabled): objects under it cannot be read, nor can it become active, until you run `sealstore keys enable spare`; it is standby: `sealstore keys rollover --to spare` makes it the active key again.',
    );
    // The state it names is the state it is in: a rollover is refused until the key is enabled.
    expect((await cli(target, 'keys', 'rollover', '--to', 'spare')).err).toMatch(/it is Disabled\. Enable it first/);
    expect((await cli(target, 'keys', 'enable', 'spare')).out.split('\n').at(-2)).toBe('alias/spare is now Enabled (standby).');
  });

  it('a disabled access key is refused as S3 refuses it (InvalidAccessKeyId, "does not exist"); the CLI and the operator’s log say it is disabled', async () => {
    const made = await cliJson<{ accessKey: { accessKeyId: string; secretAccessKey: string } }>(target, 'access-keys', 'create', '--bucket', 'first', '--role', 'read');
    const id = made.accessKey.accessKeyId;
    const disabled = await cli(target, 'access-keys', 'disable', id);
    expect(disabled.out).toBe(
      `${id} disabled: requests signed with it now get 403 InvalidAccessKeyId ("does not exist"), as S3 answers for an inactive key; \`sealstore access-keys enable ${id}\` restores it\n`,
    );
    const listed = await cli(target, 'access-keys', 'ls');
    expect(listed.out).toMatch(new RegExp(`^${id}\\s+Inactive\\s+read@first`, 'm'));
    expect(listed.out.endsWith(
      'Inactive keys are refused with 403 InvalidAccessKeyId ("does not exist"), as S3 answers for an inactive key, so a caller without the secret cannot tell a disabled key from an unknown one; `sealstore access-keys enable <id>` restores one.\n',
    )).toBe(true);

    const holder = client(target.url, made.accessKey);
    try {
      warnings.length = 0;
      infos.length = 0;
      const refused = await s3Error(holder.send(new ListObjectsV2Command({ Bucket: 'first' })));
      // The caller learns no more than S3 would tell it.
      expect(refused).toMatchObject({ code: 'InvalidAccessKeyId', status: 403, message: 'The AWS Access Key Id you provided does not exist in our records.' });
      // At info: it is logged before any signature is checked, so anyone holding the key id could flood a warn level.
      expect(infos).toContainEqual({
        message: 'refused a request signed with a disabled access key (the caller is answered InvalidAccessKeyId, as S3 answers for an inactive key)',
        fields: { accessKeyId: id, enableWith: `sealstore access-keys enable ${id}` },
      });
      expect(warnings).toEqual([]);
    } finally {
      holder.destroy();
    }
  });

  it('InvalidBucketName says which rule the name breaks, then all the rules', async () => {
    const rules =
      'Bucket names are 3 to 63 characters of lowercase letters, digits, hyphens and dots, begin and end with a letter or digit, have no two adjacent dots, are not IP addresses, ' +
      'and neither begin with xn--, sthree- or amzn-s3-demo- nor end with -s3alias, --ol-s3, .mrap, --x-s3 or --table-s3.';
    const refused = await s3Error(s3.send(new CreateBucketCommand({ Bucket: 'My_Records' })));
    expect(refused).toMatchObject({ code: 'InvalidBucketName', status: 400, message: `The specified bucket is not valid: it has an uppercase letter ("M"). ${rules}` });
  });
});
