// The index rebuild's proof (issue 15): fill a store, lose its index entirely, rebuild it from the blobs with
// `sealstore recover --rebuild-index` (stopped between batches and resumed), and compare listings, metadata and bytes
// with the original (delete markers included: each is a record-only blob); then with 3 tampered blobs and (where the vault enforces key states) a disabled CMK: those are
// reported, the rest restored. Run on the embedded backend and on the AWS adapters over moto_server.
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  GetBucketVersioningCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListObjectVersionsCommand,
  PutBucketVersioningCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { readBlobRecord } from '../../lambdas/core/blob-record';
import type { SealedMetadata } from '../../lambdas/core/format';
import type { BlobStore, KeyVault } from '../../lambdas/core/ports';
import { cli, type CliResult } from '../admin/helpers';
import type { Creds } from '../support/signed-fetch';

/** A small minimum part size keeps the multipart objects small (and moto fast). */
export const PART = 64 * 1024;

export interface Running {
  readonly url: string;
  readonly creds: Creds;
}

/** What a backend offers the suite. `stop` and `start` keep the blobs and the vault; `emptyIndex` runs while stopped. */
export interface RecoveryHarness {
  start(): Promise<Running>;
  stop(): Promise<void>;
  /** Removes the whole index (embedded: the SQLite files; AWS: the table, recreated empty). */
  emptyIndex(): Promise<void>;
  /** The raw blob store and vault (while stopped), to find and tamper with blobs as an attacker with bucket access would. */
  raw(): Promise<{ blobs: BlobStore; vault: KeyVault; close(): Promise<void> }>;
  cleanup(): Promise<void>;
}

const s3 = (r: Running) => new S3Client({ endpoint: r.url, region: 'us-east-1', forcePathStyle: true, credentials: r.creds, maxAttempts: 1 });
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

interface Seen {
  readonly key: string;
  readonly size: number;
  readonly etag: string;
  readonly contentType: string | undefined;
  readonly metadata: Record<string, string> | undefined;
  readonly cacheControl: string | undefined;
  readonly contentDisposition: string | undefined;
  readonly lastModified: number;
  readonly sha: string;
}

/** Everything a client can see of the store's buckets: listings, HEAD fields and bytes. */
async function snapshot(r: Running): Promise<Record<string, Seen[]>> {
  const c = s3(r);
  try {
    const out: Record<string, Seen[]> = {};
    for (const b of (await c.send(new ListBucketsCommand({}))).Buckets ?? []) {
      const name = b.Name ?? '';
      const seen: Seen[] = [];
      for (const o of (await c.send(new ListObjectsV2Command({ Bucket: name }))).Contents ?? []) {
        const key = o.Key ?? '';
        const head = await c.send(new HeadObjectCommand({ Bucket: name, Key: key }));
        const body = await (await c.send(new GetObjectCommand({ Bucket: name, Key: key }))).Body?.transformToByteArray();
        seen.push({
          key,
          size: o.Size ?? -1,
          etag: o.ETag ?? '',
          contentType: head.ContentType,
          metadata: head.Metadata,
          cacheControl: head.CacheControl,
          contentDisposition: head.ContentDisposition,
          lastModified: head.LastModified?.getTime() ?? 0,
          sha: sha(body ?? new Uint8Array()),
        });
      }
      out[name] = seen;
      // A bucket that had versioning: every version, by id, with its bytes.
      if ((await c.send(new GetBucketVersioningCommand({ Bucket: name }))).Status !== undefined) {
        const versions = (await c.send(new ListObjectVersionsCommand({ Bucket: name }))).Versions ?? [];
        out[`${name} (versions)`] = await Promise.all(
          versions.map(async (v): Promise<Seen> => {
            const got = await c.send(new GetObjectCommand({ Bucket: name, Key: v.Key, VersionId: v.VersionId }));
            const body = await got.Body?.transformToByteArray();
            return {
              key: `${v.Key ?? ''} ${v.VersionId ?? ''}${v.IsLatest ? ' latest' : ''}`,
              size: v.Size ?? -1,
              etag: v.ETag ?? '',
              contentType: got.ContentType,
              metadata: got.Metadata,
              cacheControl: got.CacheControl,
              contentDisposition: got.ContentDisposition,
              lastModified: v.LastModified?.getTime() ?? 0,
              sha: sha(body ?? new Uint8Array()),
            };
          }),
        );
        // Its delete markers, and what a GET of a key whose latest entry is a marker answers (404, x-amz-delete-marker).
        const markers = (await c.send(new ListObjectVersionsCommand({ Bucket: name }))).DeleteMarkers ?? [];
        out[`${name} (markers)`] = await Promise.all(
          markers.map(async (m): Promise<Seen> => {
            let get = 'not latest';
            if (m.IsLatest) {
              const failed = await c.send(new GetObjectCommand({ Bucket: name, Key: m.Key })).then(
                () => undefined,
                (e: unknown) => e as { name?: string; $metadata?: { httpStatusCode?: number }; $response?: { headers?: Record<string, string> } },
              );
              get = `${failed?.name ?? 'served'} ${failed?.$metadata?.httpStatusCode ?? 200} delete-marker=${failed?.$response?.headers?.['x-amz-delete-marker'] ?? '-'}`;
            }
            return {
              key: `${m.Key ?? ''} ${m.VersionId ?? ''}${m.IsLatest ? ' latest' : ''} marker`,
              size: 0,
              etag: '',
              contentType: undefined,
              metadata: { get },
              cacheControl: undefined,
              contentDisposition: undefined,
              lastModified: m.LastModified?.getTime() ?? 0,
              sha: '',
            };
          }),
        );
      }
    }
    return out;
  } finally {
    c.destroy();
  }
}

/** The same as `snapshot`, LastModified within a second: the write path's is its commit, the record's its sealing. */
function expectSameStore(got: Record<string, Seen[]>, want: Record<string, Seen[]>): void {
  const strip = (s: Record<string, Seen[]>) => Object.fromEntries(Object.entries(s).map(([b, list]) => [b, list.map(({ lastModified: _l, ...rest }) => rest)]));
  expect(strip(got)).toEqual(strip(want));
  for (const [b, list] of Object.entries(want)) {
    for (const [i, o] of list.entries()) expect(Math.abs((got[b]?.[i]?.lastModified ?? 0) - o.lastModified)).toBeLessThanOrEqual(1000);
  }
}

async function fill(r: Running): Promise<void> {
  const c = s3(r);
  try {
    for (const b of ['alpha', 'beta']) await c.send(new CreateBucketCommand({ Bucket: b }));
    await c.send(
      new PutObjectCommand({
        Bucket: 'alpha',
        Key: 'docs/single.txt',
        Body: 'a single-part object',
        ContentType: 'text/plain',
        Metadata: { owner: 'ann', 'project-code': 'x1' },
        CacheControl: 'no-cache',
        ContentDisposition: 'attachment; filename="single.txt"',
      }),
    );
    await c.send(new PutObjectCommand({ Bucket: 'alpha', Key: 'docs/over.txt', Body: 'first write' }));
    await c.send(new PutObjectCommand({ Bucket: 'alpha', Key: 'docs/over.txt', Body: 'second write, the one to keep', Metadata: { round: '2' } }));
    await c.send(new PutObjectCommand({ Bucket: 'alpha', Key: 'plain', Body: randomBytes(3000) }));
    // Multipart with a gap (parts 1, 2, 4) and a part the completion leaves out (3).
    const mp = await c.send(new CreateMultipartUploadCommand({ Bucket: 'alpha', Key: 'media/big.bin', ContentType: 'video/mp4', Metadata: { camera: 'north' }, CacheControl: 'max-age=60' }));
    const etags: Record<number, string> = {};
    for (const n of [1, 2, 3, 4]) etags[n] = (await c.send(new UploadPartCommand({ Bucket: 'alpha', Key: 'media/big.bin', UploadId: mp.UploadId, PartNumber: n, Body: randomBytes(n === 4 ? 1000 : PART) }))).ETag ?? '';
    await c.send(
      new CompleteMultipartUploadCommand({ Bucket: 'alpha', Key: 'media/big.bin', UploadId: mp.UploadId, MultipartUpload: { Parts: [1, 2, 4].map((n) => ({ PartNumber: n, ETag: etags[n] })) } }),
    );
    await c.send(new CopyObjectCommand({ Bucket: 'beta', Key: 'copy.txt', CopySource: 'alpha/docs/single.txt' }));
    await c.send(new CopyObjectCommand({ Bucket: 'beta', Key: 'big-copy.bin', CopySource: 'alpha/media/big.bin' }));
    // Versions: a null version written before versioning was enabled, then two versions with ids, one multipart.
    await c.send(new CreateBucketCommand({ Bucket: 'vers' }));
    await c.send(new PutObjectCommand({ Bucket: 'vers', Key: 'doc', Body: 'v0, the null version', Metadata: { v: '0' } }));
    await c.send(new PutBucketVersioningCommand({ Bucket: 'vers', VersioningConfiguration: { Status: 'Enabled' } }));
    await c.send(new PutObjectCommand({ Bucket: 'vers', Key: 'doc', Body: 'v1', Metadata: { v: '1' } }));
    await c.send(new PutObjectCommand({ Bucket: 'vers', Key: 'doc', Body: 'v2, the latest', ContentType: 'text/plain' }));
    const vmp = await c.send(new CreateMultipartUploadCommand({ Bucket: 'vers', Key: 'doc' }));
    const vparts = [randomBytes(PART), randomBytes(10)];
    const vetags: string[] = [];
    for (const [i, body] of vparts.entries()) vetags.push((await c.send(new UploadPartCommand({ Bucket: 'vers', Key: 'doc', UploadId: vmp.UploadId, PartNumber: i + 1, Body: body }))).ETag ?? '');
    await c.send(new CompleteMultipartUploadCommand({ Bucket: 'vers', Key: 'doc', UploadId: vmp.UploadId, MultipartUpload: { Parts: vetags.map((ETag, i) => ({ PartNumber: i + 1, ETag })) } }));
    await c.send(new PutObjectCommand({ Bucket: 'vers', Key: 'other', Body: 'one version only' }));
    // Delete markers (record-only blobs): one over every version of doc, one between two versions of other.
    await c.send(new DeleteObjectCommand({ Bucket: 'vers', Key: 'doc' }));
    await c.send(new DeleteObjectCommand({ Bucket: 'vers', Key: 'other' }));
    await c.send(new PutObjectCommand({ Bucket: 'vers', Key: 'other', Body: 'written again after its marker' }));
    // A null marker (written while Suspended) over a version with an id; versioning Enabled again, as a rebuild brings it back.
    await c.send(new PutObjectCommand({ Bucket: 'vers', Key: 'nulled', Body: 'under a null marker' }));
    await c.send(new PutBucketVersioningCommand({ Bucket: 'vers', VersioningConfiguration: { Status: 'Suspended' } }));
    await c.send(new DeleteObjectCommand({ Bucket: 'vers', Key: 'nulled' }));
    await c.send(new PutBucketVersioningCommand({ Bucket: 'vers', VersioningConfiguration: { Status: 'Enabled' } }));
    // An upload never completed: its part is reported, not restored.
    const open = await c.send(new CreateMultipartUploadCommand({ Bucket: 'beta', Key: 'never-finished' }));
    await c.send(new UploadPartCommand({ Bucket: 'beta', Key: 'never-finished', UploadId: open.UploadId, PartNumber: 1, Body: randomBytes(100) }));
  } finally {
    c.destroy();
  }
}

/** Each blob's record, opened as recovery opens it (with the vault), to pick the blobs to tamper with. */
async function records(raw: { blobs: BlobStore; vault: KeyVault }): Promise<Array<SealedMetadata & { blobId: string }>> {
  const out: Array<SealedMetadata & { blobId: string }> = [];
  let after: string | undefined;
  do {
    const page = await raw.blobs.list(after, 1000);
    for (const blobId of page.blobIds) {
      try {
        out.push({ ...(await readBlobRecord(raw.blobs, raw.vault, blobId)), blobId });
      } catch {
        // under the disabled CMK: not one of the blobs this suite alters
      }
    }
    after = page.next;
  } while (after !== undefined);
  return out;
}

async function bytesOf(stream: Readable): Promise<Buffer> {
  const pieces: Buffer[] = [];
  for await (const p of stream) pieces.push(p as Buffer);
  return Buffer.concat(pieces);
}

async function flipByte(blobs: BlobStore, blobId: string, fromEnd: number): Promise<void> {
  const bytes = await bytesOf(await blobs.get(blobId));
  const { metadata } = await blobs.head(blobId);
  const at = bytes.length - fromEnd;
  bytes.writeUInt8(bytes.readUInt8(at) ^ 0x01, at);
  await blobs.put(blobId, Readable.from([bytes]), metadata);
}

function notRestored(out: string): string[] {
  return out.split('\n').filter((l) => l.startsWith('not restored')).sort();
}

export interface RecoveryOptions {
  /** Why the whole suite cannot run here (no moto_server), said in its title. */
  readonly skip?: string;
  /** Why a disabled CMK cannot be shown here (moto's KMS does not enforce key states), said in the test's title. */
  readonly noKeyStates?: string;
}

export function describeRecovery(name: string, harness: () => Promise<RecoveryHarness>, options: RecoveryOptions = {}): void {
  const { skip, noKeyStates } = options;
  const d = skip === undefined ? describe : describe.skip;
  d(skip === undefined ? name : `${name} — SKIPPED: ${skip}`, () => {
    let h: RecoveryHarness;
    let original: Record<string, Seen[]>;
    beforeAll(async () => {
      h = await harness();
    });
    afterAll(async () => {
      await h?.cleanup();
    });

    it('rebuilds a lost index from the blobs: stopped between batches, resumed, and the store reads as before', async () => {
      let r = await h.start();
      await fill(r);
      original = await snapshot(r);
      expect(Object.keys(original).sort()).toEqual(['alpha', 'beta', 'vers', 'vers (markers)', 'vers (versions)']);
      const ids = (list: Seen[] | undefined) => list?.map((v) => v.key.replace(/ [0-9a-f]{28}/, ' <id>'));
      expect(ids(original['vers (versions)'])).toEqual(['doc <id>', 'doc <id>', 'doc <id>', 'doc null', 'nulled <id>', 'other <id> latest', 'other <id>']);
      expect(ids(original['vers (markers)'])).toEqual(['doc <id> latest marker', 'nulled null latest marker', 'other <id> marker']);
      expect(original['vers (markers)']?.[0]?.metadata).toEqual({ get: 'NoSuchKey 404 delete-marker=true' });
      expect(original['vers']?.map((o) => o.key)).toEqual(['other']);
      expect(original['alpha']?.map((o) => o.key)).toEqual(['docs/over.txt', 'docs/single.txt', 'media/big.bin', 'plain']);
      // A live index is refused: a rebuild never mixes blobs into an index in use.
      const refused = await cli(r, 'recover', '--rebuild-index');
      expect(refused.code).toBe(1);
      expect(refused.err).toContain('This index already holds buckets');
      await h.stop();
      await h.emptyIndex();
      r = await h.start();
      expect(await snapshot(r)).toEqual({});

      // Killed between batches: the second run resumes from the checkpoint and finishes.
      const stopped = await cli(r, 'recover', '--rebuild-index', '--batch', '3', '--max-batches', '2');
      expect(stopped.code).toBe(130);
      expect(stopped.out.split('\n').filter((l) => l.startsWith('scan:'))).toHaveLength(2);
      expect(stopped.err).toContain('run `sealstore recover --rebuild-index` again to resume');
      const resumed: CliResult = await cli(r, 'recover', '--rebuild-index', '--batch', '3');
      expect(resumed.code).toBe(0);
      expect(resumed.out).toMatch(/^done: \d+ blob\(s\) scanned, 13 object\(s\) restored \(3 multipart\); not restored: unfinished-upload 1$/m);
      expect(notRestored(resumed.out)).toEqual([expect.stringMatching(/^not restored \(unfinished-upload\): blob \w+ in beta\/never-finished: part 1 of multipart upload/)]);
      expectSameStore(await snapshot(r), original);

      // The rebuilt index is a working index: writes, and a second recover answers the finished run.
      const c = s3(r);
      await c.send(new PutObjectCommand({ Bucket: 'alpha', Key: 'after', Body: 'new' }));
      c.destroy();
      // Only the admin role may run it (an access key made after the rebuild: they are not in the blobs).
      const made = await cli(r, 'access-keys', 'create', '--bucket', '*', '--role', 'write', '--json');
      const writer = (JSON.parse(made.out) as { accessKey: { accessKeyId: string; secretAccessKey: string } }).accessKey;
      const denied = await cli({ url: r.url, creds: { accessKeyId: writer.accessKeyId, secretAccessKey: writer.secretAccessKey } }, 'recover', '--rebuild-index');
      expect(denied.code).toBe(1);
      expect(denied.err).toContain('AccessDenied');
      const again = await cli(r, 'recover', '--rebuild-index', '--json');
      expect(again.code).toBe(0);
      expect(JSON.parse(again.out)).toMatchObject({ progress: { done: true, objects: 13, versions: 6 }, notRestored: [expect.objectContaining({ reason: 'unfinished-upload' })] });
      await h.stop();
    });

    const disabledCase = noKeyStates === undefined ? 'and a disabled CMK’s objects' : `(the disabled-CMK case SKIPPED: ${noKeyStates})`;
    it(`reports 3 tampered blobs (a record trailer, a wrapped key, a manifest) ${disabledCase}, and restores the rest`, async () => {
      let r = await h.start();
      const c = s3(r);
      let keyUnavailable = 0;
      if (noKeyStates === undefined) {
        // Objects under a second CMK, then that CMK disabled: they cannot open, everything else must.
        expect((await cli(r, 'keys', 'create', '--alias', 'other')).code).toBe(0);
        await c.send(new CreateBucketCommand({ Bucket: 'gamma' }));
        for (const k of ['g1', 'g2']) await c.send(new PutObjectCommand({ Bucket: 'gamma', Key: k, Body: k, ServerSideEncryption: 'aws:kms', SSEKMSKeyId: 'alias/other' }));
        expect((await cli(r, 'keys', 'disable', 'other')).code).toBe(0);
        keyUnavailable = 2;
      }
      c.destroy();
      await h.stop();

      // An attacker with write access to the blob store alters three blobs.
      const raw = await h.raw();
      const all = await records(raw);
      const find = (kind: string, key: string) => {
        const found = all.find((m) => m.kind === kind && m.bucket === 'alpha' && m.key === key);
        if (!found) throw new Error(`no ${kind} blob for alpha/${key}`);
        return found;
      };
      const trailer = find('object', 'docs/single.txt').blobId;
      const wrapped = find('object', 'plain').blobId;
      const manifest = find('manifest', 'media/big.bin');
      await flipByte(raw.blobs, trailer, 10); // inside the record's ciphertext and tag
      const { metadata } = await raw.blobs.head(wrapped);
      const key = Buffer.from(metadata['sealstore-wrapped-key'] ?? '', 'base64');
      key.writeUInt8(key.readUInt8(key.length - 20) ^ 0x01, key.length - 20);
      await raw.blobs.replaceMetadata(wrapped, { ...metadata, 'sealstore-wrapped-key': key.toString('base64') });
      await flipByte(raw.blobs, manifest.blobId, manifest.blobSize - 80); // inside the part list's frame
      await raw.close();

      await h.emptyIndex();
      r = await h.start();
      const run = await cli(r, 'recover', '--rebuild-index', '--json');
      expect(run.code).toBe(0);
      const result = JSON.parse(run.out) as { progress: Record<string, unknown>; notRestored: Array<{ blobId: string; reason: string; bucket?: string; key?: string }> };
      const by = (reason: string) => result.notRestored.filter((e) => e.reason === reason);
      expect(by('tampered').map((e) => e.blobId).sort()).toEqual([trailer, wrapped, manifest.blobId].sort());
      expect(by('key-unavailable')).toHaveLength(keyUnavailable);
      for (const e of by('key-unavailable')) expect(e.bucket).toBe('gamma');
      // The manifest did not open, so its three parts are an upload no completed object names (with the open upload's).
      expect(by('unfinished-upload').map((e) => `${e.bucket}/${e.key}`).sort()).toEqual(['alpha/media/big.bin', 'alpha/media/big.bin', 'alpha/media/big.bin', 'beta/never-finished']);
      expect(result.progress).toMatchObject({ done: true, objects: 11, multipart: 2, versions: 6 });

      // Everything else reads as it did.
      const now = await snapshot(r);
      const keep = (list: Seen[] | undefined, keys: string[]) => (list ?? []).filter((o) => keys.includes(o.key));
      expect(Object.keys(now).sort()).toEqual(['alpha', 'beta', 'vers', 'vers (markers)', 'vers (versions)']);
      expect(now['alpha']?.map((o) => o.key)).toEqual(['after', 'docs/over.txt']);
      const { alpha: _a, ...rest } = original;
      const { alpha: _b, ...restNow } = now;
      expectSameStore({ ...restNow, alpha: keep(now['alpha'], ['docs/over.txt']) }, { ...rest, alpha: keep(original['alpha'], ['docs/over.txt']) });
      await h.stop();
    });
  });
}
