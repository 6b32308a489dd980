// Port wrappers that count: key-vault calls by operation, and ciphertext bytes read from the blob store.
import { Transform } from 'node:stream';
import type { BlobStore, KeyVault } from '../lambdas/core/ports';
import type { Backend } from '../local/server';

export interface PortCounts {
  generateDataKey: number;
  decrypt: number;
  otherVaultCalls: number;
  blobGets: number;
  blobBytesRead: number;
}

export const zeroCounts = (): PortCounts => ({ generateDataKey: 0, decrypt: 0, otherVaultCalls: 0, blobGets: 0, blobBytesRead: 0 });

export function countingBackend(inner: Backend, counts: PortCounts): Backend {
  const vault: KeyVault = {
    generateDataKey: (k, c) => (counts.generateDataKey++, inner.vault.generateDataKey(k, c)),
    decrypt: (w, c) => (counts.decrypt++, inner.vault.decrypt(w, c)),
    reEncrypt: (w, c, d) => (counts.otherVaultCalls++, inner.vault.reEncrypt(w, c, d)),
    describeKey: (k) => (counts.otherVaultCalls++, inner.vault.describeKey(k)),
    encrypt: (k, p, c) => (counts.otherVaultCalls++, inner.vault.encrypt(k, p, c)),
  };
  const blobs: BlobStore = {
    put: (id, body, meta, options) => inner.blobs.put(id, body, meta, options),
    get: async (id, range) => {
      counts.blobGets++;
      const source = await inner.blobs.get(id, range);
      const counter = new Transform({
        transform(chunk: Buffer, _e, done) {
          counts.blobBytesRead += chunk.length;
          done(null, chunk);
        },
      });
      source.on('error', (e) => counter.destroy(e));
      return source.pipe(counter);
    },
    head: (id) => inner.blobs.head(id),
    replaceMetadata: (id, m) => inner.blobs.replaceMetadata(id, m),
    delete: (id) => inner.blobs.delete(id),
  };
  return { vault, admin: inner.admin, blobs, index: inner.index, defaultKeyId: inner.defaultKeyId, close: () => inner.close() };
}
