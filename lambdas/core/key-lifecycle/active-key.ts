// Which CMK new objects wrap under: the key-state pointer, cached briefly so a PUT costs no extra index read.
import type { ActiveKeySource, KeyVault } from '../ports';
import type { KeyStateStore } from './key-state';

/**
 * First start: the configured default CMK becomes the active one. Safe to race: the record and the
 * pointer are create-only writes, and whoever loses re-reads the winner's pointer.
 */
export async function ensureBootstrapped(states: KeyStateStore, vault: KeyVault, defaultKeyId: string, now: Date): Promise<string> {
  const existing = await states.activeKeyId();
  if (existing) return existing;
  const d = await vault.describeKey(defaultKeyId);
  const alias = d.aliases?.[0];
  await states.insert({
    keyId: d.arn,
    ...(alias === undefined ? {} : { alias }),
    role: 'active',
    kmsState: d.state,
    createdAt: d.createdAt,
    activatedAt: now,
    ...(d.currentKeyMaterialId === undefined ? {} : { currentMaterialId: d.currentKeyMaterialId }),
    rewrap: { rewrapped: 0, errors: 0 },
  });
  await states.initActive(d.arn);
  return (await states.activeKeyId()) ?? d.arn;
}

/**
 * ActiveKeySource over the key-state pointer. Cached for `ttlMs`: after a rollover, other containers may
 * wrap new objects under the old CMK for that long; the lifecycle's retire grace outlasts it, and the
 * rewrap job moves such objects like any other.
 */
export class IndexedActiveKeySource implements ActiveKeySource {
  private cached: { keyId: string; until: number } | undefined;

  constructor(
    private readonly states: KeyStateStore,
    private readonly vault: KeyVault,
    private readonly defaultKeyId: string,
    private readonly ttlMs: number,
    private readonly now: () => Date,
  ) {}

  async activeKeyId(): Promise<string> {
    const at = this.now().getTime();
    if (this.cached && this.cached.until > at) return this.cached.keyId;
    const keyId = await ensureBootstrapped(this.states, this.vault, this.defaultKeyId, this.now());
    this.cached = { keyId, until: at + this.ttlMs };
    return keyId;
  }

  /** Called after a rollover in this process, so this process switches at once. */
  invalidate(): void {
    this.cached = undefined;
  }
}
