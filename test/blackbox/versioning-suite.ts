// The versioning black-box suite (issue 15): S3's versioning API over HTTP with the AWS SDK v3, raw signed requests
// (for the headers of delete markers) and the AWS CLI, against any backend. One server per file, many cases on it.
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetBucketVersioningCommand,
  GetObjectAttributesCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  UploadPartCopyCommand,
  type ListObjectVersionsCommandOutput,
  type S3Client,
} from '@aws-sdk/client-s3';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { errorCode, s3Path, signedRequest } from '../support/signed-fetch';
import { awsCliVersion, isolatedAwsCliEnv, missingReason, resolveTool } from '../support/tools';
import type { RunningServer } from '../../local/server';
import { expectS3Error, s3Client, type S3Target } from './s3-suite';

export interface VersioningTarget extends S3Target {
  readonly server: RunningServer;
}

const run = promisify(execFile);
const awsVersion = awsCliVersion();

/** One entry of a ListObjectVersions listing, as a comparable string: key, version id, latest or not, marker or not. */
type Entry = string;
function entriesOf(page: ListObjectVersionsCommandOutput): Entry[] {
  const all = [
    ...(page.Versions ?? []).map((v) => ({ key: v.Key ?? '', id: v.VersionId ?? '', latest: v.IsLatest === true, marker: false, at: v.LastModified })),
    ...(page.DeleteMarkers ?? []).map((m) => ({ key: m.Key ?? '', id: m.VersionId ?? '', latest: m.IsLatest === true, marker: true, at: m.LastModified })),
  ];
  // The SDK splits Version and DeleteMarker elements into two lists; the document order is key, then newest first,
  // which for one key is the order of the version ids (sort keys, newest first; 'null' placed by its time).
  return all.map((e) => `${e.key}|${e.id}|${e.latest ? 'latest' : 'old'}|${e.marker ? 'marker' : 'version'}`);
}

export function describeVersioningSuite(backend: string, setup: () => Promise<VersioningTarget>, unavailable?: string): void {
  if (unavailable) console.warn(`versioning suite on the ${backend} backend SKIPPED: ${unavailable}`);
  const describeOrSkip = unavailable ? describe.skip : describe;
  describeOrSkip(`S3 versioning over HTTP (${backend} backend)${unavailable ? ` — skipped: ${unavailable}` : ''}`, () => {
    let target: VersioningTarget;
    let s3: S3Client;
    let n = 0;
    const bucketName = () => `ver-${backend.replace(/[^a-z0-9]/g, '')}-${Date.now().toString(36)}-${n++}`;
    const versioned = async (status: 'Enabled' | 'Suspended' = 'Enabled'): Promise<string> => {
      const b = bucketName();
      await s3.send(new CreateBucketCommand({ Bucket: b }));
      await s3.send(new PutBucketVersioningCommand({ Bucket: b, VersioningConfiguration: { Status: status } }));
      return b;
    };
    const put = async (b: string, key: string, body: string): Promise<string> => {
      const out = await s3.send(new PutObjectCommand({ Bucket: b, Key: key, Body: body }));
      expect(out.VersionId).toBeDefined();
      return out.VersionId ?? '';
    };
    const text = async (b: string, key: string, versionId?: string, range?: string): Promise<string> => {
      const out = await s3.send(new GetObjectCommand({ Bucket: b, Key: key, VersionId: versionId, Range: range }));
      return (await out.Body?.transformToString()) ?? '';
    };
    const blobCount = async (): Promise<number> => {
      await target.server.service.settle();
      return (await target.rawBlobs()).length;
    };
    const raw = (method: string, b: string, key: string, query: Record<string, string> = {}) =>
      signedRequest(target.url, target.creds, { method, path: s3Path(b, key), query });
    const fullListing = async (b: string, extra: { Prefix?: string; Delimiter?: string } = {}) => s3.send(new ListObjectVersionsCommand({ Bucket: b, ...extra }));

    beforeAll(async () => {
      target = await setup();
      s3 = s3Client(target);
    }, 60_000);
    afterAll(async () => {
      s3?.destroy();
      await target?.close();
    });

    it('sets and reads the versioning state: none at first, Enabled, Suspended; MFA delete refused', async () => {
      const b = bucketName();
      await s3.send(new CreateBucketCommand({ Bucket: b }));
      expect((await s3.send(new GetBucketVersioningCommand({ Bucket: b }))).Status).toBeUndefined();
      await s3.send(new PutBucketVersioningCommand({ Bucket: b, VersioningConfiguration: { Status: 'Enabled' } }));
      expect((await s3.send(new GetBucketVersioningCommand({ Bucket: b }))).Status).toBe('Enabled');
      await s3.send(new PutBucketVersioningCommand({ Bucket: b, VersioningConfiguration: { Status: 'Suspended' } }));
      expect((await s3.send(new GetBucketVersioningCommand({ Bucket: b }))).Status).toBe('Suspended');
      await expectS3Error(s3.send(new PutBucketVersioningCommand({ Bucket: b, VersioningConfiguration: { Status: 'Enabled', MFADelete: 'Enabled' } })), 'NotImplemented', 501);
      // There is no going back to "never versioned": a configuration without a valid Status is refused.
      const bad = await signedRequest(target.url, target.creds, {
        method: 'PUT',
        path: s3Path(b),
        query: { versioning: '' },
        body: Buffer.from('<VersioningConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Status>Off</Status></VersioningConfiguration>'),
      });
      expect([bad.status, errorCode(bad)]).toEqual([400, 'MalformedXML']);
      expect((await s3.send(new GetBucketVersioningCommand({ Bucket: b }))).Status).toBe('Suspended');
    });

    it('keeps every version of an overwritten key, each readable by id, with ranges and conditions judged on the version served', async () => {
      const b = await versioned();
      const ids = [await put(b, 'doc', 'one'), await put(b, 'doc', 'two!'), await put(b, 'doc', 'three')];
      expect(new Set(ids).size).toBe(3);
      expect(await text(b, 'doc')).toBe('three');
      expect([await text(b, 'doc', ids[0]), await text(b, 'doc', ids[1]), await text(b, 'doc', ids[2])]).toEqual(['one', 'two!', 'three']);
      const head = await s3.send(new HeadObjectCommand({ Bucket: b, Key: 'doc', VersionId: ids[1] }));
      expect([head.VersionId, head.ContentLength]).toEqual([ids[1], 4]);
      expect((await s3.send(new GetObjectCommand({ Bucket: b, Key: 'doc' }))).VersionId).toBe(ids[2]);
      expect(await text(b, 'doc', ids[1], 'bytes=1-2')).toBe('wo');
      const old = await s3.send(new HeadObjectCommand({ Bucket: b, Key: 'doc', VersionId: ids[0] }));
      // If-Match names the old version's ETag: it holds for that version although the latest differs.
      expect(await (await s3.send(new GetObjectCommand({ Bucket: b, Key: 'doc', VersionId: ids[0], IfMatch: old.ETag }))).Body?.transformToString()).toBe('one');
      await expectS3Error(s3.send(new GetObjectCommand({ Bucket: b, Key: 'doc', VersionId: ids[1], IfMatch: old.ETag })), 'PreconditionFailed', 412);
      await expectS3Error(s3.send(new GetObjectCommand({ Bucket: b, Key: 'doc', VersionId: '0'.repeat(28) })), 'NoSuchVersion', 404);
      const attributes = await s3.send(new GetObjectAttributesCommand({ Bucket: b, Key: 'doc', VersionId: ids[1], ObjectAttributes: ['ObjectSize', 'ETag'] }));
      expect([attributes.ObjectSize, attributes.VersionId]).toEqual([4, ids[1]]);
      const listed = await fullListing(b);
      expect(entriesOf(listed)).toEqual([`doc|${ids[2]}|latest|version`, `doc|${ids[1]}|old|version`, `doc|${ids[0]}|old|version`]);
      expect(listed.Versions?.map((v) => v.Size)).toEqual([5, 4, 3]);
    });

    it('writes a delete marker for a DELETE without version id, hides the key, and brings it back when the marker is removed', async () => {
      const b = await versioned();
      const v1 = await put(b, 'gone', 'kept bytes');
      await put(b, 'other', 'x');
      const del = await s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'gone' }));
      expect(del.DeleteMarker).toBe(true);
      expect(del.VersionId).toBeDefined();
      expect(del.VersionId).not.toBe(v1);
      const get = await raw('GET', b, 'gone');
      expect([get.status, errorCode(get), get.headers['x-amz-delete-marker'], get.headers['x-amz-version-id']]).toEqual([404, 'NoSuchKey', 'true', del.VersionId]);
      const head = await raw('HEAD', b, 'gone');
      expect([head.status, head.headers['x-amz-delete-marker']]).toEqual([404, 'true']);
      const marker = await raw('GET', b, 'gone', { versionId: del.VersionId ?? '' });
      expect([marker.status, errorCode(marker), marker.headers['x-amz-delete-marker']]).toEqual([405, 'MethodNotAllowed', 'true']);
      expect(await text(b, 'gone', v1)).toBe('kept bytes');
      expect((await s3.send(new ListObjectsV2Command({ Bucket: b }))).Contents?.map((c) => c.Key)).toEqual(['other']);
      await s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'other' }));
      // Only markers and noncurrent versions are left: not empty, as S3 says.
      expect((await s3.send(new ListObjectsV2Command({ Bucket: b }))).KeyCount).toBe(0);
      await expectS3Error(s3.send(new DeleteBucketCommand({ Bucket: b })), 'BucketNotEmpty', 409);
      const removed = await raw('DELETE', b, 'gone', { versionId: del.VersionId ?? '' });
      expect([removed.status, removed.headers['x-amz-delete-marker'], removed.headers['x-amz-version-id']]).toEqual([204, 'true', del.VersionId]);
      expect(await text(b, 'gone')).toBe('kept bytes');
    });

    it('permanently deleting a version needs an admin grant: a delete-only key may write delete markers but not shred versions', async () => {
      const b = await versioned();
      const made = await signedRequest(target.url, target.creds, {
        method: 'POST',
        path: '/_sealstore/access-keys',
        headers: { 'content-type': 'application/json' },
        body: Buffer.from(JSON.stringify({ grants: [{ bucket: b, role: 'delete' }] })),
      });
      expect(made.status).toBe(200);
      const { accessKey } = JSON.parse(made.body.toString()) as { accessKey: { accessKeyId: string; secretAccessKey: string } };
      const deleter = { accessKeyId: accessKey.accessKeyId, secretAccessKey: accessKey.secretAccessKey };
      const v1 = await put(b, 'k', 'one');
      await put(b, 'k', 'two');
      const refused = await signedRequest(target.url, deleter, { method: 'DELETE', path: s3Path(b, 'k'), query: { versionId: v1 } });
      expect([refused.status, errorCode(refused)]).toEqual([403, 'AccessDenied']);
      expect(refused.body.toString()).toMatch(/admin/);
      expect(await text(b, 'k', v1)).toBe('one');
      const asDeleter = s3Client({ url: target.url, creds: deleter });
      try {
        const batch = await asDeleter.send(new DeleteObjectsCommand({ Bucket: b, Delete: { Objects: [{ Key: 'k', VersionId: v1 }, { Key: 'k' }] } }));
        expect(batch.Errors?.map((e) => [e.Key, e.Code])).toEqual([['k', 'AccessDenied']]);
        expect(batch.Deleted?.map((d) => [d.Key, d.DeleteMarker])).toEqual([['k', true]]);
      } finally {
        asDeleter.destroy();
      }
      expect(await text(b, 'k', v1)).toBe('one');
      // A DELETE without version id only writes a marker: the delete role's, as S3's s3:DeleteObject. In a suspended
      // bucket it replaces the null version, still with the delete role (S3 asks s3:DeleteObject for it too).
      await s3.send(new PutBucketVersioningCommand({ Bucket: b, VersioningConfiguration: { Status: 'Suspended' } }));
      await put(b, 'n', 'null one');
      const plain = await signedRequest(target.url, deleter, { method: 'DELETE', path: s3Path(b, 'n') });
      expect([plain.status, plain.headers['x-amz-delete-marker'], plain.headers['x-amz-version-id']]).toEqual([204, 'true', 'null']);
      // With an admin grant (the root key here) the version goes.
      expect((await raw('DELETE', b, 'k', { versionId: v1 })).status).toBe(204);
      await expectS3Error(s3.send(new GetObjectCommand({ Bucket: b, Key: 'k', VersionId: v1 })), 'NoSuchVersion', 404);
    });

    it('refuses versionId where it is not honoured (400 InvalidArgument), and the object ACL calls honour it', async () => {
      const b = await versioned();
      const v1 = await put(b, 'k', 'one');
      const absent = 'f'.repeat(28);
      const overwrite = await signedRequest(target.url, target.creds, { method: 'PUT', path: s3Path(b, 'k'), query: { versionId: v1 }, body: Buffer.from('clobber') });
      expect([overwrite.status, errorCode(overwrite)]).toEqual([400, 'InvalidArgument']);
      expect(overwrite.body.toString()).toMatch(/version/i);
      const create = await raw('POST', b, 'k', { uploads: '', versionId: v1 });
      expect([create.status, errorCode(create)]).toEqual([400, 'InvalidArgument']);
      expect(await text(b, 'k')).toBe('one');
      expect((await fullListing(b)).Versions).toHaveLength(1);
      const acl = await raw('GET', b, 'k', { acl: '', versionId: v1 });
      expect(acl.status).toBe(200);
      const missingAcl = await raw('GET', b, 'k', { acl: '', versionId: absent });
      expect([missingAcl.status, errorCode(missingAcl)]).toEqual([404, 'NoSuchVersion']);
      const putAcl = await signedRequest(target.url, target.creds, { method: 'PUT', path: s3Path(b, 'k'), query: { acl: '', versionId: absent }, headers: { 'x-amz-acl': 'private' } });
      expect([putAcl.status, errorCode(putAcl)]).toEqual([404, 'NoSuchVersion']);
    });

    it('derives common prefixes from current objects only: a folder whose keys are all delete-marked is not listed', async () => {
      const b = await versioned();
      for (const key of ['dead/a', 'dead/b', 'mixed/a', 'mixed/b', 'live/a']) await put(b, key, 'x');
      for (const key of ['dead/a', 'dead/b', 'mixed/a']) await s3.send(new DeleteObjectCommand({ Bucket: b, Key: key }));
      const listed = await s3.send(new ListObjectsV2Command({ Bucket: b, Delimiter: '/' }));
      expect(listed.CommonPrefixes?.map((p) => p.Prefix)).toEqual(['live/', 'mixed/']);
      expect(listed.KeyCount).toBe(2);
      // Paged one entry at a time, the marked folder neither shows up nor ends a page.
      const paged: string[] = [];
      let token: string | undefined;
      do {
        const page = await s3.send(new ListObjectsV2Command({ Bucket: b, Delimiter: '/', MaxKeys: 1, ...(token ? { ContinuationToken: token } : {}) }));
        paged.push(...(page.CommonPrefixes ?? []).map((p) => p.Prefix ?? ''));
        token = page.NextContinuationToken;
      } while (token);
      expect(paged).toEqual(['live/', 'mixed/']);
    });

    it('shreds one version on DELETE ?versionId: its blob is gone, the others stay readable, and the next newest becomes latest', async () => {
      const b = await versioned();
      const ids = [await put(b, 's', 'first'), await put(b, 's', 'second'), await put(b, 's', 'third')];
      const before = await blobCount();
      const out = await s3.send(new DeleteObjectCommand({ Bucket: b, Key: 's', VersionId: ids[1] }));
      expect([out.VersionId, out.DeleteMarker]).toEqual([ids[1], undefined]);
      expect(await blobCount()).toBe(before - 1);
      await expectS3Error(s3.send(new GetObjectCommand({ Bucket: b, Key: 's', VersionId: ids[1] })), 'NoSuchVersion', 404);
      expect([await text(b, 's', ids[0]), await text(b, 's', ids[2])]).toEqual(['first', 'third']);
      // Shredding the latest promotes the newest one left.
      await s3.send(new DeleteObjectCommand({ Bucket: b, Key: 's', VersionId: ids[2] }));
      expect(await blobCount()).toBe(before - 2);
      const now = await s3.send(new GetObjectCommand({ Bucket: b, Key: 's' }));
      expect([now.VersionId, await now.Body?.transformToString()]).toEqual([ids[0], 'first']);
      expect(entriesOf(await fullListing(b))).toEqual([`s|${ids[0]}|latest|version`]);
      await s3.send(new DeleteObjectCommand({ Bucket: b, Key: 's', VersionId: ids[0] }));
      expect(await blobCount()).toBe(before - 3);
      expect(entriesOf(await fullListing(b))).toEqual([]);
      await s3.send(new DeleteBucketCommand({ Bucket: b }));
    });

    it('pages ListObjectVersions with key-marker and version-id-marker: every page size concatenates to the full listing', async () => {
      const b = await versioned();
      for (const key of ['a/1', 'a/2', 'b']) {
        await put(b, key, `${key}-v1`);
        await put(b, key, `${key}-v2`);
        // A marker in the middle of the key's versions.
        await s3.send(new DeleteObjectCommand({ Bucket: b, Key: key }));
        await put(b, key, `${key}-v3`);
      }
      const full = entriesOf(await fullListing(b));
      expect(full).toHaveLength(12);
      expect(full.filter((e) => e.endsWith('|marker'))).toHaveLength(3);
      expect(full.filter((e) => e.includes('|latest|'))).toHaveLength(3);
      for (const maxKeys of [1, 2, 3, 5]) {
        const seen: Entry[] = [];
        let keyMarker: string | undefined;
        let versionIdMarker: string | undefined;
        for (let pages = 0; pages < 20; pages++) {
          const page = await s3.send(new ListObjectVersionsCommand({ Bucket: b, MaxKeys: maxKeys, KeyMarker: keyMarker, VersionIdMarker: versionIdMarker }));
          const entries = entriesOf(page);
          expect(entries.length).toBeLessThanOrEqual(maxKeys);
          seen.push(...entries);
          if (!page.IsTruncated) break;
          keyMarker = page.NextKeyMarker;
          versionIdMarker = page.NextVersionIdMarker;
        }
        // Within a page the SDK separates versions from markers; compare as sets per key, order across pages by key.
        expect([...seen].sort()).toEqual([...full].sort());
        expect(seen).toHaveLength(full.length);
      }
      await expectS3Error(s3.send(new ListObjectVersionsCommand({ Bucket: b, VersionIdMarker: 'null' })), 'InvalidArgument', 400);
      await expectS3Error(s3.send(new GetObjectCommand({ Bucket: b, Key: 'b', VersionId: 'not-a-version' })), 'InvalidArgument', 400);
      const delimited = await fullListing(b, { Delimiter: '/' });
      expect(delimited.CommonPrefixes?.map((p) => p.Prefix)).toEqual(['a/']);
      expect(entriesOf(delimited).every((e) => e.startsWith('b|'))).toBe(true);
      const prefixed = await fullListing(b, { Prefix: 'a/2' });
      expect(entriesOf(prefixed)).toHaveLength(4);
      // encoding-type=url encodes keys and markers as ListObjects does.
      await put(b, 'c d/é', 'encoded');
      const encoded = await signedRequest(target.url, target.creds, { method: 'GET', path: s3Path(b), query: { versions: '', 'encoding-type': 'url', prefix: 'c d/', 'max-keys': '1' } });
      const xmlText = encoded.body.toString('utf8');
      expect(encoded.status).toBe(200);
      expect(xmlText).toContain('<Key>c+d/%C3%A9</Key>');
      expect(xmlText).toContain('<EncodingType>url</EncodingType>');
      expect(xmlText).toContain('<IsLatest>true</IsLatest>');
    });

    it('keeps one null version in a suspended bucket; objects from before versioning are the null version', async () => {
      const b = bucketName();
      await s3.send(new CreateBucketCommand({ Bucket: b }));
      await s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'before versioning' }));
      await s3.send(new PutBucketVersioningCommand({ Bucket: b, VersioningConfiguration: { Status: 'Enabled' } }));
      const v1 = await put(b, 'k', 'enabled');
      expect(await text(b, 'k', 'null')).toBe('before versioning');
      await s3.send(new PutBucketVersioningCommand({ Bucket: b, VersioningConfiguration: { Status: 'Suspended' } }));
      const before = await blobCount();
      expect(await put(b, 'k', 'suspended 1')).toBe('null');
      // The new null version replaced the old one (shredded), and the enabled-time version is kept.
      expect(await blobCount()).toBe(before);
      expect(await put(b, 'k', 'suspended 2')).toBe('null');
      expect(await blobCount()).toBe(before);
      expect(await text(b, 'k')).toBe('suspended 2');
      expect(await text(b, 'k', v1)).toBe('enabled');
      expect(entriesOf(await fullListing(b))).toEqual(['k|null|latest|version', `k|${v1}|old|version`]);
      const del = await s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'k' }));
      expect([del.DeleteMarker, del.VersionId]).toEqual([true, 'null']);
      // The null version it replaced is shredded; the null marker is a record-only blob of its own (so a rebuild knows it).
      expect(await blobCount()).toBe(before);
      // (The SDK lists Version elements before DeleteMarker elements.)
      expect(entriesOf(await fullListing(b))).toEqual([`k|${v1}|old|version`, 'k|null|latest|marker']);
      expect(await text(b, 'k', v1)).toBe('enabled');
      const nullMarker = await raw('GET', b, 'k', { versionId: 'null' });
      expect([nullMarker.status, nullMarker.headers['x-amz-delete-marker'], nullMarker.headers['x-amz-version-id']]).toEqual([405, 'true', 'null']);
      // Removing the null marker by its id shreds its blob and brings the enabled-time version back as the latest.
      await s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'k', VersionId: 'null' }));
      expect(await blobCount()).toBe(before - 1);
      expect(entriesOf(await fullListing(b))).toEqual([`k|${v1}|latest|version`]);
      expect(await text(b, 'k')).toBe('enabled');
      // A null marker replaced by a null write: its blob goes with it, as a replaced null version's does.
      await s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'k' }));
      expect(await blobCount()).toBe(before);
      expect(await put(b, 'k', 'after the marker')).toBe('null');
      expect(await blobCount()).toBe(before);
      expect(entriesOf(await fullListing(b))).toEqual(['k|null|latest|version', `k|${v1}|old|version`]);
    });

    it('copies from a named source version, completes multipart uploads as new versions, and deletes versions in batches', async () => {
      const b = await versioned();
      const v1 = await put(b, 'src', 'source one');
      await put(b, 'src', 'source two');
      const copy = await s3.send(new CopyObjectCommand({ Bucket: b, Key: 'dst', CopySource: `${b}/src?versionId=${v1}` }));
      expect(copy.CopySourceVersionId).toBe(v1);
      expect(copy.VersionId).toBeDefined();
      expect(await text(b, 'dst', copy.VersionId)).toBe('source one');
      // Restoring a previous version: copied onto its own key, it becomes the latest (a new version).
      const restored = await s3.send(new CopyObjectCommand({ Bucket: b, Key: 'src', CopySource: `${b}/src?versionId=${v1}` }));
      expect(await text(b, 'src')).toBe('source one');
      expect(restored.VersionId).not.toBe(v1);
      const upload = await s3.send(new CreateMultipartUploadCommand({ Bucket: b, Key: 'dst' }));
      const part = await s3.send(new UploadPartCopyCommand({ Bucket: b, Key: 'dst', UploadId: upload.UploadId, PartNumber: 1, CopySource: `${b}/src?versionId=${v1}` }));
      expect(part.CopySourceVersionId).toBe(v1);
      const complete = () =>
        s3.send(new CompleteMultipartUploadCommand({ Bucket: b, Key: 'dst', UploadId: upload.UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.CopyPartResult?.ETag }] } }));
      const done = await complete();
      expect(done.VersionId).toBeDefined();
      // A retried completion (its answer lost) gets the same answer, version id included.
      expect((await complete()).VersionId).toBe(done.VersionId);
      expect(done.VersionId).not.toBe(copy.VersionId);
      expect(await text(b, 'dst')).toBe('source one');
      expect(await text(b, 'dst', copy.VersionId)).toBe('source one');
      const batch = await s3.send(
        new DeleteObjectsCommand({ Bucket: b, Delete: { Objects: [{ Key: 'dst', VersionId: copy.VersionId }, { Key: 'src' }, { Key: 'dst', VersionId: '0'.repeat(28) }] } }),
      );
      const byKey = (batch.Deleted ?? []).map((d) => [d.Key, d.VersionId, d.DeleteMarker === true, d.DeleteMarkerVersionId !== undefined]);
      expect(byKey).toEqual([
        ['dst', copy.VersionId, false, false],
        ['src', undefined, true, true],
        ['dst', '0'.repeat(28), false, false],
      ]);
      await expectS3Error(s3.send(new GetObjectCommand({ Bucket: b, Key: 'dst', VersionId: copy.VersionId })), 'NoSuchVersion', 404);
      await expectS3Error(s3.send(new GetObjectCommand({ Bucket: b, Key: 'src' })), 'NoSuchKey', 404);
      expect(await text(b, 'src', v1)).toBe('source one');
    });

    it('reads every old version after a rewrap onto a new CMK (rollover and the rotation job)', async () => {
      const b = await versioned();
      const ids = [await put(b, 'r', 'old one'), await put(b, 'r', 'old two'), await put(b, 'r', 'current')];
      const lc = target.server.lifecycle;
      const created = await lc.create({ alias: `ver-roll-${n++}` });
      const { to } = await lc.rollover(created.keyId);
      const report = await lc.runJob();
      expect(report.errors).toBe(0);
      for (const [i, body] of ['old one', 'old two', 'current'].entries()) {
        const out = await s3.send(new GetObjectCommand({ Bucket: b, Key: 'r', VersionId: ids[i] }));
        expect(await out.Body?.transformToString()).toBe(body);
        // Every version moved: noncurrent ones too, not just the latest.
        expect(out.SSEKMSKeyId).toBe(to.keyId);
      }
    });

    (awsVersion ? it : it.skip)(`drives versioning with the AWS CLI${awsVersion ? '' : ` — skipped: ${missingReason('aws --version', 'the AWS CLI')}`}`, async () => {
      const work = await mkdtemp(join(tmpdir(), 'sealstore-ver-cli-'));
      try {
        const env = { ...(await isolatedAwsCliEnv(work, target.creds)), AWS_MAX_ATTEMPTS: '1' };
        const aws = async (...args: string[]): Promise<string> => {
          try {
            return (await run(resolveTool('aws'), [...args, '--endpoint-url', target.url, '--output', 'json'], { env, cwd: work })).stdout;
          } catch (e) {
            const err = e as { stderr?: string; message: string };
            throw new Error(`aws ${args.join(' ')} failed: ${err.stderr ?? err.message}`);
          }
        };
        const b = bucketName();
        await aws('s3api', 'create-bucket', '--bucket', b);
        await aws('s3api', 'put-bucket-versioning', '--bucket', b, '--versioning-configuration', 'Status=Enabled');
        expect(JSON.parse(await aws('s3api', 'get-bucket-versioning', '--bucket', b))).toEqual({ Status: 'Enabled' });
        const first = await put(b, 'cli', 'first by sdk');
        await put(b, 'cli', 'second by sdk');
        const listed = JSON.parse(await aws('s3api', 'list-object-versions', '--bucket', b)) as { Versions: Array<{ VersionId: string; IsLatest: boolean }> };
        expect(listed.Versions.map((v) => [v.VersionId === first, v.IsLatest])).toEqual([
          [false, true],
          [true, false],
        ]);
        const out = join(work, 'out');
        const got = JSON.parse(await aws('s3api', 'get-object', '--bucket', b, '--key', 'cli', '--version-id', first, out)) as { VersionId: string };
        expect(got.VersionId).toBe(first);
        expect(await readFile(out, 'utf8')).toBe('first by sdk');
      } finally {
        await rm(work, { recursive: true, force: true });
      }
    }, 60_000);
  });
}
