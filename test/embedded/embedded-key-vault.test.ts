// Runs the KeyVault contract against the embedded vault, plus what only it must prove: files, restart, deletion.
import { chmod, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EmbeddedKeyVault } from '../../lambdas/adapters/embedded/embedded-key-vault';
import {
  InvalidArgumentError,
  KmsInvalidCiphertextError,
  KmsInvalidStateError,
  KmsNotFoundError,
} from '../../lambdas/core/errors';
import { describeKeyVaultContract } from '../contract/key-vault.contract';

const DAY_MS = 24 * 60 * 60 * 1000;

describeKeyVaultContract(
  'EmbeddedKeyVault (KeyVault contract)',
  async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sealstore-vault-'));
    const vault = await EmbeddedKeyVault.open(dir);
    const { arn } = await vault.createKey({ alias: 'alias/contract-default' });
    return {
      vault,
      admin: vault,
      keyId: arn,
      cleanup: () => rm(dir, { recursive: true, force: true }),
    };
  },
  { backend: 'the embedded vault', enforcesKeyStates: true, tracksKeyMaterial: true, reportsRotationPeriod: true },
);

describe('EmbeddedKeyVault', () => {
  let dir: string;
  let clock: number;
  const now = () => new Date(clock);
  const ctx = { bucket: 'b', key: 'k' };

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sealstore-vault-'));
    clock = Date.parse('2026-01-01T00:00:00Z');
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  describe('files', () => {
    it('creates root.key as 32 bytes readable by the owner only, in an owner-only directory', async () => {
      await EmbeddedKeyVault.open(dir);
      const info = await stat(join(dir, 'root.key'));
      expect(info.mode & 0o777).toBe(0o600);
      expect(info.size).toBe(32);
      expect((await stat(dir)).mode & 0o777).toBe(0o700);
    });

    it('writes the key database with mode 0600 and leaves no temp files', async () => {
      const vault = await EmbeddedKeyVault.open(dir);
      await vault.createKey({ alias: 'alias/a' });
      expect((await stat(join(dir, 'keys.json'))).mode & 0o777).toBe(0o600);
      expect((await readdir(dir)).sort()).toEqual(['keys.json', 'root.key']);
    });

    it('refuses to start on a root.key that group or others can read', async () => {
      await EmbeddedKeyVault.open(dir);
      await chmod(join(dir, 'root.key'), 0o644);
      await expect(EmbeddedKeyVault.open(dir)).rejects.toThrow(/chmod 600/);
    });

    it('never stores CMK material or data keys in plaintext in the key database', async () => {
      const vault = await EmbeddedKeyVault.open(dir);
      const { arn } = await vault.createKey({ alias: 'alias/a' });
      await vault.rotateKeyOnDemand(arn);
      // The material the vault really uses sits in its in-memory cache (white-box on purpose): none of it,
      // in any common encoding, may appear in the file on disk.
      const materials = [...(vault as unknown as { materialCache: Map<string, Buffer> }).materialCache.values()];
      expect(materials.length).toBe(2);
      const dk = await vault.generateDataKey(arn, ctx);
      const file = await readFile(join(dir, 'keys.json'));
      const text = file.toString('utf8');
      for (const secret of [...materials, dk.plaintext]) {
        for (const encoding of ['hex', 'base64', 'base64url'] as const) expect(text.includes(secret.toString(encoding))).toBe(false);
        expect(file.includes(secret)).toBe(false);
      }
    });

    it('detects a key database edited outside the vault (e.g. re-enabling a disabled key)', async () => {
      const vault = await EmbeddedKeyVault.open(dir);
      const { arn } = await vault.createKey({});
      await vault.disableKey(arn);
      const file = join(dir, 'keys.json');
      const envelope = JSON.parse(await readFile(file, 'utf8')) as { body: string };
      envelope.body = envelope.body.replace('"Disabled"', '"Enabled"');
      await writeFile(file, JSON.stringify(envelope));
      await expect(EmbeddedKeyVault.open(dir)).rejects.toThrow(/failed authentication/);
    });
  });

  describe('restart', () => {
    it('keeps keys, aliases, states, generations and rotation settings across a reopen', async () => {
      const first = await EmbeddedKeyVault.open(dir, { now });
      const { arn } = await first.createKey({ alias: 'alias/kept', description: 'kept' });
      const disabled = (await first.createKey({})).arn;
      const before = await first.generateDataKey(arn, ctx);
      await first.rotateKeyOnDemand(arn);
      await first.enableKeyRotation(arn, 180);
      await first.disableKey(disabled);

      const second = await EmbeddedKeyVault.open(dir, { now });
      expect(await second.resolveKeyId('alias/kept')).toBe(arn);
      const back = await second.decrypt(before.wrapped, ctx);
      expect(back.plaintext.equals(before.plaintext)).toBe(true);
      expect(back.keyMaterialId).toBe('1');
      expect((await second.generateDataKey(arn, ctx)).keyMaterialId).toBe('2');
      expect((await second.describeKey(disabled)).state).toBe('Disabled');
      expect(await second.getKeyRotationStatus(arn)).toEqual({
        enabled: true,
        rotationPeriodDays: 180,
        nextRotationDate: new Date(clock + 180 * DAY_MS),
      });
      expect((await second.describeKey(arn)).description).toBe('kept');
    });

    it('cannot open wraps made under another vault (another root key)', async () => {
      const vault = await EmbeddedKeyVault.open(dir);
      const { arn } = await vault.createKey({});
      const dk = await vault.generateDataKey(arn, ctx);
      const other = await EmbeddedKeyVault.open(join(dir, 'other'));
      await expect(other.decrypt(dk.wrapped, ctx)).rejects.toBeInstanceOf(KmsNotFoundError);
    });
  });

  describe('deletion', () => {
    it('destroys the material once the pending window has passed: wraps can never be opened again', async () => {
      const vault = await EmbeddedKeyVault.open(dir, { now });
      const { arn, keyId } = await vault.createKey({ alias: 'alias/doomed' });
      const dk = await vault.generateDataKey(arn, ctx);
      const secret = await vault.encrypt(arn, Buffer.from('access key secret'), ctx);
      await vault.scheduleKeyDeletion(arn, 7);

      clock += 7 * DAY_MS - 1000;
      await expect(vault.decrypt(dk.wrapped, ctx)).rejects.toBeInstanceOf(KmsInvalidStateError);
      expect((await vault.describeKey(arn)).state).toBe('PendingDeletion');

      clock += 2000;
      await expect(vault.decrypt(dk.wrapped, ctx)).rejects.toBeInstanceOf(KmsNotFoundError);
      await expect(vault.decrypt(secret, ctx)).rejects.toBeInstanceOf(KmsNotFoundError);
      await expect(vault.describeKey(arn)).rejects.toBeInstanceOf(KmsNotFoundError);
      await expect(vault.resolveKeyId('alias/doomed')).rejects.toBeInstanceOf(KmsNotFoundError);
      await expect(vault.cancelKeyDeletion(arn)).rejects.toBeInstanceOf(KmsNotFoundError);
      expect((await vault.listKeys()).map((k) => k.arn)).not.toContain(arn);

      const text = await readFile(join(dir, 'keys.json'), 'utf8');
      expect(text.includes(keyId)).toBe(false);
      const reopened = await EmbeddedKeyVault.open(dir, { now });
      await expect(reopened.decrypt(dk.wrapped, ctx)).rejects.toBeInstanceOf(KmsNotFoundError);
    });

    it('applies a deletion that fell due while the vault was closed, at the next open', async () => {
      const first = await EmbeddedKeyVault.open(dir, { now });
      const { arn, keyId } = await first.createKey({});
      await first.scheduleKeyDeletion(arn, 30);
      clock += 31 * DAY_MS;
      await EmbeddedKeyVault.open(dir, { now });
      expect((await readFile(join(dir, 'keys.json'), 'utf8')).includes(keyId)).toBe(false);
    });

    it('refuses to schedule a key already pending deletion, and to cancel one that is not', async () => {
      const vault = await EmbeddedKeyVault.open(dir, { now });
      const { arn } = await vault.createKey({});
      await expect(vault.cancelKeyDeletion(arn)).rejects.toBeInstanceOf(KmsInvalidStateError);
      await vault.scheduleKeyDeletion(arn, 10);
      await expect(vault.scheduleKeyDeletion(arn, 10)).rejects.toBeInstanceOf(KmsInvalidStateError);
      await expect(vault.disableKey(arn)).rejects.toBeInstanceOf(KmsInvalidStateError);
    });
  });

  describe('rotation', () => {
    it('rotates automatically once the rotation date has passed, keeping old material for decrypt', async () => {
      const vault = await EmbeddedKeyVault.open(dir, { now });
      const { arn } = await vault.createKey({});
      await vault.enableKeyRotation(arn, 90);
      const before = await vault.generateDataKey(arn, ctx);
      clock += 90 * DAY_MS + 1;
      const after = await vault.generateDataKey(arn, ctx);
      expect(before.keyMaterialId).toBe('1');
      expect(after.keyMaterialId).toBe('2');
      expect((await vault.decrypt(before.wrapped, ctx)).keyMaterialId).toBe('1');
      expect((await vault.getKeyRotationStatus(arn)).nextRotationDate).toEqual(new Date(clock + 90 * DAY_MS));
    });

    it('rejects rotation periods outside KMS bounds (90..2560 days)', async () => {
      const vault = await EmbeddedKeyVault.open(dir);
      const { arn } = await vault.createKey({});
      await expect(vault.enableKeyRotation(arn, 89)).rejects.toBeInstanceOf(InvalidArgumentError);
      await expect(vault.enableKeyRotation(arn, 2561)).rejects.toBeInstanceOf(InvalidArgumentError);
    });

    it('stops rotating when rotation is disabled', async () => {
      const vault = await EmbeddedKeyVault.open(dir, { now });
      const { arn } = await vault.createKey({});
      await vault.enableKeyRotation(arn, 90);
      await vault.disableKeyRotation(arn);
      clock += 400 * DAY_MS;
      expect((await vault.generateDataKey(arn, ctx)).keyMaterialId).toBe('1');
      expect(await vault.getKeyRotationStatus(arn)).toEqual({ enabled: false });
    });
  });

  describe('wrapped key layout', () => {
    it('names the CMK and generation in a versioned header', async () => {
      const vault = await EmbeddedKeyVault.open(dir);
      const { arn, keyId } = await vault.createKey({});
      await vault.rotateKeyOnDemand(arn);
      const dk = await vault.generateDataKey(arn, ctx);
      expect(dk.wrapped.readUInt8(0)).toBe(1);
      expect(dk.wrapped.subarray(1, 17).toString('hex')).toBe(keyId.replace(/-/g, ''));
      expect(dk.wrapped.readUInt32BE(17)).toBe(2);
      expect(dk.wrapped.length).toBe(33 + 32 + 16);
    });

    it('rejects a wrap whose header was edited to name another generation', async () => {
      const vault = await EmbeddedKeyVault.open(dir);
      const { arn } = await vault.createKey({});
      const dk = await vault.generateDataKey(arn, ctx);
      await vault.rotateKeyOnDemand(arn);
      const forged = Buffer.from(dk.wrapped);
      forged.writeUInt32BE(2, 17);
      await expect(vault.decrypt(forged, ctx)).rejects.toBeInstanceOf(KmsInvalidCiphertextError);
      forged.writeUInt32BE(9, 17);
      await expect(vault.decrypt(forged, ctx)).rejects.toBeInstanceOf(KmsInvalidCiphertextError);
    });

    it('rejects an unknown version and garbage as InvalidCiphertext', async () => {
      const vault = await EmbeddedKeyVault.open(dir);
      const { arn } = await vault.createKey({});
      const dk = await vault.generateDataKey(arn, ctx);
      const forged = Buffer.from(dk.wrapped);
      forged.writeUInt8(2, 0);
      await expect(vault.decrypt(forged, ctx)).rejects.toBeInstanceOf(KmsInvalidCiphertextError);
      await expect(vault.decrypt(Buffer.from('not a key'), ctx)).rejects.toBeInstanceOf(KmsInvalidCiphertextError);
    });
  });

  describe('arguments', () => {
    it('rejects encrypt of more than 4 KiB or of nothing, as KMS does', async () => {
      const vault = await EmbeddedKeyVault.open(dir);
      const { arn } = await vault.createKey({});
      await expect(vault.encrypt(arn, Buffer.alloc(4097), {})).rejects.toBeInstanceOf(InvalidArgumentError);
      await expect(vault.encrypt(arn, Buffer.alloc(0), {})).rejects.toBeInstanceOf(InvalidArgumentError);
    });

    it('rejects malformed, reserved and duplicate aliases', async () => {
      const vault = await EmbeddedKeyVault.open(dir);
      await vault.createKey({ alias: 'alias/taken' });
      for (const alias of ['taken', 'alias/', 'alias/aws/s3', 'alias/sp ace', 'alias/taken']) {
        await expect(vault.createKey({ alias })).rejects.toBeInstanceOf(InvalidArgumentError);
      }
      expect((await vault.listKeys()).length).toBe(1);
    });

    it('does not resolve an ARN of another region or account', async () => {
      const vault = await EmbeddedKeyVault.open(dir, { region: 'eu-west-1', accountId: '123456789012' });
      const { arn } = await vault.createKey({});
      expect(arn).toMatch(/^arn:aws:kms:eu-west-1:123456789012:key\//);
      await expect(vault.resolveKeyId(arn.replace('eu-west-1', 'us-east-1'))).rejects.toBeInstanceOf(KmsNotFoundError);
    });
  });

  it('serialises concurrent management changes so none is lost', async () => {
    const vault = await EmbeddedKeyVault.open(dir);
    await Promise.all(Array.from({ length: 20 }, (_, i) => vault.createKey({ alias: `alias/k${i}` })));
    const reopened = await EmbeddedKeyVault.open(dir);
    expect((await reopened.listKeys()).length).toBe(20);
    for (let i = 0; i < 20; i++) await expect(reopened.resolveKeyId(`alias/k${i}`)).resolves.toMatch(/^arn:/);
  });
});
