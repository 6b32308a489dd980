// The KeyVault and KeyAdmin ports over AWS KMS: data keys, rewrap, and the CMK lifecycle.
import {
  CancelKeyDeletionCommand,
  CreateAliasCommand,
  CreateKeyCommand,
  DecryptCommand,
  DescribeKeyCommand,
  DisableKeyCommand,
  EnableKeyCommand,
  EnableKeyRotationCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  GetKeyRotationStatusCommand,
  ListAliasesCommand,
  ListKeysCommand,
  ReEncryptCommand,
  RotateKeyOnDemandCommand,
  ScheduleKeyDeletionCommand,
  type KeyMetadata,
  type KMSClient,
} from '@aws-sdk/client-kms';
import { InternalError, InvalidArgumentError, KmsUntrustedKeyError } from '../../core/errors';
import type {
  DataKey,
  EncryptionContext,
  KeyAdmin,
  KeyDescription,
  KeyRotationStatus,
  KeyState,
  KeyVault,
  RewrappedKey,
  UnwrappedKey,
} from '../../core/ports';
import { mapKmsError } from './kms-errors';

/**
 * The key-material id recorded when KMS does not name one. Current KMS returns KeyMaterialId on
 * GenerateDataKey/Decrypt/ReEncrypt and CurrentKeyMaterialId on DescribeKey; emulators (moto 5.2) and
 * older endpoints return none. All material of such a CMK is then treated as one generation, the same
 * constant on both sides, so the rotation job sees "already current" instead of rewrapping forever.
 */
export const UNNAMED_KEY_MATERIAL = 'current';

/** KMS bounds (ScheduleKeyDeletion PendingWindowInDays; EnableKeyRotation RotationPeriodInDays). */
export const PENDING_WINDOW_DAYS = { min: 7, max: 30 } as const;
export const ROTATION_PERIOD_DAYS = { min: 90, max: 2560 } as const;

/** KMS caps Encrypt plaintext at 4096 bytes. */
const MAX_ENCRYPT_BYTES = 4096;

const KNOWN_STATES: ReadonlySet<string> = new Set<KeyState>([
  'Enabled',
  'Disabled',
  'PendingDeletion',
  'PendingImport',
  'Unavailable',
  'Creating',
]);

/** Said when neither KMS's message nor the caller names the CMK: Decrypt and ReEncrypt let the ciphertext pick it. */
const CIPHERTEXT_KEY = 'named by the ciphertext';

/**
 * What a caller may know beyond the KeyVault port's arguments, for error messages only (never enforced):
 * the CMK the index records for this ciphertext. KMS usually names the key itself; this covers messages
 * that do not.
 */
export interface KmsCallHints {
  readonly keyIdHint?: string;
}

export interface KmsKeyVaultOptions {
  readonly client: KMSClient;
  /**
   * Key ARNs this store trusts. When set, a Decrypt or ReEncrypt whose ciphertext turns out to be
   * wrapped under any other CMK is refused: without it, whoever can write the index could plant a data
   * key under a CMK of their own that our role happens to be allowed to use.
   */
  readonly trustedKeyIds?: readonly string[];
}

const bytes = (value: Uint8Array | undefined, what: string): Buffer => {
  if (value === undefined) throw new InternalError(`KMS response lacks ${what}`);
  return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
};

const required = (value: string | undefined, what: string): string => {
  if (value === undefined || value === '') throw new InternalError(`KMS response lacks ${what}`);
  return value;
};

const toState = (state: string | undefined): KeyState =>
  state !== undefined && KNOWN_STATES.has(state) ? (state as KeyState) : 'Unavailable';

/**
 * EnableKey, DisableKey, ScheduleKeyDeletion and CancelKeyDeletion accept a key id or a key ARN and
 * work only on keys of the caller's own account, so the bare id is the same request. moto 5.2 answers
 * these four with HTTP 500 when given an ARN, hence the id.
 */
const bareKeyId = (ref: string): string => /^arn:[^:]+:kms:[^:]*:[^:]*:key\/(.+)$/.exec(ref)?.[1] ?? ref;

const withAliasPrefix = (alias: string): string => (alias.startsWith('alias/') ? alias : `alias/${alias}`);

function toDescription(meta: KeyMetadata | undefined, aliases?: readonly string[]): KeyDescription {
  if (meta === undefined) throw new InternalError('KMS response lacks KeyMetadata');
  return {
    keyId: required(meta.KeyId, 'KeyId'),
    arn: required(meta.Arn, 'Arn'),
    state: toState(meta.KeyState),
    createdAt: meta.CreationDate ?? new Date(0),
    ...(meta.DeletionDate !== undefined && { deletionDate: meta.DeletionDate }),
    currentKeyMaterialId: meta.CurrentKeyMaterialId ?? UNNAMED_KEY_MATERIAL,
    ...(aliases !== undefined && { aliases }),
    ...(meta.Description !== undefined && meta.Description !== '' && { description: meta.Description }),
  };
}

function checkInteger(value: number, bounds: { min: number; max: number }, what: string): void {
  if (!Number.isInteger(value) || value < bounds.min || value > bounds.max) {
    throw new InvalidArgumentError(`${what} must be an integer from ${bounds.min} to ${bounds.max}, got ${value}`);
  }
}

export class KmsKeyVault implements KeyVault, KeyAdmin {
  private readonly client: KMSClient;
  private readonly trusted: ReadonlySet<string> | undefined;

  constructor(options: KmsKeyVaultOptions) {
    this.client = options.client;
    this.trusted = options.trustedKeyIds === undefined ? undefined : new Set(options.trustedKeyIds);
  }

  async generateDataKey(keyId: string, context: EncryptionContext): Promise<DataKey> {
    try {
      const out = await this.client.send(
        new GenerateDataKeyCommand({ KeyId: keyId, KeySpec: 'AES_256', EncryptionContext: { ...context } }),
      );
      return {
        plaintext: bytes(out.Plaintext, 'Plaintext'),
        wrapped: bytes(out.CiphertextBlob, 'CiphertextBlob'),
        keyId: required(out.KeyId, 'KeyId'),
        keyMaterialId: out.KeyMaterialId ?? UNNAMED_KEY_MATERIAL,
      };
    } catch (error) {
      throw mapKmsError(error, 'GenerateDataKey', keyId);
    }
  }

  async decrypt(wrapped: Buffer, context: EncryptionContext, hints: KmsCallHints = {}): Promise<UnwrappedKey> {
    // No KeyId: the ciphertext names its CMK, and that is what lets a GET work after a rewrap.
    let out;
    try {
      out = await this.client.send(new DecryptCommand({ CiphertextBlob: wrapped, EncryptionContext: { ...context } }));
    } catch (error) {
      throw mapKmsError(error, 'Decrypt', hints.keyIdHint ?? CIPHERTEXT_KEY);
    }
    const plaintext = bytes(out.Plaintext, 'Plaintext');
    const keyId = required(out.KeyId, 'KeyId');
    if (!this.trusts(keyId)) {
      plaintext.fill(0);
      throw new KmsUntrustedKeyError(`KMS Decrypt with key ${keyId}: key is not trusted by this store`);
    }
    return { plaintext, keyId, keyMaterialId: out.KeyMaterialId ?? UNNAMED_KEY_MATERIAL };
  }

  async reEncrypt(wrapped: Buffer, context: EncryptionContext, destinationKeyId: string, hints: KmsCallHints = {}): Promise<RewrappedKey> {
    let out;
    try {
      out = await this.client.send(
        new ReEncryptCommand({
          CiphertextBlob: wrapped,
          SourceEncryptionContext: { ...context },
          DestinationKeyId: destinationKeyId,
          DestinationEncryptionContext: { ...context },
        }),
      );
    } catch (error) {
      // Either end may be the one refused (a disabled source, a destination pending deletion): without KMS
      // naming it, name both.
      throw mapKmsError(error, 'ReEncrypt', `${hints.keyIdHint ?? CIPHERTEXT_KEY} (destination ${destinationKeyId})`);
    }
    // Rewrapping a foreign data key under our CMK would launder it into a trusted one.
    const sourceKeyId = required(out.SourceKeyId, 'SourceKeyId');
    if (!this.trusts(sourceKeyId)) {
      throw new KmsUntrustedKeyError(`KMS ReEncrypt from key ${sourceKeyId}: key is not trusted by this store`);
    }
    return {
      wrapped: bytes(out.CiphertextBlob, 'CiphertextBlob'),
      keyId: required(out.KeyId, 'KeyId'),
      keyMaterialId: out.DestinationKeyMaterialId ?? UNNAMED_KEY_MATERIAL,
    };
  }

  async describeKey(keyId: string): Promise<KeyDescription> {
    try {
      const out = await this.client.send(new DescribeKeyCommand({ KeyId: keyId }));
      return toDescription(out.KeyMetadata);
    } catch (error) {
      throw mapKmsError(error, 'DescribeKey', keyId);
    }
  }

  async encrypt(keyId: string, plaintext: Buffer, context: EncryptionContext): Promise<Buffer> {
    if (plaintext.length > MAX_ENCRYPT_BYTES) {
      throw new InvalidArgumentError(`KMS Encrypt takes at most ${MAX_ENCRYPT_BYTES} bytes, got ${plaintext.length}`);
    }
    try {
      const out = await this.client.send(
        new EncryptCommand({ KeyId: keyId, Plaintext: plaintext, EncryptionContext: { ...context } }),
      );
      return bytes(out.CiphertextBlob, 'CiphertextBlob');
    } catch (error) {
      throw mapKmsError(error, 'Encrypt', keyId);
    }
  }

  // ── KeyAdmin ────────────────────────────────────────────────────────────────────────────────────

  async createKey(options: { alias?: string; description?: string }): Promise<KeyDescription> {
    let meta: KeyMetadata | undefined;
    try {
      const out = await this.client.send(
        new CreateKeyCommand({
          KeySpec: 'SYMMETRIC_DEFAULT',
          KeyUsage: 'ENCRYPT_DECRYPT',
          ...(options.description !== undefined && { Description: options.description }),
        }),
      );
      meta = out.KeyMetadata;
    } catch (error) {
      throw mapKmsError(error, 'CreateKey', options.alias ?? '(new key)');
    }
    const created = toDescription(meta);
    if (options.alias === undefined) return { ...created, aliases: [] };
    const alias = withAliasPrefix(options.alias);
    await this.createAlias(alias, created.arn);
    return { ...created, aliases: [alias] };
  }

  async resolveKeyId(aliasOrKeyId: string): Promise<string> {
    // DescribeKey accepts all four forms (key id, key ARN, alias name, alias ARN) and answers the ARN.
    return (await this.describeKey(aliasOrKeyId)).arn;
  }

  async listKeys(): Promise<KeyDescription[]> {
    const aliases = await this.aliasesByKey();
    const keyIds: string[] = [];
    let marker: string | undefined;
    try {
      do {
        const out = await this.client.send(new ListKeysCommand({ ...(marker !== undefined && { Marker: marker }) }));
        for (const entry of out.Keys ?? []) if (entry.KeyId !== undefined) keyIds.push(entry.KeyId);
        marker = out.Truncated === true ? out.NextMarker : undefined;
      } while (marker !== undefined);
    } catch (error) {
      throw mapKmsError(error, 'ListKeys', '(all keys)');
    }
    const keys: KeyDescription[] = [];
    for (const keyId of keyIds) {
      const key = await this.describeKey(keyId);
      keys.push({ ...key, aliases: aliases.get(key.keyId) ?? [] });
    }
    return keys;
  }

  async createAlias(alias: string, keyId: string): Promise<void> {
    const name = withAliasPrefix(alias);
    try {
      await this.client.send(new CreateAliasCommand({ AliasName: name, TargetKeyId: keyId }));
    } catch (error) {
      throw mapKmsError(error, `CreateAlias ${name}`, keyId);
    }
  }

  async enableKey(keyId: string): Promise<void> {
    await this.call('EnableKey', keyId, () => this.client.send(new EnableKeyCommand({ KeyId: bareKeyId(keyId) })));
  }

  async disableKey(keyId: string): Promise<void> {
    await this.call('DisableKey', keyId, () => this.client.send(new DisableKeyCommand({ KeyId: bareKeyId(keyId) })));
  }

  async scheduleKeyDeletion(keyId: string, pendingWindowDays: number): Promise<Date> {
    checkInteger(pendingWindowDays, PENDING_WINDOW_DAYS, 'pending window (days)');
    const out = await this.call('ScheduleKeyDeletion', keyId, () =>
      this.client.send(new ScheduleKeyDeletionCommand({ KeyId: bareKeyId(keyId), PendingWindowInDays: pendingWindowDays })),
    );
    return out.DeletionDate ?? new Date(Date.now() + pendingWindowDays * 86_400_000);
  }

  async cancelKeyDeletion(keyId: string): Promise<void> {
    await this.call('CancelKeyDeletion', keyId, () => this.client.send(new CancelKeyDeletionCommand({ KeyId: bareKeyId(keyId) })));
  }

  async enableKeyRotation(keyId: string, rotationPeriodDays: number): Promise<void> {
    checkInteger(rotationPeriodDays, ROTATION_PERIOD_DAYS, 'rotation period (days)');
    await this.call('EnableKeyRotation', keyId, () =>
      this.client.send(new EnableKeyRotationCommand({ KeyId: keyId, RotationPeriodInDays: rotationPeriodDays })),
    );
  }

  async getKeyRotationStatus(keyId: string): Promise<KeyRotationStatus> {
    const out = await this.call('GetKeyRotationStatus', keyId, () =>
      this.client.send(new GetKeyRotationStatusCommand({ KeyId: keyId })),
    );
    return {
      enabled: out.KeyRotationEnabled === true,
      ...(out.RotationPeriodInDays !== undefined && { rotationPeriodDays: out.RotationPeriodInDays }),
      ...(out.NextRotationDate !== undefined && { nextRotationDate: out.NextRotationDate }),
    };
  }

  async rotateKeyOnDemand(keyId: string): Promise<void> {
    await this.call('RotateKeyOnDemand', keyId, () => this.client.send(new RotateKeyOnDemandCommand({ KeyId: keyId })));
  }

  /** Whether the store may use this CMK (every key, when no trusted list was configured). */
  trusts(keyArn: string): boolean {
    return this.trusted === undefined || this.trusted.has(keyArn);
  }

  private async call<T>(operation: string, keyId: string, send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (error) {
      throw mapKmsError(error, operation, keyId);
    }
  }

  /** Alias names of one CMK (ListAliases filtered by KeyId): DescribeKey names none. */
  async aliasesOf(keyId: string): Promise<string[]> {
    const names: string[] = [];
    let marker: string | undefined;
    try {
      do {
        const out = await this.client.send(new ListAliasesCommand({ KeyId: bareKeyId(keyId), ...(marker !== undefined && { Marker: marker }) }));
        for (const alias of out.Aliases ?? []) if (alias.AliasName !== undefined) names.push(alias.AliasName);
        marker = out.Truncated === true ? out.NextMarker : undefined;
      } while (marker !== undefined);
    } catch (error) {
      throw mapKmsError(error, 'ListAliases', keyId);
    }
    return names.sort();
  }

  /** Alias names grouped by target key id (ListAliases names keys by id, not ARN). */
  private async aliasesByKey(): Promise<Map<string, string[]>> {
    const byKey = new Map<string, string[]>();
    let marker: string | undefined;
    try {
      do {
        const out = await this.client.send(new ListAliasesCommand({ ...(marker !== undefined && { Marker: marker }) }));
        for (const alias of out.Aliases ?? []) {
          if (alias.TargetKeyId === undefined || alias.AliasName === undefined) continue;
          byKey.set(alias.TargetKeyId, [...(byKey.get(alias.TargetKeyId) ?? []), alias.AliasName]);
        }
        marker = out.Truncated === true ? out.NextMarker : undefined;
      } while (marker !== undefined);
    } catch (error) {
      throw mapKmsError(error, 'ListAliases', '(all keys)');
    }
    return byKey;
  }
}
