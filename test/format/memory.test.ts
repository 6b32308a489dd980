// Flat memory: sealing then opening a 256 MiB generated stream end to end keeps RSS growth far below the object size.
import { randomBytes } from 'node:crypto';
import { Readable, Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createOpener, createSealer, HEADER_SIZE, sealBuffer } from '../../lambdas/core/format';
import { dataKey, identity } from './helpers';

const MiB = 1024 * 1024;
const TOTAL = 256 * MiB;
const CHUNK = 48 * 1024; // deliberately not the frame size
const BLOCKS = Array.from({ length: 4 }, () => randomBytes(CHUNK));
const block = (index: number): Buffer => BLOCKS[index % BLOCKS.length] as Buffer;

/** TOTAL bytes made of rotating random blocks, produced on demand (never held as a whole). */
function generated(): Readable {
  let index = 0;
  return new Readable({
    read() {
      const offset = index * CHUNK;
      if (offset >= TOTAL) return void this.push(null);
      this.push(block(index++).subarray(0, TOTAL - offset));
    },
  });
}

/** Drops the header the sealer emits first; the opener takes it separately. */
function skipHeader(): Transform {
  let skipped = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      const skip = Math.min(HEADER_SIZE - skipped, chunk.length);
      skipped += skip;
      callback(null, skip === chunk.length ? undefined : chunk.subarray(skip));
    },
  });
}

/** Checks every output byte against the generator's pattern without keeping any of it. */
function verifyingSink(): Writable & { position: () => number } {
  let position = 0;
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      let offset = 0;
      while (offset < chunk.length) {
        const within = position % CHUNK;
        const take = Math.min(CHUNK - within, chunk.length - offset);
        if (!chunk.subarray(offset, offset + take).equals(block(Math.floor(position / CHUNK)).subarray(within, within + take))) {
          return callback(new Error(`plaintext differs at ${position}`));
        }
        offset += take;
        position += take;
      }
      callback();
    },
  });
  return Object.assign(sink, { position: () => position });
}

describe('streaming memory', () => {
  it('seals and opens 256 MiB with RSS growth under 64 MiB', async () => {
    const key = dataKey();
    const id = identity();
    const salt = randomBytes(32);
    // The header depends only on key, salt, identity and frame size, so it is known before sealing.
    const header = sealBuffer(key, id, Buffer.alloc(0), { salt }).summary.header;
    const sealer = createSealer(key, id, { salt });
    const opener = createOpener(key, id, { header, plaintextSize: TOTAL });
    const sink = verifyingSink();

    const baseline = process.memoryUsage().rss;
    let peak = baseline;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 10);
    try {
      await pipeline(generated(), sealer, skipHeader(), opener, sink);
    } finally {
      clearInterval(sampler);
    }
    peak = Math.max(peak, process.memoryUsage().rss);

    console.log(`sealed and opened ${TOTAL / MiB} MiB: RSS ${(baseline / MiB).toFixed(0)} MiB before, peak +${((peak - baseline) / MiB).toFixed(1)} MiB`);
    expect(sink.position()).toBe(TOTAL);
    expect(sealer.summary().plaintextSize).toBe(TOTAL);
    expect(peak - baseline).toBeLessThan(64 * MiB);
  });
});
