// A full disk under the data directory: a PUT fails with an error the client can act on, nothing half-written is
// visible, no temp file is left, every stored object stays readable, and writes work again once space is freed.
// Runs on a small tmpfs mounted for the test; skips loudly where mounting is not allowed (not root, no tmpfs).
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, DeleteObjectCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3ServiceException, type S3Client } from '@aws-sdk/client-s3';
import { startEmbedded, type EmbeddedTarget } from '../support/embedded-target';
import { s3Client } from '../blackbox/s3-suite';

const MiB = 1024 * 1024;

/** A 40 MiB tmpfs, or why there cannot be one here. */
function mountSmallDisk(): { dir: string } | { unavailable: string } {
  const dir = mkdtempSync(join(tmpdir(), 'sealstore-full-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=40m,mode=0700', 'tmpfs', dir], { stdio: 'pipe' });
    return { dir };
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    const why = (e as { stderr?: Buffer }).stderr?.toString().trim() || (e as Error).message;
    return { unavailable: `cannot mount a small tmpfs to fill (${why.split('\n')[0]}); run as root where mount is allowed` };
  }
}

const disk = mountSmallDisk();
if ('unavailable' in disk) console.warn(`disk-full tests SKIPPED: ${disk.unavailable}`);
const describeOrSkip = 'unavailable' in disk ? describe.skip : describe;

/** Every file under the data directory that is a leftover of an unfinished write. */
function tempFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...tempFiles(p));
    else if (name.endsWith('.tmp') || name.startsWith('spool-')) out.push(p);
  }
  return out;
}

async function failure(p: Promise<unknown>): Promise<{ status: number | undefined; code: string; message: string } | undefined> {
  try {
    await p;
    return undefined;
  } catch (e) {
    if (!(e instanceof S3ServiceException)) throw e;
    return { status: e.$metadata.httpStatusCode, code: e.name, message: e.message };
  }
}

describeOrSkip(`a full disk under the data directory${'unavailable' in disk ? ` — skipped: ${disk.unavailable}` : ''}`, () => {
  const dir = 'dir' in disk ? disk.dir : '';
  let target: EmbeddedTarget;
  let s3: S3Client;

  beforeAll(async () => {
    target = await startEmbedded({ dataDir: join(dir, 'data'), keepData: true });
    s3 = s3Client(target);
  });
  afterAll(async () => {
    s3?.destroy();
    await target?.close();
    if (dir) {
      execFileSync('umount', [dir]);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses the write that does not fit with 507, keeps every object, and writes again once space is freed', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'full' }));
    const keep = randomBytes(100_000);
    await s3.send(new PutObjectCommand({ Bucket: 'full', Key: 'keep', Body: keep }));

    // Fill the disk with 4 MiB objects until one is refused.
    const filler = randomBytes(4 * MiB);
    let refused: Awaited<ReturnType<typeof failure>>;
    let stored = 0;
    for (let i = 0; i < 20 && refused === undefined; i++) {
      refused = await failure(s3.send(new PutObjectCommand({ Bucket: 'full', Key: `fill-${i}`, Body: filler })));
      if (refused === undefined) stored++;
    }
    expect(stored).toBeGreaterThan(0);
    expect(refused).toMatchObject({ status: 507, code: 'InsufficientStorage' });
    expect(refused?.message).toMatch(/disk is full.*nothing was written.*Free space/);

    // Nothing half-written is visible or left behind; the old object and an overwrite attempt's target are intact.
    expect((await failure(s3.send(new PutObjectCommand({ Bucket: 'full', Key: 'keep', Body: filler }))))?.status).toBe(507);
    const got = await s3.send(new GetObjectCommand({ Bucket: 'full', Key: 'keep' }));
    expect(Buffer.from(await got.Body!.transformToByteArray()).equals(keep)).toBe(true);
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: 'full' }));
    expect(listed.Contents?.map((c) => c.Key).sort()).toEqual(['keep', ...Array.from({ length: stored }, (_, i) => `fill-${i}`)].sort());
    expect(tempFiles(target.dataDir)).toEqual([]);

    // Freeing space (deleting objects shreds their blobs) lets writes through again.
    for (let i = 0; i < stored; i++) await s3.send(new DeleteObjectCommand({ Bucket: 'full', Key: `fill-${i}` }));
    await s3.send(new PutObjectCommand({ Bucket: 'full', Key: 'after', Body: filler }));
    const after = await s3.send(new GetObjectCommand({ Bucket: 'full', Key: 'after' }));
    expect(Buffer.from(await after.Body!.transformToByteArray()).equals(filler)).toBe(true);
  }, 120_000);
});
