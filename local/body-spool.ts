// A spool on disk for the embedded server: a body whose signature needs its hash (curl --aws-sigv4) is written to
// a private temp file while it is hashed, so memory stays flat however large it is. Nothing is durable here.
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { BodySpool, SpooledBody } from '../lambdas/http/spool';

export function fileSpool(dir: string): BodySpool {
  return {
    async spool(body, limit): Promise<SpooledBody> {
      const hash = createHash('sha256');
      let size = 0;
      let file: string | undefined;
      let handle: Awaited<ReturnType<typeof open>> | undefined;
      try {
        for await (const chunk of body) {
          const bytes = chunk as Buffer;
          size += bytes.length;
          if (size > limit.maxBytes) throw limit.tooLarge(size, true);
          hash.update(bytes);
          if (handle === undefined) {
            // Created on the first byte: the many bodiless requests (GET, HEAD, DELETE) never touch the disk.
            await mkdir(dir, { recursive: true, mode: 0o700 });
            file = join(dir, `spool-${randomBytes(12).toString('hex')}`);
            handle = await open(file, 'wx', 0o600);
          }
          for (let offset = 0; offset < bytes.length; ) offset += (await handle.write(bytes, offset, bytes.length - offset)).bytesWritten;
        }
        await handle?.close();
        handle = undefined;
      } catch (e) {
        body.destroy();
        await handle?.close().catch(() => undefined);
        if (file !== undefined) await unlink(file).catch(() => undefined);
        throw e;
      }
      const path = file;
      return {
        size,
        sha256Hex: hash.digest('hex'),
        open: () => (path === undefined ? Readable.from([], { objectMode: false }) : createReadStream(path)),
        dispose: async () => {
          if (path !== undefined) await unlink(path).catch(() => undefined);
        },
      };
    },
  };
}
