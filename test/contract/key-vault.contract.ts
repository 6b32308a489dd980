// Reusable contract suite for the KeyVault and KeyAdmin ports: the embedded vault and the KMS adapter must pass it.
import { randomBytes, randomUUID } from 'node:crypto';
import type { EncryptionContext, KeyAdmin, KeyVault } from '../../lambdas/core/ports';
import {
  InvalidArgumentError,
  KmsDisabledError,
  KmsInvalidCiphertextError,
  KmsInvalidStateError,
  KmsNotFoundError,
} from '../../lambdas/core/errors';
import { uniqueId } from './streams';

export interface KeyVaultFixture {
  vault: KeyVault;
  admin: KeyAdmin;
  /** ARN of an Enabled CMK the suite may use but never disables, deletes or rotates. */
  keyId: string;
  cleanup(): Promise<void>;
}

/**
 * What the backend can show, declared before setup runs so each test asserts what is true on it: where a
 * capability is missing, the suite asserts the backend's actual behaviour and registers the unprovable part as
 * an it.skip whose title says why. Nothing is dropped at run time.
 */
export interface KeyVaultCapabilities {
  /** Names the backend in skip reasons, e.g. 'moto 5.2'. */
  readonly backend: string;
  /** False for moto, which tracks key states but does not refuse cryptographic operations because of them. */
  readonly enforcesKeyStates: boolean;
  /** False when the backend names no key material generation (moto returns no KeyMaterialId). */
  readonly tracksKeyMaterial: boolean;
  /** False where the backend ignores RotationPeriodInDays (moto 5.2 returns only KeyRotationEnabled). */
  readonly reportsRotationPeriod: boolean;
}

const DAY_MS = 24 * 60 * 60 * 1000;
const ARN_PATTERN = /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[0-9a-f-]{36}$/;

/** Flips one bit of the last byte: inside the authentication tag of any AEAD-wrapped blob. */
function tamper(wrapped: Buffer): Buffer {
  const copy = Buffer.from(wrapped);
  copy[copy.length - 1] = (copy[copy.length - 1] ?? 0) ^ 0x01;
  return copy;
}

/** Registers the KeyVault + KeyAdmin contract under `describe(name)`, for a backend that can show `can`. */
export function describeKeyVaultContract(name: string, setup: () => Promise<KeyVaultFixture>, can: KeyVaultCapabilities): void {
  const skipped = (what: string, reason: string) => {
    console.warn(`${name}: "${what}" SKIPPED: ${can.backend} ${reason}`);
    it.skip(`${what} — skipped: ${can.backend} ${reason}`, () => undefined);
  };
  describe(name, () => {
    let fixture: KeyVaultFixture;
    let vault: KeyVault;
    let admin: KeyAdmin;
    let keyId: string;

    beforeAll(async () => {
      fixture = await setup();
      ({ vault, admin, keyId } = fixture);
    });
    afterAll(async () => {
      await fixture?.cleanup();
    });

    const context = (objectId = uniqueId('obj')) => ({ bucket: 'photos', key: objectId, part: '1' });
    const newKey = async (description = 'contract test key') => (await admin.createKey({ description })).arn;

    describe('generateDataKey', () => {
      it('returns a fresh 32-byte plaintext, a wrapped form, the CMK ARN and a key material id', async () => {
        const dk = await vault.generateDataKey(keyId, context());
        expect(dk.plaintext.length).toBe(32);
        expect(dk.keyId).toBe(keyId);
        expect(dk.keyId).toMatch(ARN_PATTERN);
        expect(typeof dk.keyMaterialId).toBe('string');
        expect(dk.keyMaterialId.length).toBeGreaterThan(0);
        expect(dk.wrapped.length).toBeGreaterThan(32);
        expect(dk.wrapped.includes(dk.plaintext)).toBe(false);
      });

      it('never returns the same data key twice', async () => {
        const a = await vault.generateDataKey(keyId, context());
        const b = await vault.generateDataKey(keyId, context());
        expect(a.plaintext.equals(b.plaintext)).toBe(false);
        expect(a.wrapped.equals(b.wrapped)).toBe(false);
      });

      it('accepts an alias, the key id or the ARN and always reports the ARN', async () => {
        const alias = `alias/${uniqueId('contract')}`;
        const created = await admin.createKey({ alias });
        for (const ref of [alias, created.keyId, created.arn]) {
          expect((await vault.generateDataKey(ref, context())).keyId).toBe(created.arn);
        }
      });

      it('rejects an unknown key with KmsNotFoundError', async () => {
        const unknown = keyId.replace(/key\/.*$/, `key/${randomUUID()}`);
        await expect(vault.generateDataKey(unknown, context())).rejects.toBeInstanceOf(KmsNotFoundError);
        await expect(vault.generateDataKey(`alias/${uniqueId('nope')}`, context())).rejects.toBeInstanceOf(
          KmsNotFoundError,
        );
      });
    });

    describe('decrypt', () => {
      it('unwraps to the same plaintext and names the wrapping CMK and material', async () => {
        const ctx = context();
        const dk = await vault.generateDataKey(keyId, ctx);
        const back = await vault.decrypt(dk.wrapped, ctx);
        expect(back.plaintext.equals(dk.plaintext)).toBe(true);
        expect(back.keyId).toBe(keyId);
        expect(back.keyMaterialId).toBe(dk.keyMaterialId);
      });

      it('does not depend on the order of the context entries', async () => {
        const dk = await vault.generateDataKey(keyId, { a: '1', b: '2', c: '3' });
        const back = await vault.decrypt(dk.wrapped, { c: '3', a: '1', b: '2' });
        expect(back.plaintext.equals(dk.plaintext)).toBe(true);
      });

      it('rejects a wrong, extended or missing encryption context with KmsInvalidCiphertextError', async () => {
        const ctx = context('obj-1');
        const dk = await vault.generateDataKey(keyId, ctx);
        const wrongs: EncryptionContext[] = [context('obj-2'), { ...ctx, extra: 'x' }, { bucket: ctx.bucket, key: ctx.key }, {}];
        for (const wrong of wrongs) {
          await expect(vault.decrypt(dk.wrapped, wrong)).rejects.toBeInstanceOf(KmsInvalidCiphertextError);
        }
      });

      it('rejects a tampered or truncated wrapped key with KmsInvalidCiphertextError', async () => {
        const ctx = context();
        const dk = await vault.generateDataKey(keyId, ctx);
        await expect(vault.decrypt(tamper(dk.wrapped), ctx)).rejects.toBeInstanceOf(KmsInvalidCiphertextError);
        await expect(vault.decrypt(dk.wrapped.subarray(0, dk.wrapped.length - 1), ctx)).rejects.toBeInstanceOf(
          KmsInvalidCiphertextError,
        );
      });
    });

    describe('reEncrypt', () => {
      it('moves a data key to another CMK without returning its plaintext', async () => {
        const destination = await newKey();
        const ctx = context();
        const dk = await vault.generateDataKey(keyId, ctx);
        const moved = await vault.reEncrypt(dk.wrapped, ctx, destination);
        expect('plaintext' in moved).toBe(false);
        expect(Object.values(moved).some((v) => Buffer.isBuffer(v) && v.equals(dk.plaintext))).toBe(false);
        expect(moved.keyId).toBe(destination);
        expect(moved.wrapped.includes(dk.plaintext)).toBe(false);
        const back = await vault.decrypt(moved.wrapped, ctx);
        expect(back.keyId).toBe(destination);
        expect(back.keyMaterialId).toBe(moved.keyMaterialId);
        expect(back.plaintext.equals(dk.plaintext)).toBe(true);
        // The old wrap still opens: rewrap adds a wrap, deleting the old one is the caller's choice.
        expect((await vault.decrypt(dk.wrapped, ctx)).plaintext.equals(dk.plaintext)).toBe(true);
      });

      it('keeps the rewrapped key bound to the same encryption context', async () => {
        const destination = await newKey();
        const ctx = context();
        const dk = await vault.generateDataKey(keyId, ctx);
        const moved = await vault.reEncrypt(dk.wrapped, ctx, destination);
        await expect(vault.decrypt(moved.wrapped, context())).rejects.toBeInstanceOf(KmsInvalidCiphertextError);
      });

      it('refuses to rewrap under a wrong context or from a tampered wrap', async () => {
        const destination = await newKey();
        const ctx = context();
        const dk = await vault.generateDataKey(keyId, ctx);
        await expect(vault.reEncrypt(dk.wrapped, context(), destination)).rejects.toBeInstanceOf(
          KmsInvalidCiphertextError,
        );
        await expect(vault.reEncrypt(tamper(dk.wrapped), ctx, destination)).rejects.toBeInstanceOf(
          KmsInvalidCiphertextError,
        );
      });
    });

    describe('encrypt', () => {
      it('seals a small secret that decrypt opens under the same context only', async () => {
        const secret = randomBytes(40);
        const ctx = { purpose: 'access-key', accessKeyId: 'AKIAEXAMPLE' };
        const sealed = await vault.encrypt(keyId, secret, ctx);
        expect(sealed.includes(secret)).toBe(false);
        const back = await vault.decrypt(sealed, ctx);
        expect(back.plaintext.equals(secret)).toBe(true);
        expect(back.keyId).toBe(keyId);
        await expect(vault.decrypt(sealed, { ...ctx, accessKeyId: 'AKIAOTHER' })).rejects.toBeInstanceOf(
          KmsInvalidCiphertextError,
        );
      });

      it('seals a 4 KiB secret, the KMS maximum', async () => {
        const secret = randomBytes(4096);
        const sealed = await vault.encrypt(keyId, secret, {});
        expect((await vault.decrypt(sealed, {})).plaintext.equals(secret)).toBe(true);
      });
    });

    describe('describeKey', () => {
      it('describes an enabled key by ARN and by alias', async () => {
        const alias = `alias/${uniqueId('describe')}`;
        const created = await admin.createKey({ alias, description: 'described' });
        for (const ref of [created.arn, alias]) {
          const d = await vault.describeKey(ref);
          expect(d.arn).toBe(created.arn);
          expect(d.arn.endsWith(`key/${d.keyId}`)).toBe(true);
          expect(d.state).toBe('Enabled');
          expect(d.createdAt).toBeInstanceOf(Date);
          expect(Math.abs(d.createdAt.getTime() - Date.now())).toBeLessThan(DAY_MS);
        }
      });

      it('rejects an unknown key with KmsNotFoundError', async () => {
        const unknown = keyId.replace(/key\/.*$/, `key/${randomUUID()}`);
        await expect(vault.describeKey(unknown)).rejects.toBeInstanceOf(KmsNotFoundError);
      });
    });

    describe('KeyAdmin', () => {
      it('creates a key under an alias that resolveKeyId turns into its ARN, from every form of reference', async () => {
        const aliasName = uniqueId('created');
        const created = await admin.createKey({ alias: `alias/${aliasName}`, description: 'with alias' });
        expect(created.arn).toMatch(ARN_PATTERN);
        expect(created.state).toBe('Enabled');
        const aliasArn = created.arn.replace(/key\/.*$/, `alias/${aliasName}`);
        for (const ref of [`alias/${aliasName}`, aliasArn, created.keyId, created.arn]) {
          expect(await admin.resolveKeyId(ref)).toBe(created.arn);
        }
      });

      it('rejects resolving an unknown alias with KmsNotFoundError', async () => {
        await expect(admin.resolveKeyId(`alias/${uniqueId('missing')}`)).rejects.toBeInstanceOf(KmsNotFoundError);
      });

      it('adds an alias to an existing key', async () => {
        const arn = await newKey();
        const alias = `alias/${uniqueId('later')}`;
        await admin.createAlias(alias, arn);
        expect(await admin.resolveKeyId(alias)).toBe(arn);
      });

      it('lists created keys', async () => {
        const arn = await newKey();
        const listed = await admin.listKeys();
        expect(listed.map((k) => k.arn)).toContain(arn);
        expect(listed.map((k) => k.arn)).toContain(keyId);
      });

      it(`enables rotation with a period and reports ${can.reportsRotationPeriod ? 'it' : `no period (${can.backend})`}`, async () => {
        const arn = await newKey();
        await admin.enableKeyRotation(arn, 90);
        const status = await admin.getKeyRotationStatus(arn);
        expect(status.enabled).toBe(true);
        // Where the backend reports none, this fails the day it starts to: then declare reportsRotationPeriod.
        expect(status.rotationPeriodDays).toBe(can.reportsRotationPeriod ? 90 : undefined);
        if (status.nextRotationDate !== undefined) {
          const expected = Date.now() + 90 * DAY_MS;
          expect(Math.abs(status.nextRotationDate.getTime() - expected)).toBeLessThan(2 * DAY_MS);
        }
      });

      it('reports rotation disabled on a new key', async () => {
        const status = await admin.getKeyRotationStatus(await newKey());
        expect(status.enabled).toBe(false);
      });

      it.each([0, 6, 31, 365])('rejects a pending window of %i days with InvalidArgumentError', async (days) => {
        const arn = await newKey();
        await expect(admin.scheduleKeyDeletion(arn, days)).rejects.toBeInstanceOf(InvalidArgumentError);
      });

      if (!can.reportsRotationPeriod) skipped('reports the rotation period it was given', 'does not report RotationPeriodInDays');

      it(`rotates on demand: old wraps still open, rewrap moves them${can.tracksKeyMaterial ? ', new data keys use new material' : ''}`, async () => {
        const arn = await newKey();
        const ctx = context();
        const before = await vault.generateDataKey(arn, ctx);
        await admin.rotateKeyOnDemand(arn);
        const after = await vault.generateDataKey(arn, ctx);
        const old = await vault.decrypt(before.wrapped, ctx);
        expect(old.plaintext.equals(before.plaintext)).toBe(true);
        expect(old.keyId).toBe(arn);
        const moved = await vault.reEncrypt(before.wrapped, ctx, arn);
        expect(moved.keyId).toBe(arn);
        const reopened = await vault.decrypt(moved.wrapped, ctx);
        expect(reopened.plaintext.equals(before.plaintext)).toBe(true);
        if (!can.tracksKeyMaterial) {
          // No material is named, so every wrap reports the same one; this fails the day the backend names it.
          expect(new Set([before, after, old, moved, reopened].map((k) => k.keyMaterialId)).size).toBe(1);
          return;
        }
        expect(after.keyMaterialId).not.toBe(before.keyMaterialId);
        expect(old.keyMaterialId).toBe(before.keyMaterialId);
        expect(moved.keyMaterialId).toBe(after.keyMaterialId);
        expect(reopened.keyMaterialId).toBe(after.keyMaterialId);
        const described = await vault.describeKey(arn);
        if (described.currentKeyMaterialId !== undefined) expect(described.currentKeyMaterialId).toBe(after.keyMaterialId);
      });

      if (!can.tracksKeyMaterial) skipped('a rotation gives new data keys new key material, and rewrap moves old wraps onto it', 'names no key material');
    });

    describe('key states', () => {
      const stateTest = (title: string, body: () => Promise<void>) =>
        can.enforcesKeyStates ? it(title, body) : skipped(title, 'does not enforce KMS key states');

      stateTest('refuses generateDataKey, decrypt, reEncrypt and encrypt under a disabled key with KmsDisabledError', async () => {
        const arn = await newKey();
        const other = await newKey();
        const ctx = context();
        const dk = await vault.generateDataKey(arn, ctx);
        const foreign = await vault.generateDataKey(other, ctx);
        await admin.disableKey(arn);
        expect((await vault.describeKey(arn)).state).toBe('Disabled');
        await expect(vault.generateDataKey(arn, ctx)).rejects.toBeInstanceOf(KmsDisabledError);
        await expect(vault.decrypt(dk.wrapped, ctx)).rejects.toBeInstanceOf(KmsDisabledError);
        await expect(vault.reEncrypt(dk.wrapped, ctx, other)).rejects.toBeInstanceOf(KmsDisabledError);
        await expect(vault.reEncrypt(foreign.wrapped, ctx, arn)).rejects.toBeInstanceOf(KmsDisabledError);
        await expect(vault.encrypt(arn, Buffer.from('s'), {})).rejects.toBeInstanceOf(KmsDisabledError);
      });

      stateTest('serves the key again once re-enabled', async () => {
        const arn = await newKey();
        const ctx = context();
        const dk = await vault.generateDataKey(arn, ctx);
        await admin.disableKey(arn);
        await admin.enableKey(arn);
        expect((await vault.describeKey(arn)).state).toBe('Enabled');
        expect((await vault.decrypt(dk.wrapped, ctx)).plaintext.equals(dk.plaintext)).toBe(true);
        expect((await vault.generateDataKey(arn, ctx)).keyId).toBe(arn);
      });

      stateTest('schedules deletion within 7..30 days and then refuses use with KmsInvalidStateError', async () => {
        const arn = await newKey();
        const ctx = context();
        const dk = await vault.generateDataKey(arn, ctx);
        const deletionDate = await admin.scheduleKeyDeletion(arn, 7);
        expect(Math.abs(deletionDate.getTime() - (Date.now() + 7 * DAY_MS))).toBeLessThan(DAY_MS);
        const d = await vault.describeKey(arn);
        expect(d.state).toBe('PendingDeletion');
        expect(d.deletionDate?.getTime()).toBe(deletionDate.getTime());
        await expect(vault.generateDataKey(arn, ctx)).rejects.toBeInstanceOf(KmsInvalidStateError);
        await expect(vault.decrypt(dk.wrapped, ctx)).rejects.toBeInstanceOf(KmsInvalidStateError);
        await expect(vault.reEncrypt(dk.wrapped, ctx, keyId)).rejects.toBeInstanceOf(KmsInvalidStateError);
        await expect(admin.enableKey(arn)).rejects.toBeInstanceOf(KmsInvalidStateError);
      });

      stateTest('cancelling deletion brings the key back Disabled, as KMS does, and enabling restores it', async () => {
        const arn = await newKey();
        const ctx = context();
        const dk = await vault.generateDataKey(arn, ctx);
        await admin.scheduleKeyDeletion(arn, 30);
        await admin.cancelKeyDeletion(arn);
        const d = await vault.describeKey(arn);
        expect(d.state).toBe('Disabled');
        expect(d.deletionDate).toBeUndefined();
        await expect(vault.decrypt(dk.wrapped, ctx)).rejects.toBeInstanceOf(KmsDisabledError);
        await admin.enableKey(arn);
        expect((await vault.decrypt(dk.wrapped, ctx)).plaintext.equals(dk.plaintext)).toBe(true);
      });
    });
  });
}
