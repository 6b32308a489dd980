// AccessKeyStore: secrets sealed at rest under the active CMK, bound to their key id, cached briefly.
import { ACCESS_KEYS_PK, AccessKeyStore, secretContext } from '../../lambdas/core/access-keys';
import { KmsInvalidCiphertextError } from '../../lambdas/core/errors';
import { openHarness, type Harness } from '../lifecycle/harness';

describe('AccessKeyStore', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await openHarness();
  });
  afterEach(async () => {
    await h.close();
  });

  it('stores the secret only as vault ciphertext, bound to its access key id', async () => {
    const a = await h.accessKeys.create({ grants: [{ bucket: '*', role: 'read' }] });
    const b = await h.accessKeys.create({ grants: [{ bucket: '*', role: 'read' }] });
    const item = await h.backend.index.get(ACCESS_KEYS_PK, a.accessKeyId);
    const stored = JSON.stringify(item, (_k, v: unknown) => (v && typeof v === 'object' && (v as { type?: string }).type === 'Buffer' ? Buffer.from((v as { data: number[] }).data).toString('latin1') : v));
    expect(stored).not.toContain(a.secretAccessKey);
    const sealed = item?.attrs['sealedSecret'];
    expect(Buffer.isBuffer(sealed)).toBe(true);
    expect(item?.attrs['keyId']).toBe(await h.lifecycle.activeKeys.activeKeyId());
    // Moved to another key's record, the ciphertext will not open: the context names the key id.
    await expect(h.backend.vault.decrypt(sealed as Buffer, secretContext(b.accessKeyId))).rejects.toBeInstanceOf(KmsInvalidCiphertextError);
    expect((await h.backend.vault.decrypt(sealed as Buffer, secretContext(a.accessKeyId))).plaintext.toString()).toBe(a.secretAccessKey);
  });

  it('caches an opened secret for its TTL (one vault call per key, not per request) and forgets it on disable', async () => {
    let decrypts = 0;
    const vault = h.backend.vault;
    const counting = Object.create(vault) as typeof vault;
    counting.decrypt = async (w, c) => {
      decrypts++;
      return vault.decrypt(w, c);
    };
    let now = Date.now();
    const store = new AccessKeyStore({ index: h.backend.index, vault: counting, activeKeys: h.lifecycle.activeKeys, now: () => new Date(now), cacheTtlMs: 30_000 });
    const k = await h.accessKeys.create({ grants: [{ bucket: 'b1x', role: 'write' }] });
    decrypts = 0;
    for (let i = 0; i < 5; i++) expect((await store.lookup(k.accessKeyId))?.principal.grants).toEqual([{ bucket: 'b1x', role: 'write' }]);
    expect(decrypts).toBe(1);
    now += 31_000;
    await store.lookup(k.accessKeyId);
    expect(decrypts).toBe(2);
    await store.setStatus(k.accessKeyId, 'Inactive');
    expect(await store.lookup(k.accessKeyId)).toBeUndefined();
    expect(await store.lookup('AKIANOTOURS')).toBeUndefined();
  });
});
