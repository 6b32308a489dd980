// Concurrency: many writers on one key, readers and listers while they write. Every read must return exactly
// the bytes of one write (never a mix, never a torn object), and the last word belongs to an acknowledged write.
import { GetObjectCommand, ListObjectsV2Command, S3ServiceException } from '@aws-sdk/client-s3';
import { randomBytes } from 'node:crypto';
import { blobFiles, createBucket, del, put, sha, startHarness, type Harness } from './harness';

describe('sealstore under concurrent clients', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness({ frameSize: 4096 });
    await createBucket(h.s3, 'conc');
  });
  afterEach(async () => h?.close());

  it('serves whole, authentic versions to readers and listers while eight writers race on one key', async () => {
    const written = new Map<string, number>(); // digest → size, of every body any writer sent
    const acknowledged = new Set<string>();
    // ETags are keyed, not the body's MD5: each acknowledged PUT's ETag maps to the digest of the body it wrote,
    // and a read's ETag must name the same version as its bytes (checked once every PUT has answered).
    const versionOf = new Map<string, string>();
    const seen: Array<{ etag: string; digest: string }> = [];
    const listed: Array<{ etag: string; size: number }> = [];
    const sizes = new Set<number>();
    let writing = true;
    let reads = 0;
    let lists = 0;
    let conflicts = 0;
    const client = h.client();

    const writer = async (w: number) => {
      for (let i = 0; i < 8; i++) {
        // Distinct sizes, so a listed size also says which write it came from.
        const body = randomBytes(1000 + w * 997 + i * 8191);
        written.set(sha(body), body.length);
        sizes.add(body.length);
        try {
          const { ETag } = await put(client, 'conc', 'hot', body);
          expect(versionOf.has(ETag!)).toBe(false);
          versionOf.set(ETag!, sha(body));
          acknowledged.add(sha(body));
        } catch (e) {
          // Too many writers on one key may exhaust the commit retries; that write is then simply not acknowledged.
          if (!(e instanceof S3ServiceException) || e.name !== 'PreconditionFailed') throw e;
          conflicts++;
        }
      }
    };
    // Observers run while the writers do, and at least a few times whatever the machine's speed; how many of
    // their reads overlapped the writes is printed, not asserted (it depends on scheduling, not on correctness).
    const MIN_PASSES = 5;
    let readsDuringWrites = 0;
    const reader = async () => {
      for (let pass = 0; writing || pass < MIN_PASSES; pass++) {
        const during = writing;
        try {
          const got = await client.send(new GetObjectCommand({ Bucket: 'conc', Key: 'hot' }));
          const bytes = await got.Body!.transformToByteArray();
          expect(written.has(sha(bytes))).toBe(true);
          seen.push({ etag: got.ETag!, digest: sha(bytes) });
          expect(got.ContentLength).toBe(bytes.length);
          reads++;
          if (during) readsDuringWrites++;
        } catch (e) {
          if (!(e instanceof S3ServiceException) || e.name !== 'NoSuchKey') throw e; // before the first commit
        }
      }
    };
    const lister = async () => {
      for (let pass = 0; writing || pass < MIN_PASSES; pass++) {
        const page = await client.send(new ListObjectsV2Command({ Bucket: 'conc' }));
        for (const c of page.Contents ?? []) {
          expect(c.Key).toBe('hot');
          expect(sizes.has(c.Size ?? -1)).toBe(true);
          listed.push({ etag: c.ETag!, size: c.Size! });
        }
        lists++;
      }
    };

    const writers = Promise.all(Array.from({ length: 8 }, (_, w) => writer(w)));
    const observers = Promise.all([reader(), reader(), reader(), lister()]);
    await writers.finally(() => (writing = false));
    await observers;

    for (const r of seen) expect(versionOf.get(r.etag)).toBe(r.digest);
    for (const l of listed) expect(written.get(versionOf.get(l.etag) ?? '')).toBe(l.size);
    const final = await client.send(new GetObjectCommand({ Bucket: 'conc', Key: 'hot' }));
    const finalDigest = sha(await final.Body!.transformToByteArray());
    expect(acknowledged.has(finalDigest)).toBe(true);
    expect(versionOf.get(final.ETag!)).toBe(finalDigest);
    console.log(`eight writers on one key: ${acknowledged.size} acknowledged, ${conflicts} refused; ${reads} whole reads (${readsDuringWrites} during the writes), ${lists} listings`);
    // Every one of the 64 PUTs was answered: acknowledged, or refused as a lost race (never dropped, never a 500).
    expect(acknowledged.size + conflicts).toBe(64);
    await h.server.service.sweep(0);
    expect(await blobFiles(h.dataDir)).toEqual({ blobs: 1, sidecars: 0, other: [] });
  }, 60_000);

  it('keeps each key consistent while writers and deleters interleave over many keys', async () => {
    const keys = Array.from({ length: 6 }, (_, i) => `dir/k${i}`);
    const versions = new Map<string, Set<string | null>>(keys.map((k) => [k, new Set<string | null>([null])]));
    const client = h.client();
    let checks = 0;
    let writing = true;

    const worker = async (w: number) => {
      for (let i = 0; i < 12; i++) {
        const key = keys[(w * 5 + i) % keys.length]!;
        if ((w + i) % 4 === 0) {
          await del(client, 'conc', key);
        } else {
          const body = randomBytes(500 + ((w * 31 + i * 977) % 20_000));
          versions.get(key)!.add(sha(body));
          try {
            await put(client, 'conc', key, body);
          } catch (e) {
            if (!(e instanceof S3ServiceException) || e.name !== 'PreconditionFailed') throw e;
          }
        }
      }
    };
    const checker = async () => {
      for (let pass = 0; writing || pass < 2; pass++) {
        const page = await client.send(new ListObjectsV2Command({ Bucket: 'conc', Prefix: 'dir/' }));
        for (const c of page.Contents ?? []) expect(keys).toContain(c.Key);
        for (const key of keys) {
          try {
            const got = await client.send(new GetObjectCommand({ Bucket: 'conc', Key: key }));
            expect(versions.get(key)!.has(sha(await got.Body!.transformToByteArray()))).toBe(true);
          } catch (e) {
            // Absent, or deleted between the index read and the blob read: both are S3's NoSuchKey, never a 500.
            if (!(e instanceof S3ServiceException) || e.name !== 'NoSuchKey') throw e;
          }
          checks++;
        }
      }
    };
    const workers = Promise.all(Array.from({ length: 6 }, (_, w) => worker(w)));
    const checkers = Promise.all([checker(), checker()]);
    await workers.finally(() => (writing = false));
    await checkers;
    console.log(`writers and deleters over ${keys.length} keys: ${checks} key checks by two checkers`);

    const page = await client.send(new ListObjectsV2Command({ Bucket: 'conc' }));
    await h.server.service.sweep(0);
    const live = page.Contents?.length ?? 0;
    expect(await blobFiles(h.dataDir)).toEqual({ blobs: live, sidecars: 0, other: [] });
  }, 60_000);
});
