// The index and the blob metadata at rest hold no unkeyed digest of any object's plaintext: whoever reads the
// table or the bucket without kms:Decrypt cannot confirm a guess of the contents (docs/TABLE-DESIGN.md).
import { CompleteMultipartUploadCommand, CreateBucketCommand, CreateMultipartUploadCommand, type S3Client } from '@aws-sdk/client-s3';
import Database from 'better-sqlite3';
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { s3Path, signedRequest } from '../support/signed-fetch';
import { startEmbedded, type EmbeddedTarget } from '../support/embedded-target';
import { s3Client } from './s3-suite';
import { sealedChecksum, sealedEtag } from '../../lambdas/core/etag';
import { HEADER_SIZE, sealBuffer } from '../../lambdas/core/format';

const MiB = 1024 * 1024;
const md5 = (b: Buffer) => createHash('md5').update(b).digest();
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest();
const crc32Bytes = (b: Buffer) => {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(crc32(b) >>> 0);
  return out;
};

/** Every form in which a digest of `body` could sit in the index or in blob metadata. */
function digestNeedles(label: string, body: Buffer): Array<[string, Buffer]> {
  const out: Array<[string, Buffer]> = [];
  for (const [name, digest] of [['MD5', md5(body)], ['SHA-256', sha256(body)], ['CRC32', crc32Bytes(body)]] as const) {
    out.push([`${label} ${name} hex`, Buffer.from(digest.toString('hex'), 'utf8')]);
    out.push([`${label} ${name} base64`, Buffer.from(digest.toString('base64'), 'utf8')]);
    // Raw bytes only for the long digests: four random bytes turn up by chance in a large file.
    if (digest.length >= 16) out.push([`${label} ${name} bytes`, digest]);
  }
  out.push([`${label} plaintext`, body.subarray(0, 48)]);
  return out;
}

/**
 * Every file under the data directory: the SQLite index (and its WAL), keys, and the blob files whole (their
 * headers hold the metadata and wrapped key; the sealed bodies are ciphertext, in which a 16-byte or longer
 * needle turns up by chance with negligible probability).
 */
async function filesAtRest(dir: string): Promise<Array<[string, Buffer]>> {
  const out: Array<[string, Buffer]> = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await filesAtRest(p)));
    else out.push([p, await readFile(p)]);
  }
  return out;
}

/** Every row of the index as SQLite returns it: keys and attribute text. */
function indexRows(file: string): Buffer[] {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const rows = db.prepare('SELECT pk, sk, gsi1pk, gsi1sk, attrs FROM items').all() as Array<Record<string, Buffer | string | null>>;
    return rows.map((row) => Buffer.concat(Object.values(row).map((v) => (v === null ? Buffer.alloc(0) : Buffer.isBuffer(v) ? v : Buffer.from(v, 'utf8')))));
  } finally {
    db.close();
  }
}

describe('the index and blob metadata at rest', () => {
  let target: EmbeddedTarget;
  let s3: S3Client;

  beforeAll(async () => {
    target = await startEmbedded({ keepData: true });
    s3 = s3Client(target);
    await s3.send(new CreateBucketCommand({ Bucket: 'digests' }));
  }, 60_000);
  afterAll(async () => {
    s3?.destroy();
    await target?.close();
    if (target) await rm(target.dataDir, { recursive: true, force: true });
  });

  /** Fails naming the first needle found in any index row or any file at rest. */
  async function expectNoneAtRest(needles: ReadonlyArray<[string, Buffer]>): Promise<void> {
    const rows = indexRows(join(target.dataDir, 'index.sqlite'));
    expect(rows.length).toBeGreaterThan(0);
    const haystacks: Array<[string, Buffer]> = [...rows.map((r, i) => [`index row ${i}`, r] as [string, Buffer]), ...(await filesAtRest(target.dataDir))];
    const found = needles.flatMap(([what, needle]) => haystacks.filter(([, hay]) => hay.includes(needle)).map(([where]) => `${what} in ${where}`));
    expect(found).toEqual([]);
  }

  /** A PUT or UploadPart with both Content-MD5 and x-amz-checksum-crc32, which the server verifies. */
  const checkedHeaders = (body: Buffer) => ({ 'content-md5': md5(body).toString('base64'), 'x-amz-checksum-crc32': crc32Bytes(body).toString('base64') });

  it('keeps no MD5, SHA-256 or CRC32 of a single PUT\'s plaintext, nor the plaintext', async () => {
    const body = Buffer.concat([Buffer.from('a known document, guessable by the attacker '), randomBytes(100_000)]);
    const res = await signedRequest(target.url, target.creds, { method: 'PUT', path: s3Path('digests', 'single'), body, headers: checkedHeaders(body) });
    expect(res.status).toBe(200);
    expect(res.headers['etag']).toMatch(/^"[0-9a-f]{32}"$/);
    await expectNoneAtRest(digestNeedles('single PUT', body));
  });

  it('keeps no digest of a multipart upload\'s parts or whole, while parts wait and once completed', async () => {
    const parts = [randomBytes(5 * MiB), randomBytes(5 * MiB + 5), randomBytes(3000)];
    const whole = Buffer.concat(parts);
    const needles = [
      ...parts.flatMap((p, i) => digestNeedles(`part ${i + 1}`, p)),
      ...digestNeedles('whole object', whole),
      // S3's unkeyed multipart ETag: MD5 over the parts' MD5s.
      ['md5-of-part-md5s', Buffer.from(md5(Buffer.concat(parts.map(md5))).toString('hex'), 'utf8')] as [string, Buffer],
    ];
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'digests', Key: 'multi', ChecksumAlgorithm: 'CRC32' }));
    const etags: string[] = [];
    for (const [i, body] of parts.entries()) {
      const res = await signedRequest(target.url, target.creds, { method: 'PUT', path: s3Path('digests', 'multi'), query: { partNumber: String(i + 1), uploadId: UploadId! }, body, headers: checkedHeaders(body) });
      expect(res.status).toBe(200);
      expect(res.headers['x-amz-checksum-crc32']).toBe(crc32Bytes(body).toString('base64'));
      etags.push(String(res.headers['etag']));
    }
    // While the upload is open its part items carry what the completion checks: they must be keyed too.
    await expectNoneAtRest(needles);
    const done = await s3.send(new CompleteMultipartUploadCommand({
      Bucket: 'digests',
      Key: 'multi',
      UploadId,
      MultipartUpload: { Parts: parts.map((p, i) => ({ PartNumber: i + 1, ETag: etags[i], ChecksumCRC32: crc32Bytes(p).toString('base64') })) },
    }));
    expect(done.ETag).toMatch(/^"[0-9a-f]{32}-3"$/);
    await expectNoneAtRest(needles);
  });
});

describe('sealedEtag', () => {
  /** RFC 5869 with an empty salt and one output block, written out by hand rather than through hkdfSync. */
  const hkdf32 = (ikm: Buffer, info: string) => {
    const prk = createHmac('sha256', Buffer.alloc(32)).update(ikm).digest();
    return createHmac('sha256', prk).update(Buffer.concat([Buffer.from(info, 'utf8'), Buffer.from([1])])).digest();
  };

  it('is the first 16 bytes of HMAC-SHA256 under the data key\'s "sealstore/v1 etag" HKDF key, over the tag digest', () => {
    const dataKey = randomBytes(32);
    const digest = sha256(randomBytes(1000));
    const expected = createHmac('sha256', hkdf32(dataKey, 'sealstore/v1 etag')).update(digest).digest().subarray(0, 16).toString('hex');
    expect(sealedEtag(dataKey, digest)).toBe(expected);
  });

  it('keys the SHA-256 of the sealed part\'s header and frame tags, taken from the ciphertext as stored', () => {
    const dataKey = randomBytes(32);
    const plaintext = randomBytes(200_000);
    const { sealed, summary } = sealBuffer(dataKey, { bucket: 'b', objectId: 'o', partNumber: 1 }, plaintext, { frameSize: 65_536 });
    // Header, then frames of (ciphertext ‖ 16-byte tag): the digest covers the header and each tag, in order.
    const tags: Buffer[] = [sealed.subarray(0, HEADER_SIZE)];
    for (let at = HEADER_SIZE, left = plaintext.length; ; ) {
      const n = Math.min(65_536, left);
      tags.push(sealed.subarray(at + n, at + n + 16));
      at += n + 16;
      left -= n;
      if (left <= 0) break;
    }
    expect(summary.tagDigest.equals(sha256(Buffer.concat(tags)))).toBe(true);
    const other = sealBuffer(dataKey, { bucket: 'b', objectId: 'o', partNumber: 1 }, Buffer.concat([plaintext.subarray(0, 199_999), Buffer.from([plaintext[199_999]! ^ 1])]), {
      frameSize: 65_536,
      salt: sealed.subarray(12, 44),
    });
    expect(other.summary.tagDigest.equals(summary.tagDigest)).toBe(false);
  });

  it('differs between data keys for the same contents, and never equals the MD5', () => {
    const plaintext = Buffer.from('same bytes');
    const a = sealedEtag(randomBytes(32), sha256(plaintext));
    const b = sealedEtag(randomBytes(32), sha256(plaintext));
    expect(a).toMatch(/^[0-9a-f]{32}$/);
    expect(a).not.toBe(b);
    expect([a, b]).not.toContain(md5(plaintext).toString('hex'));
  });

  it('keys part checksums apart from ETags and from each other\'s algorithms', () => {
    const dataKey = randomBytes(32);
    const value = crc32Bytes(Buffer.from('part')).toString('base64');
    const tag = sealedChecksum(dataKey, 'CRC32', value);
    expect(sealedChecksum(dataKey, 'CRC32', value)).toBe(tag);
    expect(sealedChecksum(dataKey, 'CRC32C', value)).not.toBe(tag);
    expect(sealedChecksum(randomBytes(32), 'CRC32', value)).not.toBe(tag);
    expect(sealedEtag(dataKey, Buffer.from(value, 'base64'))).not.toBe(tag);
  });
});
