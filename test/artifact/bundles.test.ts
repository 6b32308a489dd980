// The artifacts that ship, driven as AWS drives them: the stack is synthesized with esbuild bundling, the API,
// rotation and housekeeping bundles are taken from the cloud assembly, and each runs in a child Node process
// under a stand-in for the Node.js Lambda runtime (the `awslambda` global, response streaming with the HTTP
// integration prelude, the Runtime API), configured from the template (Handler, environment) against moto_server
// holding the resources the template describes. The API function gets API Gateway REST proxy events (v1, binary
// `*/*`) for requests signed against the public URL, through the stage and through a custom domain's base path.
// Every AWS call each bundle makes passes a recording proxy and is checked against that function's role policy
// (and, for KMS, the key policy) in the synthesized template.
import { S3Client, PutObjectCommand, GetObjectCommand, ListObjectsV2Command, DeleteObjectCommand } from '@aws-sdk/client-s3';
import { HttpResponse, type HttpRequest } from '@smithy/protocol-http';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { motoClients } from '../aws/moto-clients';
import { basePathFront, gatewayEvent, signedEvent, stageFront, type ClientRequest, type Creds, type GatewayFront } from '../support/apigw-event';
import { synthBundled, type Assembly, type BundledFunction } from '../support/cloud-assembly';
import { allowedBy, keyPolicyStatements, permissionsFor, rolePolicyStatements, type PolicyStatement } from '../support/iam-check';
import { decodeHttpIntegrationResponse, LambdaProcess, type StreamedHttpResponse } from '../support/lambda-runtime';
import { describeWithMoto, motoCredentials, motoRegion } from '../support/moto';
import { RecordingProxy, type RecordedCall } from '../support/recording-proxy';
import { scheduledEvent } from '../support/scheduled-event';
import { deployTemplateResources, type DeployedResources } from '../support/template-resources';

jest.setTimeout(120_000);

/** S3's path encoding of a key, as SDKs put it in the URL: every byte but unreserved characters and '/'. */
const encodeKey = (key: string) =>
  key
    .split('/')
    .map((s) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`))
    .join('/');

/** Keys that need URL-encoding (issue 13 item 1) and the path shapes a proxy may mangle. */
const KEYS = [
  'dir/hello world+ü.bin',
  'a=b',
  '100%',
  '50%25 literal',
  'plus+plus',
  'ünïcødé/日本語 ✓.txt',
  'double//slash',
  'trailing/',
  'what?#&.txt',
  "quote'(s)*!~",
];

interface Harness {
  readonly assembly: Assembly;
  readonly deployed: DeployedResources;
  readonly creds: Creds;
  readonly stage: string;
  readonly proxies: Record<string, RecordingProxy>;
  readonly lambdas: Record<string, LambdaProcess>;
  readonly keyArn: (id: string) => string;
}

describeWithMoto('the bundles cdk deploy ships, under a Lambda runtime stand-in, on moto', (moto) => {
  let h: Harness;
  const FUNCTIONS = ['ApiFunction', 'RotationFunction', 'HousekeepingFunction'] as const;

  beforeAll(async () => {
    const assembly = synthBundled();
    const { endpoint } = moto();
    const clients = motoClients(endpoint);
    const deployed = await deployTemplateResources(assembly.template, clients, endpoint);
    clients.kms.destroy();
    clients.s3.destroy();
    clients.dynamodb.destroy();

    const api = assembly.functions['ApiFunction']!;
    const secretRef = (api.environment['SEALSTORE_ROOT_CREDENTIALS_SECRET_ARN'] as { Ref: string }).Ref;
    const creds = JSON.parse(deployed.secrets.get(secretRef)!) as Creds;
    const stageResource = Object.values(assembly.template.Resources).find((r) => r.Type === 'AWS::ApiGateway::Stage')!;
    const stage = String(stageResource.Properties!['StageName']);

    const keys = [...deployed.byLogicalId.entries()].filter(([id]) => assembly.template.Resources[id]?.Type === 'AWS::KMS::Key');
    const aliases = [...deployed.byLogicalId.entries()].filter(([id]) => assembly.template.Resources[id]?.Type === 'AWS::KMS::Alias');
    const keyArn = (id: string): string => {
      for (const [keyId, k] of keys) {
        if (id === k.ref || id === k.attributes['Arn']) return k.attributes['Arn']!;
        const alias = aliases.find(([aliasId]) => JSON.stringify(assembly.template.Resources[aliasId]?.Properties?.['TargetKeyId']).includes(keyId));
        if (alias && (id === alias[1].ref || id.endsWith(`:${alias[1].ref}`))) return k.attributes['Arn']!;
      }
      return id.startsWith('arn:') ? id : `unknown-key:${id}`;
    };

    const proxies: Record<string, RecordingProxy> = {};
    const lambdas: Record<string, LambdaProcess> = {};
    for (const name of FUNCTIONS) {
      const fn = assembly.functions[name]!;
      const proxy = new RecordingProxy(endpoint);
      await proxy.start();
      proxies[name] = proxy;
      lambdas[name] = new LambdaProcess({
        taskRoot: fn.assetDir,
        handler: fn.handler,
        functionName: `Sealstore-${fn.logicalId}`,
        memorySize: fn.memorySize,
        timeoutSeconds: fn.timeoutSeconds,
        environment: {
          ...(deployed.resolve(fn.environment) as Record<string, string>),
          AWS_REGION: motoRegion,
          AWS_DEFAULT_REGION: motoRegion,
          AWS_ACCESS_KEY_ID: motoCredentials.accessKeyId,
          AWS_SECRET_ACCESS_KEY: motoCredentials.secretAccessKey,
          AWS_SESSION_TOKEN: 'artifact-test-session',
          AWS_ENDPOINT_URL: proxy.endpoint,
        },
      });
    }
    await Promise.all(Object.values(lambdas).map((l) => l.start()));
    h = { assembly, deployed, creds, stage, proxies, lambdas, keyArn };
  }, 180_000);

  afterAll(async () => {
    if (h === undefined) return;
    await Promise.all(Object.values(h.lambdas).map((l) => l.stop()));
    await Promise.all(Object.values(h.proxies).map((p) => p.stop()));
    h.assembly.remove();
  });

  const call = async (event: APIGatewayProxyEvent): Promise<StreamedHttpResponse> => {
    const inv = await h.lambdas['ApiFunction']!.invoke(event);
    try {
      return decodeHttpIntegrationResponse(inv);
    } catch (e) {
      throw new Error(`${event.httpMethod} ${event.requestContext.path}: ${(e as Error).message}\n--- function log ---\n${h.lambdas['ApiFunction']!.logs.slice(-3000)}`);
    }
  };
  const send = async (front: GatewayFront, req: ClientRequest) => call(await signedEvent(front, h.creds, req));
  const header = (r: StreamedHttpResponse, name: string) => Object.entries(r.headers).find(([k]) => k.toLowerCase() === name)?.[1];
  const xmlCode = (r: StreamedHttpResponse) => /<Code>([^<]*)<\/Code>/.exec(r.body.toString('utf8'))?.[1];

  it('takes each function from the cloud assembly: a bundle directory, the template Handler and runtime', () => {
    for (const name of FUNCTIONS) {
      const fn: BundledFunction = h.assembly.functions[name]!;
      expect({ name, handler: fn.handler, runtime: fn.runtime }).toEqual({ name, handler: 'index.handler', runtime: 'nodejs22.x' });
    }
  });

  const fronts: GatewayFront[] = [
    stageFront('prod', 'as-sent'),
    stageFront('prod', 'decoded'),
    basePathFront('storage', 'prod', 'as-sent'),
    basePathFront('storage', 'prod', 'decoded'),
    basePathFront('', 'prod', 'as-sent'),
  ];

  describe.each(fronts.map((f, i) => [f.name, f, `art-${i}-${randomBytes(3).toString('hex')}`] as const))('through %s', (_name, front, bucket) => {
    it('creates its bucket (PUT /bucket, empty body)', async () => {
      expect(h.stage).toBe(front.stage);
      const r = await send(front, { method: 'PUT', path: `/${bucket}` });
      expect({ status: r.statusCode, code: xmlCode(r) }).toEqual({ status: 200, code: undefined });
    });

    it.each(KEYS)('PUTs (base64 binary body) and GETs back byte for byte: %j', async (key) => {
      const body = Buffer.concat([Buffer.from(Array.from({ length: 256 }, (_, i) => i)), randomBytes(1000)]);
      const put = await send(front, { method: 'PUT', path: `/${bucket}/${encodeKey(key)}`, body, headers: { 'content-type': 'application/octet-stream' } });
      expect({ status: put.statusCode, code: xmlCode(put) }).toEqual({ status: 200, code: undefined });
      // ETags are keyed (docs/S3-COMPATIBILITY.md), not the body's MD5: the GET must name the one the PUT answered.
      expect(header(put, 'etag')).toMatch(/^"[0-9a-f]{32}"$/);
      const get = await send(front, { method: 'GET', path: `/${bucket}/${encodeKey(key)}` });
      expect({ status: get.statusCode, code: xmlCode(get) }).toEqual({ status: 200, code: undefined });
      expect(get.body.equals(body)).toBe(true);
      expect(header(get, 'content-length')).toBe(String(body.length));
      expect(header(get, 'etag')).toBe(header(put, 'etag'));
    });

    it('lists every key back decoded, exactly as written (ListObjectsV2 with a prefix that needs encoding)', async () => {
      const r = await send(front, { method: 'GET', path: `/${bucket}`, query: { 'list-type': '2', prefix: 'dir/hello world+' } });
      expect(r.statusCode).toBe(200);
      expect([...r.body.toString('utf8').matchAll(/<Key>([^<]*)<\/Key>/g)].map((m) => m[1])).toEqual(['dir/hello world+ü.bin']);
      const all = await send(front, { method: 'GET', path: `/${bucket}`, query: { 'list-type': '2' } });
      const listed = [...all.body.toString('utf8').matchAll(/<Key>([^<]*)<\/Key>/g)].map((m) => m[1]!.replace(/&amp;/g, '&').replace(/&apos;/g, "'"));
      expect(listed.sort()).toEqual([...KEYS].sort());
    });

    it('refuses a request whose signature does not cover the path the client used (the check can fail)', async () => {
      // Signed for the path without the stage/base path: the function must recompute over the public path.
      const unprefixed = { ...front, prefix: '' };
      const event = await signedEvent(unprefixed, h.creds, { method: 'GET', path: `/${bucket}/${encodeKey('a=b')}` });
      const r = await call({ ...event, requestContext: { ...event.requestContext, path: `${front.prefix}${event.path}` } });
      if (front.prefix === '') expect(r.statusCode).toBe(200);
      else expect({ status: r.statusCode, code: xmlCode(r) }).toEqual({ status: 403, code: 'SignatureDoesNotMatch' });
      const wrongSecret = await call(await signedEvent(front, { ...h.creds, secretAccessKey: 'x'.repeat(40) }, { method: 'GET', path: `/${bucket}/a%3Db` }));
      expect({ status: wrongSecret.statusCode, code: xmlCode(wrongSecret) }).toEqual({ status: 403, code: 'SignatureDoesNotMatch' });
    });
  });

  describe('answer shapes through the stage', () => {
    const front = stageFront('prod');
    const bucket = `shapes-${randomBytes(3).toString('hex')}`;
    const key = 'dir/hello world+ü.bin';
    const path = `/${bucket}/${encodeKey(key)}`;
    const big = randomBytes(3 * 1024 * 1024 + 12345);
    let etag: string;

    beforeAll(async () => {
      const created = await send(front, { method: 'PUT', path: `/${bucket}` });
      expect(created.statusCode).toBe(200);
      const put = await send(front, { method: 'PUT', path, body: big });
      expect(put.statusCode).toBe(200);
      etag = header(put, 'etag')!;
    });

    it('streams a 3 MiB GET in several writes, byte for byte, after one metadata prelude', async () => {
      const inv = await h.lambdas['ApiFunction']!.invoke(await signedEvent(front, h.creds, { method: 'GET', path }));
      const r = decodeHttpIntegrationResponse(inv);
      expect(r.statusCode).toBe(200);
      expect(r.body.length).toBe(big.length);
      expect(r.body.equals(big)).toBe(true);
      expect(inv.chunks).toBeGreaterThan(1);
      expect(header(r, 'etag')).toBe(etag);
    });

    it('answers If-None-Match with a 304: prelude with the ETag, and no body', async () => {
      const r = await send(front, { method: 'GET', path, headers: { 'if-none-match': etag } });
      expect({ status: r.statusCode, etag: header(r, 'etag'), bytes: r.body.length }).toEqual({ status: 304, etag, bytes: 0 });
    });

    it('answers a Range with a 206: Content-Range, Content-Length and exactly those bytes', async () => {
      const r = await send(front, { method: 'GET', path, headers: { range: 'bytes=1000000-1065535' } });
      expect(r.statusCode).toBe(206);
      expect(header(r, 'content-range')).toBe(`bytes 1000000-1065535/${big.length}`);
      expect(header(r, 'content-length')).toBe('65536');
      expect(r.body.equals(big.subarray(1_000_000, 1_065_536))).toBe(true);
    });

    it('answers HEAD with the length and no body', async () => {
      const r = await send(front, { method: 'HEAD', path });
      expect({ status: r.statusCode, length: header(r, 'content-length'), bytes: r.body.length }).toEqual({ status: 200, length: String(big.length), bytes: 0 });
    });

    it('takes a body API Gateway passed as text (isBase64Encoded false) and an empty object', async () => {
      const text = Buffer.from('plain text, ünïcødé\n', 'utf8');
      const put = await send(front, { method: 'PUT', path: `/${bucket}/text.txt`, body: text, bodyEncoding: 'text', headers: { 'content-type': 'text/plain' } });
      expect(put.statusCode).toBe(200);
      const get = await send(front, { method: 'GET', path: `/${bucket}/text.txt` });
      expect(get.body.equals(text)).toBe(true);
      const empty = await send(front, { method: 'PUT', path: `/${bucket}/empty` });
      expect(empty.statusCode).toBe(200);
      const got = await send(front, { method: 'GET', path: `/${bucket}/empty` });
      expect({ status: got.statusCode, length: header(got, 'content-length'), bytes: got.body.length }).toEqual({ status: 200, length: '0', bytes: 0 });
    });

    it('answers DELETE with a 204 and no body; the object is gone', async () => {
      const r = await send(front, { method: 'DELETE', path });
      expect({ status: r.statusCode, bytes: r.body.length }).toEqual({ status: 204, bytes: 0 });
      const gone = await send(front, { method: 'GET', path });
      expect({ status: gone.statusCode, code: xmlCode(gone) }).toEqual({ status: 404, code: 'NoSuchKey' });
    });
  });

  it('serves the AWS SDK S3 client, signing against the stage URL, through the gateway event', async () => {
    const front = stageFront('prod');
    const bucket = `sdk-${randomBytes(3).toString('hex')}`;
    expect((await send(front, { method: 'PUT', path: `/${bucket}` })).statusCode).toBe(200);
    const client = new S3Client({
      endpoint: `https://${front.host}${front.prefix}`,
      forcePathStyle: true,
      region: 'us-east-1',
      credentials: h.creds,
      requestHandler: {
        handle: async (request: HttpRequest) => {
          const body = await readBody(request.body);
          const path = request.path.slice(front.prefix.length) || '/';
          const query = Object.fromEntries(Object.entries(request.query).map(([k, v]) => [k, v ?? ''])) as Record<string, string | string[]>;
          const r = await call(gatewayEvent(front, request.method, path, query, request.headers, body));
          return { response: new HttpResponse({ statusCode: r.statusCode, headers: r.headers, body: Readable.from([r.body]) }) };
        },
      },
    });
    try {
      const key = 'sdk dir/hello world+ü=%.bin';
      const body = randomBytes(200_000);
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
      const got = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      expect(Buffer.from(await got.Body!.transformToByteArray()).equals(body)).toBe(true);
      const listed = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'sdk dir/' }));
      expect(listed.Contents?.map((c) => c.Key)).toEqual([key]);
      await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
    } finally {
      client.destroy();
    }
  });

  it('serves the admin API through the stage: keys ls and an on-demand rotation (JSON in, JSON out)', async () => {
    const front = stageFront('prod');
    const ls = await send(front, { method: 'GET', path: '/_sealstore/keys' });
    expect({ status: ls.statusCode, type: header(ls, 'content-type') }).toEqual({ status: 200, type: 'application/json' });
    const listed = JSON.parse(ls.body.toString('utf8')) as { keys: Array<{ keyId: string }> };
    expect(listed.keys.length).toBeGreaterThan(0);
    const body = Buffer.from(JSON.stringify({}), 'utf8');
    const rotated = await send(front, { method: 'POST', path: '/_sealstore/keys/rotate', body, headers: { 'content-type': 'application/json' } });
    expect({ status: rotated.statusCode, body: rotated.statusCode === 200 ? '' : rotated.body.toString('utf8') }).toEqual({ status: 200, body: '' });
  });

  it.each([
    ['RotationFunction', 'RotationSchedule'],
    ['HousekeepingFunction', 'HousekeepingSchedule'],
  ])('runs the %s bundle as its EventBridge schedule invokes it (buffered answer, no error)', async (name, rule) => {
    const inv = await h.lambdas[name]!.invoke(scheduledEvent(rule, new Date().toISOString()));
    expect({ mode: inv.mode, body: inv.mode === 'buffered' ? 'report' : inv.raw.toString('utf8') }).toEqual({ mode: 'buffered', body: 'report' });
    const report = JSON.parse(inv.raw.toString('utf8')) as Record<string, unknown>;
    expect(typeof report).toBe('object');
    expect(h.proxies[name]!.calls.length).toBeGreaterThan(0);
  });

  describe('every AWS call each bundle made is allowed by its role in the template', () => {
    const summaries: string[] = [];
    afterAll(() => {
      if (summaries.length > 0) console.log(`AWS calls per function (recorded) vs IAM:\n${summaries.join('\n')}`);
    });

    it.each(FUNCTIONS)('%s', (name) => {
      const fn = h.assembly.functions[name]!;
      const statements = rolePolicyStatements(h.assembly.template, fn.roleLogicalId, h.deployed.resolve);
      const keyPolicies = keyPolicyStatements(h.assembly.template, fn.roleLogicalId, h.deployed.resolve);
      const keyStatements = (arn: string): PolicyStatement[] | undefined => {
        for (const [id, s] of keyPolicies) if (h.deployed.byLogicalId.get(id)?.attributes['Arn'] === arn) return s;
        return undefined;
      };
      const calls: RecordedCall[] = h.proxies[name]!.calls;
      expect(calls.length).toBeGreaterThan(0);
      const denied: string[] = [];
      const used = new Map<string, number>();
      for (const c of calls) {
        for (const p of permissionsFor(c, h.keyArn)) {
          const ctx = p.encryptionContext === undefined ? '' : ` context {${Object.keys(p.encryptionContext).join(',')}}`;
          const tag = `${p.action}${ctx}`;
          used.set(tag, (used.get(tag) ?? 0) + 1);
          if (allowedBy(statements, p) === undefined) denied.push(`role policy denies ${p.action} on ${p.resource}${ctx} (${p.call})`);
          if (p.action.startsWith('kms:') && p.resource !== '*') {
            const ks = keyStatements(p.resource);
            if (ks !== undefined && allowedBy(ks, { ...p, resource: '*' }) === undefined) denied.push(`key policy denies ${p.action} on ${p.resource}${ctx} (${p.call})`);
          }
        }
      }
      const granted = new Set(statements.flatMap((s) => (Array.isArray(s.Action) ? s.Action : s.Action === undefined ? [] : [s.Action])));
      const usedActions = new Set([...used.keys()].map((k) => k.split(' ')[0]!));
      summaries.push(
        `  ${name}: ${calls.length} calls\n    used: ${[...used.entries()].map(([k, n]) => `${k} ×${n}`).join('; ')}\n    granted, not used here: ${[...granted].filter((a) => !usedActions.has(a)).join(', ') || '-'}`,
      );
      expect(denied).toEqual([]);
    });
  });
});

async function readBody(body: unknown): Promise<Buffer> {
  if (body === undefined || body === null) return Buffer.alloc(0);
  if (typeof body === 'string') return Buffer.from(body, 'utf8');
  if (Buffer.isBuffer(body)) return body;
  if (body instanceof Uint8Array) return Buffer.from(body);
  const chunks: Buffer[] = [];
  for await (const c of body as AsyncIterable<Buffer | string>) chunks.push(Buffer.isBuffer(c) ? c : Buffer.from(c));
  return Buffer.concat(chunks);
}
