// The threat model, end to end: an attacker who can write the blob store and the index, but cannot use the
// CMK, cannot make a GET return bytes that were never PUT under that name. Every forgery below must end in an
// error (a status before the first byte, or an aborted transfer), never in the other object's bytes.
//
// Here the attacker is stronger than the threat model's: the forged rows go through the store's own row
// authentication (as if the index key had leaked, say with the rotation role's one Decrypt right), so what is
// tested is the layer beneath it: the name tag, the object MAC and KMS's encryption context, which need the data
// key. Row authentication itself is proven in tamper-index-suite.ts.
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openEmbeddedBackend, type EmbeddedBackend } from '../../lambdas/adapters/embedded';
import { readBlobRecord } from '../../lambdas/core/blob-record';
import type { SealedMetadata } from '../../lambdas/core/format';
import { objectFromItem, objectItem, objectsPk, type ObjectRecord } from '../../lambdas/core/records';
import { startServer, type RunningServer } from '../../local/server';
import { s3Client } from './s3-suite';
import { testCreds } from '../support/embedded-target';

describe('tampering with data at rest', () => {
  let dir: string;
  let backend: EmbeddedBackend;
  let server: RunningServer;
  let s3: S3Client;
  const a = randomBytes(200_000);
  const b = randomBytes(200_000);

  const record = async (key: string): Promise<ObjectRecord> => objectFromItem((await backend.index.get(objectsPk('vault'), key))!);
  const write = (r: ObjectRecord) => server.store.index.put(objectItem(r));
  /** The GET either fails or yields bytes; it must never yield anything but what was PUT under `key`. */
  const read = async (key: string): Promise<{ ok: true; bytes: Buffer } | { ok: false; status?: number }> => {
    try {
      const got = await s3.send(new GetObjectCommand({ Bucket: 'vault', Key: key }));
      return { ok: true, bytes: Buffer.from(await got.Body!.transformToByteArray()) };
    } catch (e) {
      return { ok: false, status: (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode };
    }
  };

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sealstore-tamper-'));
    backend = await openEmbeddedBackend(dir);
    const creds = testCreds();
    server = await startServer({ backend, credentials: creds });
    s3 = s3Client({ url: server.url, creds });
    await s3.send(new CreateBucketCommand({ Bucket: 'vault' }));
    await s3.send(new PutObjectCommand({ Bucket: 'vault', Key: 'a', Body: a }));
    await s3.send(new PutObjectCommand({ Bucket: 'vault', Key: 'b', Body: b }));
  });
  afterEach(async () => {
    s3.destroy();
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('refuses B’s whole index entry copied under A’s name (the name binding)', async () => {
    await write({ ...(await record('b')), key: 'a' });
    const got = await read('a');
    expect(got).toEqual({ ok: false, status: 500 });
  });

  it('refuses A’s entry pointing at B’s blob (object id and MAC bind the blob)', async () => {
    const ra = await record('a');
    const rb = await record('b');
    await write({ ...ra, parts: ra.parts.map((p, i) => ({ ...p, blobId: rb.parts[i]!.blobId })) });
    const got = await read('a');
    // Found at the first frame, once the response has begun: the transfer is cut, never completed.
    expect(got.ok).toBe(false);
  });

  it('refuses A’s entry carrying B’s wrapped key (the KMS context binds it to A’s object id)', async () => {
    const ra = await record('a');
    const rb = await record('b');
    await write({ ...ra, wrappedKey: rb.wrappedKey });
    const got = await read('a');
    // A server error: the stored record was altered (KMS's InvalidCiphertext is never passed on as a 400).
    expect(got).toEqual({ ok: false, status: 500 });
  });

  it('refuses a forged size or part list (object MAC)', async () => {
    const ra = await record('a');
    await write({ ...ra, size: ra.size - 100, parts: ra.parts.map((p) => ({ ...p, plaintextSize: p.plaintextSize - 100 })) });
    expect(await read('a')).toEqual({ ok: false, status: 500 });
  });

  it('never releases bytes from a blob with one byte flipped mid-object', async () => {
    const ra = await record('a');
    const blobsDir = join(dir, 'blobs');
    const files: string[] = [];
    const walk = async (d: string): Promise<void> => {
      for (const e of await readdir(d, { withFileTypes: true })) {
        if (e.isDirectory()) await walk(join(d, e.name));
        else if (e.name.endsWith('.blob')) files.push(join(d, e.name));
      }
    };
    await walk(blobsDir);
    // Flip a byte in one blob file's sealed body (the header before it holds metadata); A's and B's are the same size.
    let flipped = false;
    for (const file of files) {
      const bytes = await readFile(file);
      if (bytes.length < ra.parts[0]!.sealedSize || flipped) continue;
      const bodyStart = bytes.length - ra.parts[0]!.sealedSize;
      bytes[bodyStart + 150_000] = (bytes[bodyStart + 150_000] ?? 0) ^ 0x01;
      await writeFile(file, bytes);
      const got = await read('a');
      const gotB = await read('b');
      // Exactly one of the two objects is now damaged; the damaged one must fail, the other must be intact.
      const damaged = got.ok && got.bytes.equals(a) ? gotB : got;
      expect(damaged.ok).toBe(false);
      flipped = true;
    }
    expect(flipped).toBe(true);
  });

  /** What recovery will do: from the blob store alone (body, its metadata's wrapped key) and the vault, name the blob's object. */
  const sealedMetadataOf = (blobId: string): Promise<SealedMetadata> => readBlobRecord(backend.blobs, backend.vault, blobId);
  /** The embedded store names a blob's file by the SHA-256 of its id (lambdas/adapters/embedded/fs-blob-store.ts). */
  const blobFile = async (blobId: string): Promise<string> => {
    const name = `${createHash('sha256').update(blobId, 'utf8').digest('hex')}.blob`;
    const found: string[] = [];
    const walk = async (d: string): Promise<void> => {
      for (const e of await readdir(d, { withFileTypes: true })) {
        if (e.isDirectory()) await walk(join(d, e.name));
        else if (e.name === name) found.push(join(d, e.name));
      }
    };
    await walk(join(dir, 'blobs'));
    expect(found).toHaveLength(1);
    return found[0]!;
  };

  it('stores every blob with a sealed record naming its object, which opens from the blob store alone and refuses tampering', async () => {
    const sent = await s3.send(new PutObjectCommand({
      Bucket: 'vault', Key: 'docs/ü.txt', Body: 'hello', ContentType: 'text/plain', CacheControl: 'no-cache', Metadata: { patient: 'p-1' }, ChecksumAlgorithm: 'CRC32',
    }));
    const put = await record('docs/ü.txt');
    const meta = await sealedMetadataOf(put.parts[0]!.blobId);
    expect(meta).toMatchObject({
      kind: 'object', bucket: 'vault', key: 'docs/ü.txt', objectId: put.objectId, versionId: '', uploadId: '', partNumber: 1, partCount: 1,
      plaintextSize: 5, contentType: 'text/plain', headers: { 'cache-control': 'no-cache' }, userMetadata: { patient: 'p-1' }, keyChosen: false,
    });
    expect(meta.blobSize).toBe(put.parts[0]!.sealedSize);
    // The checksum the body was verified against is known when the sealer ends, so the record carries it.
    expect(meta.checksum).toEqual({ algorithm: 'CRC32', type: 'FULL_OBJECT', value: sent.ChecksumCRC32 });
    expect(Math.abs(meta.writtenAt.getTime() - put.lastModified.getTime())).toBeLessThan(5_000);

    // A copy is a new object with its own key and record: the destination's name, the source's metadata (COPY).
    await s3.send(new CopyObjectCommand({ Bucket: 'vault', Key: 'copy', CopySource: 'vault/docs/%C3%BC.txt' }));
    const copy = await record('copy');
    expect(await sealedMetadataOf(copy.parts[0]!.blobId)).toMatchObject({
      kind: 'object', key: 'copy', objectId: copy.objectId, plaintextSize: 5, contentType: 'text/plain', userMetadata: { patient: 'p-1' },
    });

    const created = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'vault', Key: 'big', ContentType: 'application/x-tar', Metadata: { backup: 'nightly' } }));
    const uploadId = created.UploadId!;
    const parts = [];
    for (const [n, body] of [[1, Buffer.alloc(5 * 1024 * 1024, 1)], [2, Buffer.from('tail')]] as const) {
      const up = await s3.send(new UploadPartCommand({ Bucket: 'vault', Key: 'big', UploadId: uploadId, PartNumber: n, Body: body }));
      parts.push({ PartNumber: n, ETag: up.ETag! });
    }
    await s3.send(new CompleteMultipartUploadCommand({ Bucket: 'vault', Key: 'big', UploadId: uploadId, MultipartUpload: { Parts: parts } }));
    const big = await record('big');
    for (const part of big.parts) {
      expect(await sealedMetadataOf(part.blobId)).toMatchObject({
        kind: 'upload-part', key: 'big', objectId: big.objectId, uploadId, partNumber: part.partNumber, partCount: 0,
        plaintextSize: part.plaintextSize, contentType: 'application/x-tar', userMetadata: { backup: 'nightly' },
      });
    }

    // One byte of the record's tag, one of its ciphertext, in the stored file: the record no longer opens.
    const blobId = put.parts[0]!.blobId;
    const file = await blobFile(blobId);
    const original = await readFile(file);
    for (const back of [5, 30]) {
      const bad = Buffer.from(original);
      bad[bad.length - back] = (bad[bad.length - back] as number) ^ 0x01;
      await writeFile(file, bad);
      await expect(sealedMetadataOf(blobId)).rejects.toThrow(/does not open/);
    }
    // A whole stored blob (body and the metadata the file carries) copied under another blob's name: the record is
    // bound to its blob id, so recovery cannot restore one object twice.
    await writeFile(await blobFile(big.parts[1]!.blobId), await readFile(await blobFile(copy.parts[0]!.blobId)));
    await expect(sealedMetadataOf(big.parts[1]!.blobId)).rejects.toThrow(/metadata record of blob \w+ does not open/);
  });
});
