// A process's first request (a Lambda cold start) may be the one that opens the index key, before the caller is
// authenticated: with the CMK disabled, a request with a stored access key id and a wrong secret must learn
// nothing about the CMK (one generic 503, no key ARN, no KMS error code); a replaced index key row answers 500.
import { HttpRequest } from '@smithy/protocol-http';
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openEmbeddedBackend } from '../../lambdas/adapters/embedded';
import { composeStore, type Store } from '../../lambdas/compose-store';
import { INDEX_KEY_PK, INDEX_KEY_SK } from '../../lambdas/core/index-auth/index-key';
import { LAMBDA_LIMITS } from '../../lambdas/core/limits';
import { objectsPk } from '../../lambdas/core/records';
import { bufferBody, emptyMap } from '../../lambdas/http/request';
import { s3Signer } from '../../lambdas/http/signer';
import { startServer } from '../../local/server';
import { testCreds } from '../support/embedded-target';
import { s3Path, signedRequest, type Creds } from '../support/signed-fetch';

async function call(store: Store, creds: Creds, method: string, path: string): Promise<{ status: number; body: string }> {
  const signer = s3Signer({ credentials: creds, region: 'us-east-1' });
  const host = 'abc123.execute-api.us-east-1.amazonaws.com';
  const signed = await signer.sign(
    new HttpRequest({ method, hostname: host, path, headers: { host, 'x-amz-content-sha256': createHash('sha256').update('').digest('hex') } }),
    { signingDate: new Date() },
  );
  const headers = emptyMap<string>();
  for (const [k, v] of Object.entries(signed.headers)) headers[k.toLowerCase()] = v;
  const res = await store.api({ method, path, query: emptyMap(), headers, body: bufferBody(Buffer.alloc(0)) });
  return { status: res.statusCode, body: Buffer.isBuffer(res.body) ? res.body.toString() : '' };
}

describe('the first request of a process (a Lambda cold start) opens the index key', () => {
  let dir: string;
  const root = testCreds();
  let issued: Creds;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sealstore-cold-'));
    const server = await startServer({ backend: await openEmbeddedBackend(dir), credentials: root });
    await signedRequest(server.url, root, { method: 'PUT', path: s3Path('cold') });
    await signedRequest(server.url, root, { method: 'PUT', path: s3Path('cold', 'doc'), body: Buffer.from('cold data') });
    const made = await server.accessKeys.create({ grants: [{ bucket: 'cold', role: 'read' }] });
    issued = { accessKeyId: made.accessKeyId, secretAccessKey: made.secretAccessKey };
    await server.close();
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** The Lambda's wiring, without its preload: the first row check happens inside the first request. */
  async function coldStore(): Promise<{ store: Store; close: () => Promise<void> }> {
    const backend = await openEmbeddedBackend(dir);
    const store = composeStore(backend, root, { region: 'us-east-1', limits: { limits: LAMBDA_LIMITS } });
    return { store, close: () => backend.close() };
  }

  it('with the CMK disabled, a wrong-signature request gets one generic 503 that names no CMK and no KMS state', async () => {
    const backend = await openEmbeddedBackend(dir);
    const arn = backend.defaultKeyId;
    await backend.vault.disableKey(arn);
    await backend.close();

    const { store, close } = await coldStore();
    try {
      for (const secret of ['wrong-secret-wrong-secret-wrong-secret', issued.secretAccessKey]) {
        const res = await call(store, { accessKeyId: issued.accessKeyId, secretAccessKey: secret }, 'GET', s3Path('cold', 'doc'));
        expect(res.status).toBe(503);
        expect(res.body).toContain('<Code>ServiceUnavailable</Code>');
        expect(res.body).not.toMatch(/KMS|Disabled|arn:aws:kms/);
        expect(res.body).not.toContain(arn);
      }
    } finally {
      await close();
    }
  });

  it('with the index key row replaced, answers 500 (tampering), not a 4xx and not the KMS error', async () => {
    const backend = await openEmbeddedBackend(dir);
    const object = await backend.index.get(objectsPk('cold'), 'doc');
    const row = await backend.index.get(INDEX_KEY_PK, INDEX_KEY_SK);
    await backend.index.put({ ...row!, attrs: { ...row!.attrs, wrapped: object!.attrs['wrappedKey']! } });
    await backend.close();

    const { store, close } = await coldStore();
    try {
      const res = await call(store, { accessKeyId: issued.accessKeyId, secretAccessKey: 'wrong-secret-wrong-secret-wrong-secret' }, 'GET', s3Path('cold', 'doc'));
      expect(res.status).toBe(500);
      expect(res.body).toContain('<Code>InternalError</Code>');
      expect(res.body).not.toMatch(/arn:aws:kms/);
    } finally {
      await close();
    }
  });
});
