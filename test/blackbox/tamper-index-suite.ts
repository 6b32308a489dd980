// The index-tampering suite, run per backend by tamper-index.test.ts (embedded) and aws-moto-tamper-index.test.ts.
// The index is attacker-writable (ARCHITECTURE.md, threat model): someone who can edit index.sqlite or the
// DynamoDB table, but cannot use the CMK, edits rows one field at a time and in combinations, on both backends,
// and every S3 and admin request that touches an edited row must fail with a server error (5xx) that serves
// nothing: no 2xx with data or metadata that were not written under that bucket and key, no 4xx blaming the
// client. Edits go to the rows as stored (the adapters' raw ports, MACs and all, which is exactly the table's
// contents; plus literal SQL and DynamoDB PutItem for the headline case), around a live server.
import { PutItemCommand, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { ACCESS_KEYS_PK } from '../../lambdas/core/access-keys';
import { ACTIVE_PK, ACTIVE_SK, KEYS_PK } from '../../lambdas/core/key-lifecycle/key-state';
import { INDEX_KEY_PK, INDEX_KEY_SK } from '../../lambdas/core/index-auth/index-key';
import type { AttrValue, IndexItem, RecordIndex } from '../../lambdas/core/ports';
import { BUCKET_SK, bucketPk, ledgerItem, ledgerPk, manifestPk, objectsPk, uploadPartsPk, uploadsPk, versionsPk, type PartRecord } from '../../lambdas/core/records';
import type { RunningServer } from '../../local/server';
import { startEmbedded } from '../support/embedded-target';
import { startAwsOnMoto } from '../support/aws-target';
import { s3Path, signedRequest, type Creds, type RawResponse } from '../support/signed-fetch';

const MiB = 1024 * 1024;
const LIMITS = { mode: 's3' as const, maxObjectBytes: 64 * MiB, maxPartBytes: 64 * MiB, minPartBytes: 1, maxDocumentBytes: 2 * MiB };
const LIFECYCLE = { activeKeyCacheMs: 0, retireGraceMs: 0 };

interface Harness {
  readonly url: string;
  readonly creds: Creds;
  readonly server: RunningServer;
  /** The table as stored, bypassing the store's row authentication. */
  readonly raw: RecordIndex;
  /** Copies one row to another place with the backend's own tools (SQL; DynamoDB GetItem/PutItem). */
  copyRowLiterally(from: { pk: string; sk: string }, to: { pk: string; sk: string }): Promise<void>;
  close(): Promise<void>;
}

export async function embeddedHarness(): Promise<Harness> {
  const target = await startEmbedded({ limits: LIMITS, lifecycleConfig: LIFECYCLE });
  const sqlite = new Database(join(target.dataDir, 'index.sqlite'), { timeout: 5000 });
  return {
    url: target.url,
    creds: target.creds,
    server: target.server,
    raw: target.server.store.ports.index,
    copyRowLiterally: async (from, to) => {
      sqlite
        .prepare('INSERT OR REPLACE INTO items (pk, sk, gsi1pk, gsi1sk, attrs) SELECT ?, ?, gsi1pk, gsi1sk, attrs FROM items WHERE pk = ? AND sk = ?')
        .run(Buffer.from(to.pk), Buffer.from(to.sk), Buffer.from(from.pk), Buffer.from(from.sk));
    },
    close: async () => {
      sqlite.close();
      await target.close();
    },
  };
}

export async function motoHarness(): Promise<Harness> {
  const target = await startAwsOnMoto({ limits: LIMITS, lifecycleConfig: LIFECYCLE });
  const { motoClients } = await import('../aws/moto-clients');
  const { ListTablesCommand } = await import('@aws-sdk/client-dynamodb');
  const clients = motoClients(target.endpoint);
  const [table] = (await clients.dynamodb.send(new ListTablesCommand({}))).TableNames ?? [];
  return {
    url: target.url,
    creds: target.creds,
    server: target.server,
    raw: target.server.store.ports.index,
    copyRowLiterally: async (from, to) => {
      const got = await clients.dynamodb.send(new GetItemCommand({ TableName: table, Key: { pk: { S: from.pk }, sk: { S: from.sk } }, ConsistentRead: true }));
      if (!got.Item) throw new Error(`no item ${from.pk} / ${from.sk}`);
      await clients.dynamodb.send(new PutItemCommand({ TableName: table, Item: { ...got.Item, pk: { S: to.pk }, sk: { S: to.sk } } }));
    },
    close: async () => {
      clients.dynamodb.destroy();
      clients.s3.destroy();
      clients.kms.destroy();
      await target.close();
    },
  };
}

/** Bodies carry a marker, so a leak into any response (data or error text) shows. */
const marked = (name: string, size: number) => Buffer.concat([Buffer.from(`<<${name}-plaintext>>`), randomBytes(size)]);
const BODIES = { alphaDoc: marked('alpha-doc', 150_000), betaDoc: marked('beta-doc', 90_000), alphaOther: marked('alpha-other', 60_000) };
const MANY_PARTS = 503;

/** Records every row a case changes and puts them back afterwards, so cases do not leak into each other. */
class Editor {
  private readonly saved = new Map<string, IndexItem | undefined>();
  constructor(private readonly raw: RecordIndex) {}

  async row(pk: string, sk: string): Promise<IndexItem> {
    const item = await this.raw.get(pk, sk);
    if (!item) throw new Error(`fixture row ${pk} / ${sk} is missing`);
    return item;
  }

  async put(item: IndexItem): Promise<void> {
    const id = JSON.stringify([item.pk, item.sk]);
    if (!this.saved.has(id)) this.saved.set(id, await this.raw.get(item.pk, item.sk));
    await this.raw.put(item);
  }

  async remember(pk: string, sk: string): Promise<void> {
    const id = JSON.stringify([pk, sk]);
    if (!this.saved.has(id)) this.saved.set(id, await this.raw.get(pk, sk));
  }

  /** The row with some attributes changed, left where it is (its MAC untouched, as an attacker must). */
  async edit(pk: string, sk: string, change: (attrs: Record<string, AttrValue>) => void): Promise<void> {
    const item = await this.row(pk, sk);
    const attrs = { ...item.attrs };
    change(attrs);
    await this.put({ ...item, attrs });
  }

  /** The row, MAC and all, written somewhere else. */
  async copy(from: { pk: string; sk: string }, to: { pk: string; sk: string }, change?: (attrs: Record<string, AttrValue>) => void): Promise<void> {
    const item = await this.row(from.pk, from.sk);
    const attrs = { ...item.attrs };
    change?.(attrs);
    await this.put({ ...item, pk: to.pk, sk: to.sk, attrs });
  }

  async restore(): Promise<void> {
    for (const [id, item] of this.saved) {
      const [pk, sk] = JSON.parse(id) as [string, string];
      if (item) await this.raw.put(item);
      else await this.raw.delete(pk, sk);
    }
    this.saved.clear();
  }
}

type Probe = (h: Harness) => Promise<RawResponse>;

const req = (method: string, path: string, headers: Record<string, string> = {}, query?: Record<string, string>, body?: Buffer, creds?: Creds): Probe => (h) =>
  signedRequest(h.url, h.creds, { method, path, headers, ...(query ? { query } : {}), ...(body ? { body } : {}), ...(creds ? { creds } : {}) });

/** Every way a request can read an object's row: GET, ranged GET, HEAD, conditional requests, copies, listing. */
function objectProbes(bucket: string, key: string, etag: () => string, uploadId: () => string): Array<[string, Probe]> {
  const source = `/${bucket}/${encodeURIComponent(key)}`;
  return [
    ['GET', req('GET', s3Path(bucket, key))],
    ['ranged GET', req('GET', s3Path(bucket, key), { range: 'bytes=0-99' })],
    ['suffix-ranged GET', req('GET', s3Path(bucket, key), { range: 'bytes=-10' })],
    ['HEAD', req('HEAD', s3Path(bucket, key))],
    ['GET If-Match (ETag as written)', req('GET', s3Path(bucket, key), { 'if-match': etag() })],
    ['GET If-Match (forged ETag)', req('GET', s3Path(bucket, key), { 'if-match': '"0123456789abcdef0123456789abcdef"' })],
    ['GET If-None-Match', req('GET', s3Path(bucket, key), { 'if-none-match': '"ffff"' })],
    ['GET If-Modified-Since', req('GET', s3Path(bucket, key), { 'if-modified-since': 'Thu, 01 Jan 1970 00:00:00 GMT' })],
    ['LIST (v2)', req('GET', s3Path(bucket), {}, { 'list-type': '2' })],
    ['LIST (v1, prefix)', req('GET', s3Path(bucket), {}, { prefix: key.slice(0, 1) })],
    ['CopyObject source', req('PUT', s3Path('gamma', `copy-of-${bucket}-${key}`), { 'x-amz-copy-source': source })],
    ['UploadPartCopy source', req('PUT', s3Path('gamma', 'mp-target'), { 'x-amz-copy-source': source }, { partNumber: '1', uploadId: uploadId() })],
  ];
}

/**
 * `chunkedObject: false` leaves out the one case that needs a 503-part object (a part list in two manifest chunk
 * rows): on moto its 503 UploadParts cost 80 s, over half the AWS half's time, and the chunk rows it tampers with
 * are written and MAC'd by the core exactly as on the embedded backend, which keeps the case.
 */
export function tamperSuite(backend: string, start: () => Promise<Harness>, options: { readonly chunkedObject: boolean } = { chunkedObject: true }): void {
  describe(`tampering with the index, ${backend}`, () => {
    let h: Harness;
    let edit: Editor;
    let etags: Record<string, string>;
    let mpUpload: string;
    let reader: Creds;
    let disabled: Creds;
    let otherKeyArn: string;
    /** Version ids in the versioned bucket 'delta': two versions of 'v' (oldest first), and 'w': a version under a marker. */
    let versions: { v: string[]; w: string; wMarker: string };
    const failures: string[] = [];

    const call = (p: Probe) => p(h);
    /** Setup only: retries a 503 as any S3 client does (moto answers some of 8 concurrent transactions 503 under load). */
    const callRetrying503 = async (p: Probe) => {
      for (let attempt = 1; ; attempt++) {
        const res = await call(p);
        if (res.status !== 503 || attempt === 4) return res;
        await new Promise((resolve) => setTimeout(resolve, 200 * attempt));
      }
    };
    const etagOf = async (bucket: string, key: string) => String((await call(req('HEAD', s3Path(bucket, key)))).headers['etag']);

    /** Each probe must answer 5xx and carry no plaintext; the written objects must read back unchanged after restore. */
    async function expectRefused(what: string, probes: Array<[string, Probe]>): Promise<void> {
      for (const [name, probe] of probes) {
        const res = await call(probe);
        const text = res.body.toString('latin1');
        if (res.status < 500 || /-plaintext>>/.test(text)) failures.push(`${what} / ${name}: ${res.status} ${text.slice(0, 200)}`);
      }
    }

    beforeAll(async () => {
      h = await start();
      edit = new Editor(h.raw);
      for (const b of ['alpha', 'beta', 'gamma']) expect((await call(req('PUT', s3Path(b)))).status).toBe(200);
      const put = (bucket: string, key: string, body: Buffer, headers: Record<string, string> = {}) => call(req('PUT', s3Path(bucket, key), headers, undefined, body));
      const uploadMany = async (): Promise<void> => {
        const created = await call(req('POST', s3Path('alpha', 'many'), {}, { uploads: '' }));
        const uploadId = /<UploadId>([^<]+)<\/UploadId>/.exec(created.body.toString())![1]!;
        const parts: string[] = [];
        for (let first = 1; first <= MANY_PARTS; first += 8) {
          const batch = Array.from({ length: Math.min(8, MANY_PARTS - first + 1) }, (_, i) => first + i);
          const sent = await Promise.all(batch.map((n) => callRetrying503(req('PUT', s3Path('alpha', 'many'), {}, { partNumber: String(n), uploadId }, Buffer.from(`part ${n} <<many-plaintext>> `.repeat(3))))));
          sent.forEach((res, i) => {
            expect({ part: batch[i], status: res.status, body: res.status === 200 ? '' : res.body.toString() }).toEqual({ part: batch[i], status: 200, body: '' });
            parts.push(`<Part><PartNumber>${batch[i]!}</PartNumber><ETag>${String(res.headers['etag'])}</ETag></Part>`);
          });
        }
        const done = await call(req('POST', s3Path('alpha', 'many'), {}, { uploadId }, Buffer.from(`<CompleteMultipartUpload>${parts.join('')}</CompleteMultipartUpload>`)));
        expect({ status: done.status, body: done.status === 200 ? '' : done.body.toString() }).toEqual({ status: 200, body: '' });
      };
      expect((await put('alpha', 'doc', BODIES.alphaDoc, { 'content-type': 'text/alpha', 'x-amz-meta-owner': 'alpha' })).status).toBe(200);
      expect((await put('beta', 'doc', BODIES.betaDoc, { 'content-type': 'text/beta', 'x-amz-meta-owner': 'beta' })).status).toBe(200);
      expect((await put('alpha', 'other', BODIES.alphaOther)).status).toBe(200);
      // A many-part object whose part list spans two manifest chunk rows (500 parts per chunk).
      if (options.chunkedObject) await uploadMany();
      etags = { alphaDoc: await etagOf('alpha', 'doc'), betaDoc: await etagOf('beta', 'doc'), alphaOther: await etagOf('alpha', 'other'), ...(options.chunkedObject ? { many: await etagOf('alpha', 'many') } : {}) };
      // An open upload in gamma, the target of UploadPartCopy probes; another in alpha to tamper with.
      mpUpload = /<UploadId>([^<]+)<\/UploadId>/.exec((await call(req('POST', s3Path('gamma', 'mp-target'), {}, { uploads: '' }))).body.toString())![1]!;
      // A versioned bucket: 'v' with a noncurrent and a latest version, 'w' with a version under a delete marker.
      expect((await call(req('PUT', s3Path('delta')))).status).toBe(200);
      const enable = Buffer.from('<VersioningConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Status>Enabled</Status></VersioningConfiguration>');
      expect((await call(req('PUT', s3Path('delta'), {}, { versioning: '' }, enable))).status).toBe(200);
      const versionOf = async (res: Promise<RawResponse>) => String((await res).headers['x-amz-version-id']);
      versions = {
        v: [await versionOf(put('delta', 'v', marked('delta-v1', 3000))), await versionOf(put('delta', 'v', marked('delta-v2', 3000)))],
        w: await versionOf(put('delta', 'w', marked('delta-w', 3000))),
        wMarker: await versionOf(call(req('DELETE', s3Path('delta', 'w')))),
      };
      // A second CMK known to the store (standby), for key-state edits.
      const created2 = await call(req('POST', '/_sealstore/keys', { 'content-type': 'application/json' }, undefined, Buffer.from(JSON.stringify({ alias: `tamper-${randomBytes(3).toString('hex')}` }))));
      if (created2.status === 200) otherKeyArn = (JSON.parse(created2.body.toString()) as { key: { keyId: string } }).key.keyId;
      else otherKeyArn = 'arn:aws:kms:us-east-1:000000000000:key/00000000-0000-0000-0000-000000000000';
    }, 240_000);

    afterAll(async () => {
      await h?.close();
    });

    // Access keys made for each test and tampered with before their first use: a server caches an opened key for
    // 30 s (the authentic row it read), so an edit made after a use would only show once that expires.
    beforeEach(async () => {
      const makeKey = async (bucket: string, role: string): Promise<Creds> => {
        const res = await call(req('POST', '/_sealstore/access-keys', { 'content-type': 'application/json' }, undefined, Buffer.from(JSON.stringify({ grants: [{ bucket, role }] }))));
        const made = JSON.parse(res.body.toString()) as { accessKey: { accessKeyId: string; secretAccessKey: string } };
        return { accessKeyId: made.accessKey.accessKeyId, secretAccessKey: made.accessKey.secretAccessKey };
      };
      reader = await makeKey('beta', 'read');
      disabled = await makeKey('alpha', 'admin');
      expect((await call(req('POST', `/_sealstore/access-keys/${disabled.accessKeyId}/disable`))).status).toBe(200);
    });

    afterEach(async () => {
      await edit.restore();
      // Restored rows are authentic again: the objects read back exactly as written.
      for (const [bucket, key, body] of [['alpha', 'doc', BODIES.alphaDoc], ['beta', 'doc', BODIES.betaDoc], ['alpha', 'other', BODIES.alphaOther]] as const) {
        const got = await call(req('GET', s3Path(bucket, key)));
        expect({ bucket, key, status: got.status, same: got.body.equals(body) }).toEqual({ bucket, key, status: 200, same: true });
      }
      const found = failures.splice(0);
      expect(found).toEqual([]);
    });

    const docProbes = (bucket: string, key: string, etag: () => string) => objectProbes(bucket, key, etag, () => mpUpload);
    const O = (bucket: string, key: string) => ({ pk: objectsPk(bucket), sk: key });

    describe('object rows', () => {
      it('a row copied into another bucket under the same key (over beta/doc): beta/doc is never served as alpha/doc', async () => {
        await edit.copy(O('alpha', 'doc'), O('beta', 'doc'));
        await expectRefused('alpha/doc → beta/doc', docProbes('beta', 'doc', () => etags.alphaDoc!));
        // And a reader of beta only never reads alpha's bytes through it.
        await expectRefused('reader of beta', [['GET as beta reader', req('GET', s3Path('beta', 'doc'), {}, undefined, undefined, reader)]]);
      });

      it('the same copy made with the backend’s own tools (literal SQL / DynamoDB PutItem), with and without its bucket attribute rewritten', async () => {
        await edit.remember(objectsPk('beta'), 'doc');
        await h.copyRowLiterally(O('alpha', 'doc'), O('beta', 'doc'));
        await expectRefused('literal copy', docProbes('beta', 'doc', () => etags.alphaDoc!));
        await edit.copy(O('alpha', 'doc'), O('beta', 'doc'), (a) => (a['bucket'] = 'beta'));
        await expectRefused('copy with bucket attribute rewritten', docProbes('beta', 'doc', () => etags.alphaDoc!));
      });

      it('a row copied to a new key in another bucket, and to a new key in its own bucket', async () => {
        await edit.copy(O('alpha', 'doc'), O('beta', 'fresh'));
        await expectRefused('alpha/doc → beta/fresh', docProbes('beta', 'fresh', () => etags.alphaDoc!));
        await edit.copy(O('alpha', 'doc'), O('alpha', 'copied'));
        await expectRefused('alpha/doc → alpha/copied', docProbes('alpha', 'copied', () => etags.alphaDoc!));
      });

      it('a row copied over another key of its bucket', async () => {
        await edit.copy(O('alpha', 'doc'), O('alpha', 'other'));
        await expectRefused('alpha/doc → alpha/other', docProbes('alpha', 'other', () => etags.alphaDoc!));
      });

      it.each([
        ['size lowered', (a: Record<string, AttrValue>) => (a['size'] = (a['size'] as number) - 100)],
        ['size raised', (a: Record<string, AttrValue>) => (a['size'] = (a['size'] as number) + 100)],
        ['content type edited', (a: Record<string, AttrValue>) => (a['contentType'] = 'text/html')],
        ['user metadata edited', (a: Record<string, AttrValue>) => (a['userMetadata'] = [['owner', 'mallory']])],
        ['ETag edited', (a: Record<string, AttrValue>) => (a['etag'] = '0123456789abcdef0123456789abcdef')],
        ['last-modified edited', (a: Record<string, AttrValue>) => (a['lastModified'] = 0)],
        ['key id edited', (a: Record<string, AttrValue>) => (a['keyId'] = otherKeyArn)],
        ['MAC removed (a row forged without one)', (a: Record<string, AttrValue>) => delete a['rowMac']],
        ['size, ETag and content type edited together', (a: Record<string, AttrValue>) => {
          a['size'] = 10;
          a['etag'] = '0123456789abcdef0123456789abcdef';
          a['contentType'] = 'text/html';
        }],
      ])('%s', async (what, change) => {
        await edit.edit(objectsPk('alpha'), 'doc', change);
        await expectRefused(what, docProbes('alpha', 'doc', () => etags.alphaDoc!));
      });

      it('a wrapped data key, and a part list, swapped in from another object', async () => {
        const beta = await edit.row(objectsPk('beta'), 'doc');
        await edit.edit(objectsPk('alpha'), 'doc', (a) => (a['wrappedKey'] = beta.attrs['wrappedKey']!));
        await expectRefused('wrapped key swapped', docProbes('alpha', 'doc', () => etags.alphaDoc!));
        await edit.restore();
        const other = await edit.row(objectsPk('alpha'), 'other');
        await edit.edit(objectsPk('alpha'), 'doc', (a) => (a['parts'] = other.attrs['parts']!));
        await expectRefused('part list swapped', docProbes('alpha', 'doc', () => etags.alphaDoc!));
      });

      const chunkCase = options.chunkedObject ? it : it.skip;
      const chunkTitle = options.chunkedObject ? '' : ' — skipped on this backend: its 503 UploadParts cost 80 s; the embedded half runs it (chunk rows are the core’s, as here)';
      chunkCase(`a part moved across a manifest chunk boundary, and the two chunk rows swapped${chunkTitle}`, async () => {
        const objectId = (await edit.row(objectsPk('alpha'), 'many')).attrs['objectId'] as string;
        const first = await edit.row(manifestPk(objectId), '00000');
        const second = await edit.row(manifestPk(objectId), '00001');
        const firstParts = first.attrs['parts'] as AttrValue[];
        const secondParts = second.attrs['parts'] as AttrValue[];
        await edit.put({ ...first, attrs: { ...first.attrs, parts: firstParts.slice(0, -1) } });
        await edit.put({ ...second, attrs: { ...second.attrs, parts: [firstParts.at(-1)!, ...secondParts] } });
        const probes = objectProbes('alpha', 'many', () => etags.many!, () => mpUpload).filter(([name]) => !name.startsWith('LIST') && name !== 'HEAD');
        await expectRefused('part moved across chunks', probes);
        await edit.restore();
        await edit.put({ ...first, sk: '00001' });
        await edit.put({ ...second, sk: '00000' });
        await expectRefused('chunks swapped', probes);
      });
    });

    describe('version rows and delete markers', () => {
      const V = (key: string, sk: string) => ({ pk: versionsPk('delta', key), sk });
      const versionProbes = (key: string, versionId: () => string): Array<[string, Probe]> => [
        ['GET ?versionId', (hh) => req('GET', s3Path('delta', key), {}, { versionId: versionId() })(hh)],
        ['HEAD ?versionId', (hh) => req('HEAD', s3Path('delta', key), {}, { versionId: versionId() })(hh)],
        ['ranged GET ?versionId', (hh) => req('GET', s3Path('delta', key), { range: 'bytes=0-9' }, { versionId: versionId() })(hh)],
        ['ListObjectVersions', req('GET', s3Path('delta'), {}, { versions: '' })],
        ['CopyObject source ?versionId', (hh) => req('PUT', s3Path('gamma', `copy-of-delta-${key}`), { 'x-amz-copy-source': `/delta/${key}?versionId=${versionId()}` })(hh)],
      ];
      const forged = () => 'f'.repeat(28);

      it('a noncurrent version row copied to another version id of its key, and to another key', async () => {
        await edit.copy(V('v', versions.v[0]!), V('v', forged()));
        await expectRefused('V# row → another version id', versionProbes('v', forged));
        await edit.restore();
        await edit.copy(V('v', versions.v[0]!), V('w', versions.v[0]!));
        await expectRefused('V# row → another key', versionProbes('w', () => versions.v[0]!));
      });

      it('a noncurrent version copied over the latest entry, and the latest entry’s version count edited', async () => {
        await edit.copy(V('v', versions.v[0]!), O('delta', 'v'));
        await expectRefused('V# row → latest entry', [['GET', req('GET', s3Path('delta', 'v'))], ...versionProbes('v', () => versions.v[1]!)]);
        await edit.restore();
        await edit.edit(objectsPk('delta'), 'v', (a) => (a['noncurrent'] = 0));
        await expectRefused('noncurrent count edited', [['GET', req('GET', s3Path('delta', 'v'))], ...versionProbes('v', () => versions.v[0]!)]);
      });

      it('a delete marker moved onto another key, and into another key’s version partition', async () => {
        await edit.copy(O('delta', 'w'), O('delta', 'v'));
        await expectRefused('marker → latest of another key', [['GET', req('GET', s3Path('delta', 'v'))], ['HEAD', req('HEAD', s3Path('delta', 'v'))], ['DELETE', req('DELETE', s3Path('delta', 'v'))]]);
        await edit.restore();
        await edit.copy(O('delta', 'w'), V('v', versions.wMarker));
        await expectRefused('marker → version partition of another key', versionProbes('v', () => versions.wMarker));
      });
    });

    describe('access keys, key state, uploads and buckets', () => {
      it('a key’s grants raised to admin on every bucket: refused on data and admin routes alike', async () => {
        await edit.edit(ACCESS_KEYS_PK, reader.accessKeyId, (a) => (a['grants'] = [{ bucket: '*', role: 'admin' }]));
        await expectRefused('grants raised', [
          ['GET another bucket', req('GET', s3Path('alpha', 'doc'), {}, undefined, undefined, reader)],
          ['GET its own bucket', req('GET', s3Path('beta', 'doc'), {}, undefined, undefined, reader)],
          ['admin: list access keys', req('GET', '/_sealstore/access-keys', {}, undefined, undefined, reader)],
          ['admin: list CMKs', req('GET', '/_sealstore/keys', {}, undefined, undefined, reader)],
          ['admin: rollover', req('POST', '/_sealstore/keys/rollover', { 'content-type': 'application/json' }, undefined, Buffer.from(JSON.stringify({ to: otherKeyArn })), reader)],
        ]);
      });

      it('a disabled key’s status flipped back to Active, and a key’s sealed secret swapped for another’s', async () => {
        await edit.edit(ACCESS_KEYS_PK, disabled.accessKeyId, (a) => (a['status'] = 'Active'));
        await expectRefused('status revived', [
          ['GET', req('GET', s3Path('alpha', 'doc'), {}, undefined, undefined, disabled)],
          ['admin route', req('GET', '/_sealstore/access-keys', {}, undefined, undefined, disabled)],
        ]);
        await edit.restore();
        const readerRow = await edit.row(ACCESS_KEYS_PK, reader.accessKeyId);
        await edit.edit(ACCESS_KEYS_PK, disabled.accessKeyId, (a) => {
          a['status'] = 'Active';
          a['sealedSecret'] = readerRow.attrs['sealedSecret']!;
        });
        await expectRefused('secret swapped', [['GET', req('GET', s3Path('alpha', 'doc'), {}, undefined, undefined, { accessKeyId: disabled.accessKeyId, secretAccessKey: reader.secretAccessKey })]]);
      });

      it('the active-key pointer and a key-state record edited: writes and the key admin refuse them', async () => {
        await edit.edit(ACTIVE_PK, ACTIVE_SK, (a) => {
          for (const name of Object.keys(a)) if (typeof a[name] === 'string' && (a[name]).startsWith('arn:')) a[name] = otherKeyArn;
        });
        await expectRefused('active pointer', [
          ['PUT', req('PUT', s3Path('alpha', 'new-under-forged-key'), {}, undefined, Buffer.from('<<new-plaintext>>'))],
          ['admin: list CMKs', req('GET', '/_sealstore/keys')],
        ]);
        expect((await call(req('HEAD', s3Path('alpha', 'new-under-forged-key')))).status).toBe(404);
        await edit.restore();
        const states = await h.raw.query(KEYS_PK, { limit: 10 });
        const active = states.items.find((i) => i.attrs['role'] === 'active')!;
        await edit.edit(KEYS_PK, active.sk, (a) => (a['role'] = 'retired'));
        await expectRefused('key-state record', [
          ['admin: list CMKs', req('GET', '/_sealstore/keys')],
          ['admin: rewrap run', req('POST', '/_sealstore/keys/rewrap')],
        ]);
      });

      it('an upload moved to another bucket, and an uploaded part’s size edited', async () => {
        const uploads = await h.raw.query(uploadsPk('gamma'), { limit: 10 });
        const upload = uploads.items.find((i) => i.attrs['uploadId'] === mpUpload)!;
        await edit.copy({ pk: upload.pk, sk: upload.sk }, { pk: uploadsPk('beta'), sk: upload.sk });
        await expectRefused('upload moved', [
          ['ListMultipartUploads', req('GET', s3Path('beta'), {}, { uploads: '' })],
          ['UploadPart', req('PUT', s3Path('beta', 'mp-target'), {}, { partNumber: '1', uploadId: mpUpload }, Buffer.from('x'))],
          ['ListParts', req('GET', s3Path('beta', 'mp-target'), {}, { uploadId: mpUpload })],
        ]);
        await edit.restore();
        expect((await call(req('PUT', s3Path('gamma', 'mp-target'), {}, { partNumber: '1', uploadId: mpUpload }, Buffer.from('<<part-plaintext>>')))).status).toBe(200);
        await edit.edit(uploadPartsPk(mpUpload), '00001', (a) => (a['plaintextSize'] = 1));
        await expectRefused('part size edited', [
          ['ListParts', req('GET', s3Path('gamma', 'mp-target'), {}, { uploadId: mpUpload })],
          ['Complete', req('POST', s3Path('gamma', 'mp-target'), {}, { uploadId: mpUpload }, Buffer.from('<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>"x"</ETag></Part></CompleteMultipartUpload>'))],
        ]);
      });

      it('a bucket row forged by copying another under a new name', async () => {
        await edit.copy({ pk: bucketPk('alpha'), sk: BUCKET_SK }, { pk: bucketPk('forged'), sk: BUCKET_SK });
        await expectRefused('bucket forged', [
          ['HEAD bucket', req('HEAD', s3Path('forged'))],
          ['PUT into it', req('PUT', s3Path('forged', 'k'), {}, undefined, Buffer.from('x'))],
          ['ListBuckets', req('GET', '/')],
        ]);
      });

      it('the index key row removed or replaced: nothing is served under a key the store did not make', async () => {
        const beta = await edit.row(objectsPk('beta'), 'doc');
        await edit.edit(INDEX_KEY_PK, INDEX_KEY_SK, (a) => (a['wrapped'] = beta.attrs['wrappedKey']!));
        // The running server holds the key it unwrapped at start; the edit matters to the next process, which
        // must refuse to start (test/blackbox/index-adoption.test.ts). Rows are still checked here.
        const got = await call(req('GET', s3Path('alpha', 'doc')));
        expect(got.status).toBe(200);
        expect(got.body.equals(BODIES.alphaDoc)).toBe(true);
      });
    });

    describe('rows replayed from an old copy of the index never get live data deleted', () => {
      it('a pending ledger entry for a committed PUT’s blob: the sweep keeps the blob', async () => {
        const row = await edit.row(objectsPk('alpha'), 'doc');
        const blobId = (row.attrs['parts'] as Array<Record<string, AttrValue>>)[0]!['blobId'] as string;
        await edit.remember(ledgerPk(blobId), blobId);
        // The entry this PUT wrote while its body streamed (authentic: sealed as the store seals it), put back.
        await h.server.store.index.put(ledgerItem({ blobId, kind: 'pending', createdAt: new Date(0), owner: { bucket: 'alpha', key: 'doc', objectId: row.attrs['objectId'] as string } }));
        await h.server.service.sweep(0);
        expect(await h.raw.get(ledgerPk(blobId), blobId)).toBeUndefined();
        // afterEach reads alpha/doc back byte for byte.
      });

      it('a pending ledger entry for a noncurrent version’s blob: the sweep keeps the blob, the version still reads', async () => {
        const row = await edit.row(versionsPk('delta', 'v'), versions.v[0]!);
        const blobId = (row.attrs['parts'] as Array<Record<string, AttrValue>>)[0]!['blobId'] as string;
        await edit.remember(ledgerPk(blobId), blobId);
        await h.server.store.index.put(ledgerItem({ blobId, kind: 'pending', createdAt: new Date(0), owner: { bucket: 'delta', key: 'v', objectId: row.attrs['objectId'] as string } }));
        await h.server.service.sweep(0);
        expect(await h.raw.get(ledgerPk(blobId), blobId)).toBeUndefined();
        const got = await call(req('GET', s3Path('delta', 'v'), {}, { versionId: versions.v[0]! }));
        expect({ status: got.status, marked: got.body.includes(Buffer.from('<<delta-v1-plaintext>>')) }).toEqual({ status: 200, marked: true });
      });

      it('an upload’s rows saved before its completion and put back after: the upload sweep leaves the object whole', async () => {
        const body = [marked('replay-part-1', 3000), marked('replay-part-2', 2000)];
        const created = await call(req('POST', s3Path('alpha', 'replayed'), {}, { uploads: '' }));
        const uploadId = /<UploadId>([^<]+)<\/UploadId>/.exec(created.body.toString())![1]!;
        const etags: string[] = [];
        for (const [i, part] of body.entries()) etags.push(String((await call(req('PUT', s3Path('alpha', 'replayed'), {}, { partNumber: String(i + 1), uploadId }, part))).headers['etag']));
        // The attacker's copy of the index, taken while the upload was open.
        const saved = [...(await h.raw.query(uploadsPk('alpha'), { limit: 100 })).items.filter((i) => i.attrs['uploadId'] === uploadId), ...(await h.raw.query(uploadPartsPk(uploadId), { limit: 100 })).items];
        expect(saved).toHaveLength(3);
        const xmlParts = etags.map((e, i) => `<Part><PartNumber>${i + 1}</PartNumber><ETag>${e}</ETag></Part>`).join('');
        expect((await call(req('POST', s3Path('alpha', 'replayed'), {}, { uploadId }, Buffer.from(`<CompleteMultipartUpload>${xmlParts}</CompleteMultipartUpload>`)))).status).toBe(200);
        for (const row of saved) await edit.put(row);
        const swept = await h.server.service.sweepUploads(0);
        expect(swept.aborted + swept.finished).toBeGreaterThanOrEqual(1);
        await h.server.service.sweep(0);
        const got = await call(req('GET', s3Path('alpha', 'replayed')));
        expect({ status: got.status, same: got.body.equals(Buffer.concat(body)) }).toEqual({ status: 200, same: true });
        // The sweep also aborted the open upload the probes copy into: open another.
        mpUpload = /<UploadId>([^<]+)<\/UploadId>/.exec((await call(req('POST', s3Path('gamma', 'mp-target'), {}, { uploads: '' }))).body.toString())![1]!;
      });

      it('a blob deleted under a current entry answers 500 (lost data), not 404 (as if it never existed)', async () => {
        expect((await call(req('PUT', s3Path('alpha', 'victim'), {}, undefined, marked('victim', 5000)))).status).toBe(200);
        const row = await edit.row(objectsPk('alpha'), 'victim');
        await h.server.store.ports.blobs.delete(((row.attrs['parts'] as unknown as PartRecord[])[0] as PartRecord).blobId);
        const got = await call(req('GET', s3Path('alpha', 'victim')));
        expect(got.status).toBe(500);
        expect(got.body.toString()).toContain('<Code>InternalError</Code>');
      });
    });

    it('KNOWN LIMIT (docs/SECURITY.md): an older authentic row written back at its own place is accepted — a disabled key revived by replaying its saved row', async () => {
      const res = await call(req('POST', '/_sealstore/access-keys', { 'content-type': 'application/json' }, undefined, Buffer.from(JSON.stringify({ grants: [{ bucket: 'beta', role: 'read' }] }))));
      const made = (JSON.parse(res.body.toString()) as { accessKey: { accessKeyId: string; secretAccessKey: string } }).accessKey;
      const replayed: Creds = { accessKeyId: made.accessKeyId, secretAccessKey: made.secretAccessKey };
      const saved = await edit.row(ACCESS_KEYS_PK, made.accessKeyId);
      expect((await call(req('POST', `/_sealstore/access-keys/${made.accessKeyId}/disable`))).status).toBe(200);
      expect((await call(req('GET', s3Path('beta', 'doc'), {}, undefined, undefined, replayed))).status).toBe(403);
      await edit.put(saved);
      // Accepted: the row is one sealstore itself wrote at this very place. Row MACs cannot tell an old row from
      // the current one; only a record outside the attacker's reach could (see SECURITY.md, "Not protected").
      const revived = await call(req('GET', s3Path('beta', 'doc'), {}, undefined, undefined, replayed));
      expect(revived.status).toBe(200);
      expect(revived.body.equals(BODIES.betaDoc)).toBe(true);
    });
  });
}
