// What a newcomer's first unsigned, SigV2 or half-signed request is told, word for word, over real HTTP: a browser's
// plain GET, an AWS CLI v1 presigned URL made with the CLI's default (SigV2), curl's -T and --data-binary uploads.
// Each outside tool's case skips loudly when the tool is missing.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CreateBucketCommand, HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { startEmbedded, type EmbeddedTarget } from '../support/embedded-target';
import { awsCliVersion, curlVersion, resolveTool, warnIfMissing } from '../support/tools';
import { s3Client } from './s3-suite';

const run = promisify(execFile);
const awsVersion = awsCliVersion();
const curl = curlVersion();
warnIfMissing(awsVersion, 'the SigV2 presigned-URL message test', 'aws --version', 'the AWS CLI');
warnIfMissing(curl, 'the curl upload message tests', 'curl --version', 'curl');

const SIGV2_ADVICE =
  "sealstore accepts only Signature Version 4. AWS CLI v1 and boto3 presign with version 2 unless told otherwise: run `aws configure set default.s3.signature_version s3v4` (boto3: Config(signature_version='s3v4')), then sign or presign again.";

/** An S3 error document's code and message. */
function s3ErrorOf(xmlText: string): { code: string; message: string } {
  const unescape = (s: string) => s.replace(/&apos;/g, "'").replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
  return { code: /<Code>([^<]*)<\/Code>/.exec(xmlText)?.[1] ?? '', message: unescape(/<Message>([^<]*)<\/Message>/.exec(xmlText)?.[1] ?? '') };
}

describe('the first requests a newcomer makes, and what they are told', () => {
  let target: EmbeddedTarget;
  let s3: S3Client;
  let work: string;
  const bucket = 'first-hour';

  beforeAll(async () => {
    target = await startEmbedded();
    s3 = s3Client(target);
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'doc.txt', Body: 'hello' }));
    work = await mkdtemp(join(tmpdir(), 'sealstore-first-hour-'));
  });
  afterAll(async () => {
    s3?.destroy();
    await target?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('an unsigned GET (a browser, plain curl) is told it is not signed and how to sign, with S3’s 403 AccessDenied', async () => {
    const res = await fetch(`${target.url}/${bucket}/doc.txt`);
    expect(res.status).toBe(403);
    expect(s3ErrorOf(await res.text())).toEqual({
      code: 'AccessDenied',
      message:
        "Access Denied: this request is not signed. sealstore accepts only AWS Signature Version 4 (there is no anonymous access): use an S3 client (aws s3 …, an AWS SDK) or curl --aws-sigv4 'aws:amz:us-east-1:s3' --user KEY:SECRET …",
    });
  });

  it('a SigV2 Authorization header gets S3’s 400 InvalidRequest sentence, then what to change', async () => {
    const res = await fetch(`${target.url}/${bucket}/doc.txt`, { headers: { authorization: `AWS ${target.creds.accessKeyId}:c2lnbmF0dXJl` } });
    expect(res.status).toBe(400);
    expect(s3ErrorOf(await res.text())).toEqual({
      code: 'InvalidRequest',
      message: `The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256. This request is signed with AWS Signature Version 2 (an Authorization header of the form "AWS KEY:SIGNATURE"); ${SIGV2_ADVICE}`,
    });
  });

  const withCli = awsVersion ? it : it.skip;
  withCli(`a SigV2 presigned URL from the AWS CLI’s default settings (${awsVersion ?? 'AWS CLI not installed'}) is explained the same way, naming the CLI setting`, async () => {
    const config = join(work, 'default-config');
    await writeFile(config, '[default]\nregion = us-east-1\n');
    const env = {
      PATH: process.env['PATH'],
      HOME: work,
      AWS_CONFIG_FILE: config,
      AWS_SHARED_CREDENTIALS_FILE: join(work, 'no-credentials'),
      AWS_ACCESS_KEY_ID: target.creds.accessKeyId,
      AWS_SECRET_ACCESS_KEY: target.creds.secretAccessKey,
      AWS_EC2_METADATA_DISABLED: 'true',
    };
    const { stdout } = await run(resolveTool('aws'), ['s3', 'presign', `s3://${bucket}/doc.txt`, '--endpoint-url', target.url], { env });
    const url = stdout.trim();
    // The premise: CLI v1 presigns with SigV2 unless configured.
    expect(url).toMatch(/[?&]AWSAccessKeyId=.*&Signature=|[?&]Signature=.*AWSAccessKeyId=/);
    const res = await fetch(url);
    expect(res.status).toBe(400);
    expect(s3ErrorOf(await res.text())).toEqual({
      code: 'InvalidRequest',
      message: `The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256. This URL is presigned with AWS Signature Version 2 (AWSAccessKeyId, Signature and Expires in the query); ${SIGV2_ADVICE}`,
    });
  }, 60_000);

  const withCurl = curl ? it : it.skip;
  const sign = () => ['--aws-sigv4', 'aws:amz:us-east-1:s3', '--user', `${target.creds.accessKeyId}:${target.creds.secretAccessKey}`];
  const curlRun = async (...args: string[]) => (await run('curl', ['-sS', '-w', '\n%{http_code}', ...args])).stdout;

  withCurl(`curl -T without x-amz-content-sha256 is told the payload hash is missing and which header to add (${curl?.split('\n')[0] ?? 'curl not installed'})`, async () => {
    const file = join(work, 'upload.bin');
    await writeFile(file, 'twelve bytes');
    const refused = await curlRun(...sign(), '-T', file, `${target.url}/${bucket}/t.bin`);
    const status = refused.slice(refused.lastIndexOf('\n') + 1);
    expect(status).toBe('403');
    expect(s3ErrorOf(refused).code).toBe('SignatureDoesNotMatch');
    expect(s3ErrorOf(refused).message).toBe(
      "The request signature we calculated does not match the signature you provided: it was computed over an empty payload, but the request carries a body of 12 bytes and no x-amz-content-sha256 header. curl 7.x signs -T uploads this way: add -H 'x-amz-content-sha256: UNSIGNED-PAYLOAD' (or the file's SHA-256 in hex), or send the file with --data-binary @FILE.",
    );
    // The advice works as given.
    const fixed = await curlRun(...sign(), '-H', 'x-amz-content-sha256: UNSIGNED-PAYLOAD', '-T', file, `${target.url}/${bucket}/t.bin`);
    expect(fixed.slice(fixed.lastIndexOf('\n') + 1)).toBe('200');
    // A wrong secret is still the plain mismatch: the hint is given only when the signature holds over an empty body.
    const wrong = await curlRun('--aws-sigv4', 'aws:amz:us-east-1:s3', '--user', `${target.creds.accessKeyId}:not-the-secret-at-all`, '-T', file, `${target.url}/${bucket}/t.bin`);
    expect(s3ErrorOf(wrong).message).toBe('The request signature we calculated does not match the signature you provided. Check your key and signing method.');
  }, 30_000);

  withCurl('curl --data-binary without a type stores binary/octet-stream (curl’s form type is its default, not the user’s); a type given with -H is kept, even the form type', async () => {
    const file = join(work, 'data.bin');
    await writeFile(file, Buffer.from([0, 1, 2, 3, 255]));
    const typeOf = async (key: string) => (await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }))).ContentType;
    expect(await curlRun(...sign(), '-X', 'PUT', '--data-binary', `@${file}`, `${target.url}/${bucket}/plain.bin`)).toMatch(/200$/);
    expect(await typeOf('plain.bin')).toBe('binary/octet-stream');
    expect(await curlRun(...sign(), '-X', 'PUT', '-H', 'Content-Type: application/pdf', '--data-binary', `@${file}`, `${target.url}/${bucket}/typed.pdf`)).toMatch(/200$/);
    expect(await typeOf('typed.pdf')).toBe('application/pdf');
    expect(await curlRun(...sign(), '-X', 'PUT', '-H', 'Content-Type: application/x-www-form-urlencoded', '--data-binary', `@${file}`, `${target.url}/${bucket}/form.txt`)).toMatch(/200$/);
    expect(await typeOf('form.txt')).toBe('application/x-www-form-urlencoded');
    // Another client sending the form type keeps it: only curl's implicit default is replaced.
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'sdk-form.txt', Body: 'a=1', ContentType: 'application/x-www-form-urlencoded' }));
    expect(await typeOf('sdk-form.txt')).toBe('application/x-www-form-urlencoded');
  }, 30_000);
});
