// Third-party clients against the embedded server: the AWS CLI (v1, botocore/s3transfer) and curl's SigV4.
// Each skips loudly, never silently passes, when its tool is not installed.
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile, mkdir, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { startEmbedded, type EmbeddedTarget } from '../support/embedded-target';
import { s3Client } from './s3-suite';
import { awsCliVersion, curlVersion, isolatedAwsCliEnv, resolveTool, warnIfMissing } from '../support/tools';

const run = promisify(execFile);
const MiB = 1024 * 1024;
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');

/**
 * A test's budget from the number of CLI calls it makes: CLI v1 spends 0.5-1 s starting Python on an idle
 * machine and several seconds on a loaded 2-core one (this suite once took 53 s against a flat 60 s), so each
 * call gets 8 s on top of a 20 s base for the store's own work.
 */
const CLI_CALLS_TIMEOUT = (calls: number): number => 20_000 + calls * 8_000;

const awsVersion = awsCliVersion();
const curl = curlVersion();
warnIfMissing(awsVersion, 'AWS CLI compatibility tests', 'aws --version', 'the AWS CLI');
warnIfMissing(curl, 'curl SigV4 tests', 'curl --version', 'curl');

describe('third-party S3 clients against the embedded server', () => {
  let target: EmbeddedTarget;
  let s3: S3Client;
  let work: string;
  let env: NodeJS.ProcessEnv;
  let n = 0;
  const bucketName = () => `cli-${Date.now().toString(36)}-${n++}`;

  beforeAll(async () => {
    target = await startEmbedded();
    s3 = s3Client(target);
    work = await mkdtemp(join(tmpdir(), 'sealstore-cli-'));
    // The CLI's own transfer settings (8 MB threshold and parts): the embedded server takes S3's limits.
    env = { ...(await isolatedAwsCliEnv(work, target.creds)), AWS_MAX_ATTEMPTS: '1' };
  }, 60_000);
  afterAll(async () => {
    s3?.destroy();
    await target?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  const aws = async (...args: string[]): Promise<string> => {
    try {
      const { stdout } = await run(resolveTool('aws'), [...args, '--endpoint-url', target.url], { env, cwd: work, maxBuffer: 64 * MiB });
      return stdout;
    } catch (e) {
      const err = e as { stderr?: string; message: string };
      throw new Error(`aws ${args.join(' ')} failed: ${err.stderr ?? err.message}`);
    }
  };
  const awsJson = async <T>(...args: string[]): Promise<T> => JSON.parse(await aws(...args, '--output', 'json')) as T;
  const awsFails = async (...args: string[]): Promise<string> => {
    try {
      await run(resolveTool('aws'), [...args, '--endpoint-url', target.url], { env, cwd: work });
    } catch (e) {
      return (e as { stderr?: string }).stderr ?? '';
    }
    throw new Error(`aws ${args.join(' ')} succeeded, expected a failure`);
  };

  const describeCli = awsVersion ? describe : describe.skip;
  describeCli(`the AWS CLI (${awsVersion ?? 'not installed'})`, () => {
    it('makes buckets, copies, lists, syncs and removes with `aws s3`', async () => {
      const b = bucketName();
      expect(await aws('s3', 'mb', `s3://${b}`)).toContain(`make_bucket: ${b}`);
      const small = randomBytes(3 * MiB + 11);
      await writeFile(join(work, 'small.bin'), small);
      await aws('s3', 'cp', join(work, 'small.bin'), `s3://${b}/dir/small.bin`);
      expect(await aws('s3', 'ls', `s3://${b}/dir/`)).toMatch(new RegExp(`${small.length} small\\.bin`));
      await aws('s3', 'cp', `s3://${b}/dir/small.bin`, join(work, 'small.back'));
      expect(sha256(await readFile(join(work, 'small.back')))).toBe(sha256(small));

      const src = join(work, 'tree');
      await mkdir(join(src, 'sub'), { recursive: true });
      const files: Record<string, Buffer> = { 'a.txt': Buffer.from('alpha'), 'sub/b.bin': randomBytes(200_000), 'sub/ü c.txt': Buffer.from('unicode') };
      for (const [name, data] of Object.entries(files)) await writeFile(join(src, name), data);
      await aws('s3', 'sync', src, `s3://${b}/synced/`);
      const listing = await aws('s3', 'ls', '--recursive', `s3://${b}/synced/`);
      for (const name of Object.keys(files)) expect(listing).toContain(`synced/${name}`);
      // A second sync has nothing to do: sizes and times match.
      expect((await aws('s3', 'sync', src, `s3://${b}/synced/`)).trim()).toBe('');
      const back = join(work, 'tree-back');
      await aws('s3', 'sync', `s3://${b}/synced/`, back);
      for (const [name, data] of Object.entries(files)) expect((await readFile(join(back, name))).equals(data)).toBe(true);
      await aws('s3', 'rm', '--recursive', `s3://${b}/synced/`);
      expect((await aws('s3', 'ls', '--recursive', `s3://${b}/`)).trim().split('\n')).toHaveLength(1);
      await aws('s3', 'rm', `s3://${b}/dir/small.bin`);
      expect(await aws('s3', 'rb', `s3://${b}`)).toContain(`remove_bucket: ${b}`);
    }, CLI_CALLS_TIMEOUT(12));

    it('speaks `aws s3api`: put/get with ranges, head, list v1 and v2, location and head-bucket', async () => {
      const b = bucketName();
      await aws('s3api', 'create-bucket', '--bucket', b);
      await aws('s3api', 'head-bucket', '--bucket', b);
      const location = await awsJson<{ LocationConstraint: string | null }>('s3api', 'get-bucket-location', '--bucket', b);
      expect(location.LocationConstraint ?? null).toBeNull();
      const body = randomBytes(300_000);
      await writeFile(join(work, 'obj.bin'), body);
      const put = await awsJson<{ ETag: string; ServerSideEncryption: string }>('s3api', 'put-object', '--bucket', b, '--key', 'k/obj.bin', '--body', join(work, 'obj.bin'), '--content-type', 'application/x-cli', '--metadata', 'who=cli');
      // Keyed, as S3's SSE-KMS ETags: not the body's MD5 (the CLI does not treat it as one either).
      expect(put.ETag).toMatch(/^"[0-9a-f]{32}"$/);
      expect(put.ETag).not.toBe(`"${md5(body)}"`);
      expect(put.ServerSideEncryption).toBe('aws:kms');
      const got = await awsJson<{ ContentRange: string; ContentLength: number }>('s3api', 'get-object', '--bucket', b, '--key', 'k/obj.bin', '--range', 'bytes=65530-131080', join(work, 'range.out'));
      expect(got.ContentRange).toBe('bytes 65530-131080/300000');
      expect((await readFile(join(work, 'range.out'))).equals(body.subarray(65530, 131081))).toBe(true);
      const head = await awsJson<{ ContentLength: number; ContentType: string; Metadata: Record<string, string>; ETag: string }>('s3api', 'head-object', '--bucket', b, '--key', 'k/obj.bin');
      expect([head.ContentLength, head.ContentType, head.Metadata, head.ETag]).toEqual([300000, 'application/x-cli', { who: 'cli' }, put.ETag]);
      await aws('s3api', 'put-object', '--bucket', b, '--key', 'k/other', '--body', join(work, 'obj.bin'));
      await aws('s3api', 'put-object', '--bucket', b, '--key', 'top', '--body', join(work, 'obj.bin'));
      const v2 = await awsJson<{ Contents: Array<{ Key: string; Size: number }>; KeyCount: number }>('s3api', 'list-objects-v2', '--bucket', b, '--prefix', 'k/');
      expect(v2.Contents.map((c) => [c.Key, c.Size])).toEqual([['k/obj.bin', 300000], ['k/other', 300000]]);
      // --page-size makes the CLI follow continuation tokens across three pages.
      const paged = await awsJson<{ Contents: Array<{ Key: string }> }>('s3api', 'list-objects-v2', '--bucket', b, '--page-size', '1');
      expect(paged.Contents.map((c) => c.Key)).toEqual(['k/obj.bin', 'k/other', 'top']);
      const v1 = await awsJson<{ Contents: Array<{ Key: string }>; CommonPrefixes: Array<{ Prefix: string }> }>('s3api', 'list-objects', '--bucket', b, '--delimiter', '/');
      expect(v1.Contents.map((c) => c.Key)).toEqual(['top']);
      expect(v1.CommonPrefixes.map((p) => p.Prefix)).toEqual(['k/']);
      const v1paged = await awsJson<{ Contents: Array<{ Key: string }> }>('s3api', 'list-objects', '--bucket', b, '--page-size', '2');
      expect(v1paged.Contents.map((c) => c.Key)).toEqual(['k/obj.bin', 'k/other', 'top']);
      expect(await awsFails('s3api', 'head-object', '--bucket', b, '--key', 'missing')).toMatch(/404|Not Found/);
    }, CLI_CALLS_TIMEOUT(13));

    it('runs a multipart upload step by step with `aws s3api` and reads it back with `aws s3 cp`', async () => {
      const b = bucketName();
      await aws('s3', 'mb', `s3://${b}`);
      const parts = [randomBytes(5 * MiB), randomBytes(5 * MiB), randomBytes(MiB + 77)];
      const { UploadId } = await awsJson<{ UploadId: string }>('s3api', 'create-multipart-upload', '--bucket', b, '--key', 'mp.bin');
      const done: Array<{ PartNumber: number; ETag: string }> = [];
      for (const [i, data] of parts.entries()) {
        const file = join(work, `part-${i}`);
        await writeFile(file, data);
        const r = await awsJson<{ ETag: string }>('s3api', 'upload-part', '--bucket', b, '--key', 'mp.bin', '--upload-id', UploadId, '--part-number', String(i + 1), '--body', file);
        expect(r.ETag).toMatch(/^"[0-9a-f]{32}"$/);
        expect(r.ETag).not.toBe(`"${md5(data)}"`);
        done.push({ PartNumber: i + 1, ETag: r.ETag });
      }
      const listed = await awsJson<{ Parts: Array<{ PartNumber: number; Size: number; ETag: string }> }>('s3api', 'list-parts', '--bucket', b, '--key', 'mp.bin', '--upload-id', UploadId);
      expect(listed.Parts.map((p) => [p.PartNumber, p.Size, p.ETag])).toEqual(parts.map((p, i) => [i + 1, p.length, done[i]!.ETag]));
      const uploads = await awsJson<{ Uploads: Array<{ Key: string; UploadId: string }> }>('s3api', 'list-multipart-uploads', '--bucket', b);
      expect(uploads.Uploads.map((u) => u.UploadId)).toEqual([UploadId]);
      await writeFile(join(work, 'parts.json'), JSON.stringify({ Parts: done }));
      const completed = await awsJson<{ ETag: string; Key: string }>('s3api', 'complete-multipart-upload', '--bucket', b, '--key', 'mp.bin', '--upload-id', UploadId, '--multipart-upload', `file://${join(work, 'parts.json')}`);
      const partBytes = Buffer.concat(done.map((p) => Buffer.from(p.ETag.replace(/"/g, ''), 'hex')));
      expect(completed.ETag).toBe(`"${createHash('md5').update(partBytes).digest('hex')}-3"`);
      // s3transfer downloads an object this size with concurrent ranged GETs, across our part boundaries.
      await aws('s3', 'cp', `s3://${b}/mp.bin`, join(work, 'mp.back'));
      expect(sha256(await readFile(join(work, 'mp.back')))).toBe(sha256(Buffer.concat(parts)));

      const aborted = await awsJson<{ UploadId: string }>('s3api', 'create-multipart-upload', '--bucket', b, '--key', 'gone.bin');
      await writeFile(join(work, 'p'), randomBytes(1000));
      await aws('s3api', 'upload-part', '--bucket', b, '--key', 'gone.bin', '--upload-id', aborted.UploadId, '--part-number', '1', '--body', join(work, 'p'));
      await aws('s3api', 'abort-multipart-upload', '--bucket', b, '--key', 'gone.bin', '--upload-id', aborted.UploadId);
      expect(await awsFails('s3api', 'list-parts', '--bucket', b, '--key', 'gone.bin', '--upload-id', aborted.UploadId)).toContain('NoSuchUpload');
      await aws('s3api', 'copy-object', '--bucket', b, '--key', 'mp-copy.bin', '--copy-source', `${b}/mp.bin`);
      await aws('s3', 'cp', `s3://${b}/mp-copy.bin`, join(work, 'mp-copy.back'));
      expect(sha256(await readFile(join(work, 'mp-copy.back')))).toBe(sha256(Buffer.concat(parts)));
    }, CLI_CALLS_TIMEOUT(15));

    it('copies a 200 MiB file in and out byte-identical with `aws s3 cp` and its default multipart settings', async () => {
      // s3transfer splits it into 8 MiB parts sent concurrently, with CRC32 checksums, and reads it back with
      // concurrent ranged GETs across the sealed parts.
      const b = bucketName();
      await aws('s3', 'mb', `s3://${b}`);
      const whole = randomBytes(200 * MiB);
      await writeFile(join(work, 'big.bin'), whole);
      await aws('s3', 'cp', join(work, 'big.bin'), `s3://${b}/big.bin`);
      const head = await s3.send(new HeadObjectCommand({ Bucket: b, Key: 'big.bin' }));
      expect(head.ETag).toMatch(/^"[0-9a-f]{32}-25"$/);
      await aws('s3', 'cp', `s3://${b}/big.bin`, join(work, 'big.back'));
      expect(sha256(await readFile(join(work, 'big.back')))).toBe(sha256(whole));
      await rm(join(work, 'big.back'));
      await rm(join(work, 'big.bin'));
    }, CLI_CALLS_TIMEOUT(3) + 120_000);

    it('presigns with `aws s3 presign`: the URL works until X-Amz-Expires, then answers 403', async () => {
      const b = bucketName();
      await aws('s3', 'mb', `s3://${b}`);
      const body = randomBytes(5000);
      await s3.send(new PutObjectCommand({ Bucket: b, Key: 'shared file.txt', Body: body }));
      const url = (await aws('s3', 'presign', `s3://${b}/shared file.txt`, '--expires-in', '120')).trim();
      expect(url).toContain('X-Amz-Expires=120');
      const ok = await fetch(url);
      expect(ok.status).toBe(200);
      expect(Buffer.from(await ok.arrayBuffer()).equals(body)).toBe(true);
      const short = (await aws('s3', 'presign', `s3://${b}/shared file.txt`, '--expires-in', '1')).trim();
      await new Promise((resolve) => setTimeout(resolve, 2100));
      const expired = await fetch(short);
      expect(expired.status).toBe(403);
      expect(await expired.text()).toContain('<Code>AccessDenied</Code>');
    }, CLI_CALLS_TIMEOUT(3) + 5_000);
  });

  const describeCurl = curl ? describe : describe.skip;
  describeCurl(`curl --aws-sigv4 (${curl?.split('\n')[0] ?? 'not installed'})`, () => {
    it('PUTs and GETs an object signed by curl', async () => {
      const b = bucketName();
      await s3.send(new (await import('@aws-sdk/client-s3')).CreateBucketCommand({ Bucket: b }));
      const body = randomBytes(123_456);
      await writeFile(join(work, 'curl.bin'), body);
      const sign = ['--aws-sigv4', 'aws:amz:us-east-1:s3', '--user', `${target.creds.accessKeyId}:${target.creds.secretAccessKey}`];
      // curl signs the payload only when told its hash; S3 (and we) require the x-amz-content-sha256 header.
      const put = await run('curl', ['-sS', '-o', '/dev/null', '-w', '%{http_code}', ...sign, '-H', `x-amz-content-sha256: ${sha256(body)}`, '-T', join(work, 'curl.bin'), `${target.url}/${b}/by-curl.bin`]);
      expect(put.stdout).toBe('200');
      const got = await s3.send(new GetObjectCommand({ Bucket: b, Key: 'by-curl.bin' }));
      expect(Buffer.from(await got.Body!.transformToByteArray()).equals(body)).toBe(true);
      const out = join(work, 'curl.back');
      const get = await run('curl', ['-sS', '-o', out, '-w', '%{http_code}', ...sign, '-H', 'x-amz-content-sha256: UNSIGNED-PAYLOAD', `${target.url}/${b}/by-curl.bin`]);
      expect(get.stdout).toBe('200');
      expect((await readFile(out)).equals(body)).toBe(true);
      const wrong = await run('curl', ['-sS', '-o', '/dev/null', '-w', '%{http_code}', '--aws-sigv4', 'aws:amz:us-east-1:s3', '--user', `${target.creds.accessKeyId}:wrong`, '-H', 'x-amz-content-sha256: UNSIGNED-PAYLOAD', `${target.url}/${b}/by-curl.bin`]);
      expect(wrong.stdout).toBe('403');
      expect((await readdir(work)).length).toBeGreaterThan(0);
    });

    it('works exactly as the README shows: --data-binary PUT and a plain GET, no extra headers', async () => {
      const b = bucketName();
      await s3.send(new (await import('@aws-sdk/client-s3')).CreateBucketCommand({ Bucket: b }));
      const body = randomBytes(50_000);
      await writeFile(join(work, 'readme.bin'), body);
      const sign = ['--aws-sigv4', 'aws:amz:us-east-1:s3', '--user', `${target.creds.accessKeyId}:${target.creds.secretAccessKey}`];
      // curl hashes --data-binary bodies into the signature (it sends no x-amz-content-sha256; we check the
      // signature over the received body's hash). With -T it signs an empty payload instead, so -T needs the
      // header; the README says so.
      const put = await run('curl', ['-sS', '-o', '/dev/null', '-w', '%{http_code}', ...sign, '-X', 'PUT', '--data-binary', `@${join(work, 'readme.bin')}`, `${target.url}/${b}/readme.bin`]);
      expect(put.stdout).toBe('200');
      const out = join(work, 'readme.back');
      const get = await run('curl', ['-sS', '-o', out, '-w', '%{http_code}', ...sign, `${target.url}/${b}/readme.bin`]);
      expect(get.stdout).toBe('200');
      expect((await readFile(out)).equals(body)).toBe(true);
      const ranged = await run('curl', ['-sS', '-o', out, '-w', '%{http_code}', ...sign, '-H', 'Range: bytes=0-99', `${target.url}/${b}/readme.bin`]);
      expect(ranged.stdout).toBe('206');
      expect((await readFile(out)).equals(body.subarray(0, 100))).toBe(true);
      const unsignedUpload = await run('curl', ['-sS', '-o', '/dev/null', '-w', '%{http_code}', ...sign, '-T', join(work, 'readme.bin'), `${target.url}/${b}/t.bin`]);
      expect(unsignedUpload.stdout).toBe('403');
    });
  });
});
