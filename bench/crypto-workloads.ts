// The four workloads both crypto benches time over the same bytes: seal and open through the sealed format,
// and one raw AES-256-GCM pass each way, fed in the 64 KiB chunks a socket or blob store delivers. Sealing is as the
// service does it: format version 2, with a metadata record of a typical size (docs/FORMAT.md §14).
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { Transform } from 'node:stream';
import { createOpener, createSealer, HEADER_SIZE, type RecordInput, sealBuffer, sealedSize } from '../lambdas/core/format';

const CHUNK = 64 * 1024;
const id = { bucket: 'bench', objectId: 'bench-object', partNumber: 1 };

/** A record like a PUT's: a key, a content type, one stored header, two user metadata entries. */
export const BENCH_RECORD: RecordInput = {
  blobId: '0123456789abcdef0123456789abcdef',
  fields: () => ({
    kind: 'object',
    key: 'reports/2026/12/scan-000123.pdf',
    versionId: '',
    uploadId: '',
    partCount: 1,
    contentType: 'application/pdf',
    headers: { 'cache-control': 'no-cache' },
    userMetadata: { patient: 'p-000123', department: 'radiology' },
    createdAt: new Date(),
    writtenAt: new Date(),
    keyChosen: false,
  }),
};

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
  const { sealed } = sealBuffer(key, id, plaintext, { record: BENCH_RECORD });
  const header = sealed.subarray(0, HEADER_SIZE);
  // A GET fetches the frames only, never the trailer.
  const frames = chunks(sealed.subarray(HEADER_SIZE, sealedSize(size, header.readUInt32BE(8))));
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const rawCiphertext = chunks(Buffer.concat([...input.map((c) => cipher.update(c)), cipher.final()]));
  const tag = cipher.getAuthTag();
  return {
    seal: () => drive(createSealer(key, id, { record: BENCH_RECORD }), input),
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
