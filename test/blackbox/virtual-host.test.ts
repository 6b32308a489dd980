// Virtual-hosted-style addressing on the embedded server, as S3 and MinIO do it: `bucket.D` addresses a bucket
// for each domain D the server serves; path style keeps working beside it; a Host that is a subdomain of a name the
// server does not serve is refused and creates nothing (never read as path style: `PUT /key` to
// `bucket.elsewhere` must not create a bucket named `key`).
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, ListBucketsCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Agent, request as httpRequest, type IncomingMessage } from 'node:http';
import type { LookupFunction } from 'node:net';
import { promisify } from 'node:util';
import { addressingOf } from '../../lambdas/http/virtual-host';
import { serverDomains } from '../../local/server';
import { startEmbedded, type EmbeddedTarget } from '../support/embedded-target';
import { signedHeaders, type Creds } from '../support/signed-fetch';
import { s3Client } from './s3-suite';
import { boto3Version, resolveTool, warnIfMissing } from '../support/tools';

const run = promisify(execFile);

const boto3 = boto3Version();
warnIfMissing(boto3, 'boto3 virtual-hosted test', 'python3 -c "import boto3"', 'boto3');

/** Every name resolves to loopback (as `*.localhost` does under systemd-resolved); records what was looked up. */
function loopbackAgent(lookedUp: string[]): Agent {
  const lookup = ((hostname: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) => {
    lookedUp.push(hostname);
    if (options.all) callback(null, [{ address: '127.0.0.1', family: 4 }]);
    else callback(null, '127.0.0.1', 4);
  }) as unknown as LookupFunction;
  return new Agent({ keepAlive: true, lookup });
}

/** A JS SDK v3 client with its default addressing (virtual-hosted for DNS-compatible bucket names). */
function defaultAddressingClient(endpoint: string, creds: Creds, lookedUp: string[]): S3Client {
  return new S3Client({
    endpoint,
    region: 'us-east-1',
    credentials: creds,
    maxAttempts: 1,
    requestHandler: new NodeHttpHandler({ httpAgent: loopbackAgent(lookedUp) }),
  });
}

/** A signed request sent to 127.0.0.1 with whatever Host `url` names. */
async function sendAs(url: string, port: number, creds: Creds, method: string, path: string, body = Buffer.alloc(0)): Promise<{ status: number; body: string }> {
  const headers = await signedHeaders(url, creds, { method, path, unsignedPayload: true, headers: { 'content-length': String(body.length) } });
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, method, path, headers }, (res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('addressingOf (which bucket a Host names)', () => {
  const domains = ['localhost', 's3.example.com', 'example.com'];
  it.each([
    ['127.0.0.1:9000', { style: 'path' }],
    ['[::1]:9000', { style: 'path' }],
    ['localhost:9000', { style: 'path' }],
    ['LOCALHOST', { style: 'path' }],
    ['sealstore:9000', { style: 'path' }],
    ['photos.localhost:9000', { style: 'virtual', bucket: 'photos' }],
    ['my.dotted.bucket.localhost', { style: 'virtual', bucket: 'my.dotted.bucket' }],
    ['b.s3.example.com', { style: 'virtual', bucket: 'b' }],
    ['s3.example.com', { style: 'path' }],
    ['photos.elsewhere.test:9000', { style: 'unknown', host: 'photos.elsewhere.test' }],
    [undefined, { style: 'path' }],
  ])('%s → %j', (host, expected) => {
    expect(addressingOf(host, domains)).toEqual(expected);
  });

  it('defaults to localhost, the listening host when it is a name, and this machine’s name; configured domains replace them', () => {
    expect(serverDomains({ host: '127.0.0.1' })).toContain('localhost');
    expect(serverDomains({ host: '::1' })).not.toContain(':');
    expect(serverDomains({ host: 'store.lan' })).toEqual(expect.arrayContaining(['localhost', 'store.lan']));
    expect(serverDomains({ domains: ['S3.Example.com.', 's3.example.com:9000'], host: 'x' })).toEqual(['s3.example.com']);
  });
});

describe('virtual-hosted and path-style requests against the embedded server', () => {
  let target: EmbeddedTarget;
  let port: number;
  let pathStyle: S3Client;
  beforeAll(async () => {
    target = await startEmbedded();
    port = target.server.port;
    pathStyle = s3Client(target);
  });
  afterAll(async () => {
    pathStyle.destroy();
    await target.close();
  });

  it('serves the JS SDK v3 with its default addressing (bucket.localhost) and path style alike: the same objects either way', async () => {
    const lookedUp: string[] = [];
    const vhost = defaultAddressingClient(`http://localhost:${port}`, target.creds, lookedUp);
    try {
      await vhost.send(new CreateBucketCommand({ Bucket: 'vhost-sdk' }));
      await vhost.send(new PutObjectCommand({ Bucket: 'vhost-sdk', Key: 'via/vhost.txt', Body: 'written virtual-hosted', ContentType: 'text/plain' }));
      await pathStyle.send(new PutObjectCommand({ Bucket: 'vhost-sdk', Key: 'via path.txt', Body: 'written path style' }));
      expect(lookedUp).toContain('vhost-sdk.localhost');
      expect(lookedUp).not.toContain('localhost');

      expect(await (await pathStyle.send(new GetObjectCommand({ Bucket: 'vhost-sdk', Key: 'via/vhost.txt' }))).Body?.transformToString()).toBe('written virtual-hosted');
      expect(await (await vhost.send(new GetObjectCommand({ Bucket: 'vhost-sdk', Key: 'via path.txt' }))).Body?.transformToString()).toBe('written path style');
      expect((await vhost.send(new HeadObjectCommand({ Bucket: 'vhost-sdk', Key: 'via/vhost.txt' }))).ContentType).toBe('text/plain');
      const viaVhost = await vhost.send(new ListObjectsV2Command({ Bucket: 'vhost-sdk' }));
      const viaPath = await pathStyle.send(new ListObjectsV2Command({ Bucket: 'vhost-sdk' }));
      expect(viaVhost.Contents?.map((o) => [o.Key, o.ETag])).toEqual(viaPath.Contents?.map((o) => [o.Key, o.ETag]));
      expect(viaVhost.Contents?.map((o) => o.Key)).toEqual(['via path.txt', 'via/vhost.txt']);

      // Multipart through the same addressing (lib-storage: 5 MiB parts).
      const big = randomBytes(11 * 1024 * 1024);
      await new Upload({ client: vhost, params: { Bucket: 'vhost-sdk', Key: 'big.bin', Body: big } }).done();
      expect(Buffer.from(await (await pathStyle.send(new GetObjectCommand({ Bucket: 'vhost-sdk', Key: 'big.bin' }))).Body!.transformToByteArray()).equals(big)).toBe(true);

      // A presigned virtual-hosted URL (the signature covers Host and the path without the bucket).
      const url = await getSignedUrl(vhost, new GetObjectCommand({ Bucket: 'vhost-sdk', Key: 'via/vhost.txt' }), { expiresIn: 300 });
      expect(new URL(url).hostname).toBe('vhost-sdk.localhost');
      const fetched = await new Promise<string>((resolve, reject) => {
        const u = new URL(url);
        httpRequest({ host: '127.0.0.1', port, path: `${u.pathname}${u.search}`, headers: { host: u.host } }, (res) => {
          let text = '';
          res.on('data', (c: Buffer) => (text += c.toString()));
          res.on('end', () => resolve(`${res.statusCode} ${text}`));
        })
          .on('error', reject)
          .end();
      });
      expect(fetched).toBe('200 written virtual-hosted');
    } finally {
      vhost.destroy();
    }
  });

  (boto3 ? it : it.skip)(`serves boto3 with its default addressing and with virtual-hosted addressing (boto3 ${boto3 ?? 'not installed'}), names resolved to loopback`, async () => {
    await pathStyle.send(new CreateBucketCommand({ Bucket: 'vhost-boto' }));
    await pathStyle.send(new PutObjectCommand({ Bucket: 'vhost-boto', Key: 'from-js', Body: 'written by the JS SDK, path style' }));
    const script = [
      'import socket, boto3',
      'seen = []',
      'real = socket.getaddrinfo',
      'def loopback(host, *args, **kwargs):',
      '    seen.append(host)',
      '    return real("127.0.0.1", *args, **kwargs)',
      'socket.getaddrinfo = loopback',
      'def client(style):',
      `    return boto3.client("s3", endpoint_url="http://localhost:${port}", region_name="us-east-1", aws_access_key_id="${target.creds.accessKeyId}", aws_secret_access_key="${target.creds.secretAccessKey}", config=boto3.session.Config(s3={"addressing_style": style}))`,
      // boto3's default ("auto") addresses a custom endpoint path style; "virtual" is what S3 itself gets.
      'for style in ("auto", "virtual"):',
      '    seen.clear()',
      '    s3 = client(style)',
      '    s3.put_object(Bucket="vhost-boto", Key="from-boto-" + style, Body=("written by boto3, " + style).encode())',
      '    print(style, s3.get_object(Bucket="vhost-boto", Key="from-js")["Body"].read().decode())',
      '    print(style, ",".join(sorted(o["Key"] for o in s3.list_objects_v2(Bucket="vhost-boto")["Contents"])))',
      '    print(style, ",".join(sorted(set(seen))))',
    ].join('\n');
    const { stdout } = await run(resolveTool('python3'), ['-c', script], { env: { ...process.env, AWS_EC2_METADATA_DISABLED: 'true' } });
    expect(stdout.trim().split('\n')).toEqual([
      'auto written by the JS SDK, path style',
      'auto from-boto-auto,from-js',
      'auto localhost',
      'virtual written by the JS SDK, path style',
      'virtual from-boto-auto,from-boto-virtual,from-js',
      'virtual vhost-boto.localhost',
    ]);
    for (const style of ['auto', 'virtual']) {
      expect(await (await pathStyle.send(new GetObjectCommand({ Bucket: 'vhost-boto', Key: `from-boto-${style}` }))).Body?.transformToString()).toBe(`written by boto3, ${style}`);
    }
  }, 60_000);

  it('refuses a subdomain of a name it does not serve with a clear error, and creates nothing', async () => {
    const before = (await pathStyle.send(new ListBucketsCommand({}))).Buckets?.map((b) => b.Name);
    const put = await sendAs(`http://photos.elsewhere.test:${port}`, port, target.creds, 'PUT', '/key', Buffer.from('misaddressed'));
    expect(put.status).toBe(400);
    expect(put.body).toContain('<Code>InvalidRequest</Code>');
    expect(put.body).toContain('does not serve the host name photos.elsewhere.test');
    expect(put.body).toContain('--domain elsewhere.test');
    const create = await sendAs(`http://photos.elsewhere.test:${port}`, port, target.creds, 'PUT', '/');
    expect(create.status).toBe(400);
    expect((await pathStyle.send(new ListBucketsCommand({}))).Buckets?.map((b) => b.Name)).toEqual(before);
  });

  it('answers a virtual-hosted request for a missing bucket with NoSuchBucket, never a bucket named after the key', async () => {
    const before = (await pathStyle.send(new ListBucketsCommand({}))).Buckets?.map((b) => b.Name);
    const put = await sendAs(`http://nosuch.localhost:${port}`, port, target.creds, 'PUT', '/key', Buffer.from('x'));
    expect(put.status).toBe(404);
    expect(put.body).toContain('<Code>NoSuchBucket</Code>');
    expect(put.body).toContain('<BucketName>nosuch</BucketName>');
    const get = await sendAs(`http://nosuch.localhost:${port}`, port, target.creds, 'GET', '/key');
    expect(get.status).toBe(404);
    expect((await pathStyle.send(new ListBucketsCommand({}))).Buckets?.map((b) => b.Name)).toEqual(before);
  });
});

describe('a server started with --domain', () => {
  it('serves bucket.D for the configured domain only', async () => {
    const target = await startEmbedded({ domains: ['s3.test'] });
    const port = target.server.port;
    try {
      expect(target.server.domains).toEqual(['s3.test']);
      expect((await sendAs(`http://cfg.s3.test:${port}`, port, target.creds, 'PUT', '/')).status).toBe(200);
      expect((await sendAs(`http://cfg.s3.test:${port}`, port, target.creds, 'PUT', '/k', Buffer.from('configured'))).status).toBe(200);
      expect(await sendAs(`http://s3.test:${port}`, port, target.creds, 'GET', '/cfg/k')).toEqual({ status: 200, body: 'configured' });
      expect(await sendAs(`http://127.0.0.1:${port}`, port, target.creds, 'GET', '/cfg/k')).toEqual({ status: 200, body: 'configured' });
      // localhost is no longer one of its names once domains are configured.
      expect((await sendAs(`http://cfg.localhost:${port}`, port, target.creds, 'GET', '/k')).status).toBe(400);
    } finally {
      await target.close();
    }
  });
});
