// The four workloads both crypto benches time over the same bytes: seal and open through the sealed format,
// and one raw AES-256-GCM pass each way, fed in the 64 KiB chunks a socket or blob store delivers.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { Transform } from 'node:stream';
import { createOpener, createSealer, HEADER_SIZE, sealBuffer } from '../lambdas/core/format';

const CHUNK = 64 * 1024;
const id = { bucket: 'bench', objectId: 'bench-object', partNumber: 1 };

export function chunks(bytes: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let offset = 0; offset < bytes.length; offset += CHUNK) out.push(bytes.subarray(offset, offset + CHUNK));
  return out;
}

/** Writes chunks into a transform (honouring backpressure) and counts what comes out. */
export async function drive(stream: Transform, input: readonly Buffer[], keep?: Buffer[]): Promise<number> {
  let produced = 0;
  stream.on('data', (bytes: Buffer) => {
    produced += bytes.length;
    keep?.push(bytes);
  });
  const done = new Promise<void>((resolve, reject) => {
    stream.on('end', resolve);
    stream.on('error', reject);
  });
  for (const chunk of input) {
    if (!stream.write(chunk)) await new Promise((resolve) => stream.once('drain', resolve));
  }
  stream.end();
  await done;
  return produced;
}

export interface CryptoWorkloads {
  readonly seal: () => Promise<unknown>;
  readonly rawEncrypt: () => void;
  readonly open: () => Promise<unknown>;
  readonly rawDecrypt: () => void;
}

/** Fresh key and random plaintext of `size` bytes, sealed and raw-encrypted once so open/decrypt have input. */
export function cryptoWorkloads(size: number): CryptoWorkloads {
  const key = randomBytes(32);
  const plaintext = randomBytes(size);
  const input = chunks(plaintext);
  const { sealed } = sealBuffer(key, id, plaintext);
  const header = sealed.subarray(0, HEADER_SIZE);
  const frames = chunks(sealed.subarray(HEADER_SIZE));
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const rawCiphertext = chunks(Buffer.concat([...input.map((c) => cipher.update(c)), cipher.final()]));
  const tag = cipher.getAuthTag();
  return {
    seal: () => drive(createSealer(key, id), input),
    rawEncrypt: () => {
      const c = createCipheriv('aes-256-gcm', key, randomBytes(12));
      for (const chunk of input) c.update(chunk);
      c.final();
    },
    open: () => drive(createOpener(key, id, { header, plaintextSize: size }), frames),
    rawDecrypt: () => {
      const d = createDecipheriv('aes-256-gcm', key, iv);
      d.setAuthTag(tag);
      for (const chunk of rawCiphertext) d.update(chunk);
      d.final();
    },
  };
}
