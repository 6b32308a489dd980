// The README's quick start, run as written: every ```sh block of the section through bash (set -euo pipefail) against
// a fresh store started by `npm start`'s own entry, with the port and credentials substituted as a newcomer would;
// and its ```ini AWS CLI config written by hand works, while the one-line form it warns about fails as it says.
// A README change that breaks a command breaks this test. Skips loudly when the AWS CLI or curl is missing.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { startServerProcess, type ServerProcess } from '../support/server-process';
import { awsCliVersion, curlVersion, missingReason, resolveTool, warnIfMissing } from '../support/tools';

const ROOT = join(__dirname, '..', '..');
const README = join(ROOT, 'README.md');
const CLI_BIN = join(ROOT, 'bin', 'sealstore.js');
const README_URL = 'http://127.0.0.1:9000';

/** The text of the README section under `## title`, up to the next `## ` heading. */
export function section(markdown: string, title: string): string {
  const start = markdown.indexOf(`\n## ${title}\n`);
  if (start < 0) throw new Error(`README has no "## ${title}" section`);
  const end = markdown.indexOf('\n## ', start + 1);
  return markdown.slice(start, end < 0 ? undefined : end);
}

/** The fenced code blocks of `text` in `language`, in order. */
export function fencedBlocks(text: string, language: string): string[] {
  return [...text.matchAll(/^```(\w*)\n([\s\S]*?)^```$/gm)].filter((m) => m[1] === language).map((m) => m[2] ?? '');
}

interface Bash {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function bash(script: string, cwd: string, env: NodeJS.ProcessEnv): Promise<Bash> {
  return new Promise((resolve) => {
    execFile('bash', ['-c', script], { cwd, env, timeout: 150_000, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

const awsVersion = awsCliVersion();
const curl = curlVersion();
warnIfMissing(awsVersion, "the README quick start's test", 'aws --version', 'the AWS CLI');
warnIfMissing(curl, "the README quick start's test", 'curl --version', 'curl');
const missing = !awsVersion ? missingReason('aws --version', 'the AWS CLI') : !curl ? missingReason('curl --version', 'curl') : undefined;
const describeQuickStart = missing ? describe.skip : describe;

describeQuickStart(`the README's quick start, run as written${missing ? ` — SKIPPED: ${missing}` : ''}`, () => {
  let work: string;
  let server: ServerProcess;
  let creds: { accessKeyId: string; secretAccessKey: string };
  let quickStart: string;

  /** The environment of a newcomer's second terminal: their own HOME (for ~/.aws/config), nothing else of ours. */
  const shellEnv = (home: string): NodeJS.ProcessEnv => ({
    PATH: process.env['PATH'],
    HOME: home,
    AWS_SHARED_CREDENTIALS_FILE: join(home, 'no-credentials-file'),
    AWS_EC2_METADATA_DISABLED: 'true',
  });

  beforeAll(async () => {
    quickStart = section(await readFile(README, 'utf8'), 'Quick start');
    work = await mkdtemp(join(tmpdir(), 'sealstore-quick-start-'));
    // npm start's default data directory, ./.sealstore, in the directory the newcomer's commands run in.
    server = await startServerProcess([], { SEALSTORE_DATA_DIR: join(work, '.sealstore'), SEALSTORE_ACCESS_KEY_ID: '', SEALSTORE_SECRET_ACCESS_KEY: '' });
    creds = JSON.parse(await readFile(join(work, '.sealstore', 'root-credentials.json'), 'utf8')) as typeof creds;
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('runs every shell command of the section, in order, and each does what the section says', async () => {
    const blocks = fencedBlocks(quickStart, 'sh');
    expect(blocks.length).toBeGreaterThanOrEqual(4);
    let commands = blocks.join('\n');
    // `npm start` is the server this test started through the same entry (bin/server.ts).
    expect(commands).toMatch(/^npm start$/m);
    commands = commands.replace(/^npm start$/m, '');
    for (const placeholder of [README_URL, '<id>', '<secret>']) expect(commands).toContain(placeholder);
    commands = commands.replaceAll(README_URL, server.url).replaceAll('<id>', creds.accessKeyId).replaceAll('<secret>', creds.secretAccessKey);
    const home = join(work, 'home');
    await mkdir(home);
    const script = [
      'set -euo pipefail',
      // An HTTP error fails the script (curl itself exits 0 on a 403); the command line is the README's.
      'curl() { command curl --fail-with-body --silent --show-error "$@"; echo; }',
      // What `npx sealstore` runs in the repository: the package's bin. The commands run in their own directory.
      `npx() { if [ "$1" = sealstore ]; then shift; node ${JSON.stringify(CLI_BIN)} "$@"; else command npx "$@"; fi; }`,
      commands,
    ].join('\n');
    // The admin CLI's default endpoint is port 9000; this store listens on a free port instead.
    const ran = await bash(script, work, { ...shellEnv(home), SEALSTORE_ENDPOINT: server.url });
    if (ran.code !== 0) throw new Error(`the quick start failed (exit ${ran.code}):\n${ran.stdout}\n${ran.stderr}`);

    expect(ran.stdout).toContain('make_bucket: records');
    expect(ran.stdout).toContain('upload: ./scan.txt to s3://records/patients/42/scan.txt');
    expect(ran.stdout).toMatch(/\s22 patients\/42\/scan\.txt/);
    // The presign printed, then fetched by plain curl: SigV4, thanks to the configured setting.
    expect(ran.stdout).toMatch(/X-Amz-Algorithm=AWS4-HMAC-SHA256/);
    expect(ran.stdout.split('\n').filter((line) => line === 'patient 42: all clear')).toHaveLength(1);
    // The ranged reads: get-object into head.txt, and curl's 'Range: bytes=0-9'.
    expect(await readFile(join(work, 'head.txt'), 'utf8')).toBe('patient 42');
    expect(ran.stdout.split('\n')).toContain('patient 42');
    // The admin CLI found the local store's root credentials, listed the keys and made an access key.
    expect(ran.stderr).toContain(`sealstore: using access key ${creds.accessKeyId} from ${join(work, '.sealstore', 'root-credentials.json')} (the local store's root credentials)`);
    expect(ran.stdout).toMatch(/^alias\/sealstore-default\s+active\s+Enabled\s+3\s/m);
    expect(ran.stdout).toMatch(/^secret access key: \S{40}$/m);

    const s3 = new S3Client({ endpoint: server.url, region: 'us-east-1', forcePathStyle: true, credentials: creds });
    try {
      expect((await s3.send(new HeadObjectCommand({ Bucket: 'records', Key: 'scan.txt' }))).ContentType).toBe('text/plain');
      expect((await s3.send(new HeadObjectCommand({ Bucket: 'records', Key: 'copy-of-scan.txt' }))).ContentLength).toBe(22);
    } finally {
      s3.destroy();
    }
    // `aws configure set` wrote exactly the config the section shows.
    const [ini] = fencedBlocks(quickStart, 'ini');
    expect(await readFile(join(home, '.aws', 'config'), 'utf8')).toBe(ini);
  }, 150_000);

  it('the ~/.aws/config the section shows, written by hand, makes `aws s3 presign` give a URL that works', async () => {
    const [ini] = fencedBlocks(quickStart, 'ini');
    const home = join(work, 'home-by-hand');
    await mkdir(join(home, '.aws'), { recursive: true });
    await writeFile(join(home, '.aws', 'config'), ini ?? '');
    await writeFile(join(work, 'note.txt'), 'by hand');
    const env = { ...shellEnv(home), AWS_ACCESS_KEY_ID: creds.accessKeyId, AWS_SECRET_ACCESS_KEY: creds.secretAccessKey, AWS_DEFAULT_REGION: 'us-east-1' };
    const aws = resolveTool('aws');
    const put = await bash(`${aws} --endpoint-url ${server.url} s3 cp ./note.txt s3://records/note.txt`, work, env);
    expect(put.stderr).toBe('');
    const presigned = await bash(`${aws} --endpoint-url ${server.url} s3 presign s3://records/note.txt --expires-in 300`, work, env);
    expect(presigned.code).toBe(0);
    const res = await fetch(presigned.stdout.trim());
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('by hand');
  }, 60_000);

  it('the one-line form the section warns about breaks every aws command, as it says', async () => {
    expect(quickStart).toContain("written on one line (`s3 = signature_version = s3v4`), the setting makes every\n`aws` command fail with `'str' object has no attribute 'get'`");
    const home = join(work, 'home-one-line');
    await mkdir(join(home, '.aws'), { recursive: true });
    await writeFile(join(home, '.aws', 'config'), '[default]\ns3 = signature_version = s3v4\n');
    const env = { ...shellEnv(home), AWS_ACCESS_KEY_ID: creds.accessKeyId, AWS_SECRET_ACCESS_KEY: creds.secretAccessKey, AWS_DEFAULT_REGION: 'us-east-1' };
    const broken = await bash(`${resolveTool('aws')} --endpoint-url ${server.url} s3 ls`, work, env);
    expect(broken.code).not.toBe(0);
    expect(broken.stderr).toContain("'str' object has no attribute 'get'");
  }, 60_000);
});
