// KmsKeyVault over the wire against moto_server: the KeyVault/KeyAdmin contract, then KMS specifics.
import { KmsKeyVault, UNNAMED_KEY_MATERIAL } from '../../lambdas/adapters/aws/kms-key-vault';
import { InvalidArgumentError, KmsAccessDeniedError } from '../../lambdas/core/errors';
import { describeKeyVaultContract } from '../contract/key-vault.contract';
import { describeWithMoto } from '../support/moto';
import { motoClients } from './moto-clients';

describeWithMoto('KmsKeyVault (moto_server)', (moto) => {
  describeKeyVaultContract(
    'KeyVault + KeyAdmin contract',
    async () => {
      const vault = new KmsKeyVault({ client: motoClients(moto().endpoint).kms });
      const { arn } = await vault.createKey({ description: 'contract default key' });
      return { vault, admin: vault, keyId: arn, cleanup: async () => undefined };
    },
    // moto 5.2 neither enforces key states nor names key material nor reports a rotation period (see the tests below).
    { backend: 'moto 5.2', enforcesKeyStates: false, tracksKeyMaterial: false, reportsRotationPeriod: false },
  );

  describe('KMS specifics', () => {
    let vault: KmsKeyVault;
    beforeAll(() => {
      vault = new KmsKeyVault({ client: motoClients(moto().endpoint).kms });
    });

    // Guards the enforcesKeyStates: false above: should moto start enforcing states, this fails and
    // the contract's key-state tests can be switched on for moto.
    it('runs on an emulator that tracks but does not enforce key states (why key-state tests skip on moto)', async () => {
      const { arn } = await vault.createKey({});
      const ctx = { object: 'states' };
      const dk = await vault.generateDataKey(arn, ctx);
      await vault.disableKey(arn);
      expect((await vault.describeKey(arn)).state).toBe('Disabled');
      expect((await vault.decrypt(dk.wrapped, ctx)).plaintext.equals(dk.plaintext)).toBe(true);
      await vault.scheduleKeyDeletion(arn, 7);
      expect((await vault.describeKey(arn)).state).toBe('PendingDeletion');
      expect((await vault.generateDataKey(arn, ctx)).plaintext.length).toBe(32);
    });

    it('walks a key through disable, enable, scheduled deletion and cancellation, by ARN', async () => {
      const { arn } = await vault.createKey({});
      await vault.disableKey(arn);
      expect((await vault.describeKey(arn)).state).toBe('Disabled');
      await vault.enableKey(arn);
      expect((await vault.describeKey(arn)).state).toBe('Enabled');
      const deletionDate = await vault.scheduleKeyDeletion(arn, 7);
      expect(Math.abs(deletionDate.getTime() - (Date.now() + 7 * 86_400_000))).toBeLessThan(86_400_000);
      const pending = await vault.describeKey(arn);
      expect(pending.state).toBe('PendingDeletion');
      expect(pending.deletionDate?.getTime()).toBe(deletionDate.getTime());
      await vault.cancelKeyDeletion(arn);
      const cancelled = await vault.describeKey(arn);
      expect(cancelled.state).toBe('Disabled');
      expect(cancelled.deletionDate).toBeUndefined();
    });

    it('falls back to a stable key material id when KMS names none (moto)', async () => {
      const { arn } = await vault.createKey({});
      const a = await vault.generateDataKey(arn, { o: '1' });
      await vault.rotateKeyOnDemand(arn);
      const b = await vault.generateDataKey(arn, { o: '2' });
      expect([a.keyMaterialId, b.keyMaterialId]).toEqual([UNNAMED_KEY_MATERIAL, UNNAMED_KEY_MATERIAL]);
      expect((await vault.describeKey(arn)).currentKeyMaterialId).toBe(UNNAMED_KEY_MATERIAL);
    });

    it('refuses to decrypt a data key wrapped under a CMK outside trustedKeyIds', async () => {
      const trusted = (await vault.createKey({})).arn;
      const foreign = (await vault.createKey({})).arn;
      const strict = new KmsKeyVault({ client: motoClients(moto().endpoint).kms, trustedKeyIds: [trusted] });
      const ctx = { object: 'o1' };
      const planted = await vault.generateDataKey(foreign, ctx);
      await expect(strict.decrypt(planted.wrapped, ctx)).rejects.toBeInstanceOf(KmsAccessDeniedError);
      await expect(strict.decrypt(planted.wrapped, ctx)).rejects.toThrow(foreign);
      const own = await strict.generateDataKey(trusted, ctx);
      expect((await strict.decrypt(own.wrapped, ctx)).plaintext.equals(own.plaintext)).toBe(true);
    });

    it('refuses to launder a foreign data key into a trusted CMK by rewrap', async () => {
      const trusted = (await vault.createKey({})).arn;
      const foreign = (await vault.createKey({})).arn;
      const strict = new KmsKeyVault({ client: motoClients(moto().endpoint).kms, trustedKeyIds: [trusted] });
      const planted = await vault.generateDataKey(foreign, { object: 'o2' });
      await expect(strict.reEncrypt(planted.wrapped, { object: 'o2' }, trusted)).rejects.toBeInstanceOf(
        KmsAccessDeniedError,
      );
    });

    it('lists keys with their aliases', async () => {
      const created = await vault.createKey({ alias: 'listed-key' });
      expect(created.aliases).toEqual(['alias/listed-key']);
      const listed = (await vault.listKeys()).find((key) => key.arn === created.arn);
      expect(listed?.aliases).toEqual(['alias/listed-key']);
    });

    it.each([0, 89, 2561, 90.5])('rejects a rotation period of %d days with InvalidArgumentError', async (days) => {
      const { arn } = await vault.createKey({});
      await expect(vault.enableKeyRotation(arn, days)).rejects.toBeInstanceOf(InvalidArgumentError);
    });

    it('rejects a plaintext over 4 KiB before calling KMS', async () => {
      const { arn } = await vault.createKey({});
      await expect(vault.encrypt(arn, Buffer.alloc(4097), {})).rejects.toBeInstanceOf(InvalidArgumentError);
    });
  });
});
