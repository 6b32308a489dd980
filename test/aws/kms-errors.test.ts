// Key-state failures of Decrypt and ReEncrypt name the CMK: KMS's own message names it (the ciphertext, not the
// caller, picked the key), else the caller's hint. Mocked with aws-sdk-client-mock because moto cannot produce
// these errors: it tracks key states but never refuses a disabled or pending-deletion key (kms-key-vault.test.ts).
import {
  DecryptCommand,
  DisabledException,
  GenerateDataKeyCommand,
  KMSClient,
  KMSInvalidStateException,
  KMSServiceException,
  ReEncryptCommand,
} from '@aws-sdk/client-kms';
import { mockClient, type AwsClientStub } from 'aws-sdk-client-mock';
import { keyArnInMessage, mapKmsError } from '../../lambdas/adapters/aws/kms-errors';
import { KmsKeyVault } from '../../lambdas/adapters/aws/kms-key-vault';
import { KmsAccessDeniedError, KmsDisabledError, KmsInvalidStateError } from '../../lambdas/core/errors';

const OLD = 'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const NEW = 'arn:aws:kms:us-east-1:111122223333:key/0987dcba-09fe-87dc-65ba-ab0987654321';
const metadata = { httpStatusCode: 400 };
const disabled = (message: string) => new DisabledException({ $metadata: metadata, message });
const pending = (message: string) => new KMSInvalidStateException({ $metadata: metadata, message });

/** The error a promise rejects with (fails the test if it resolves). */
async function failure(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    if (e instanceof Error) return e;
    throw e;
  }
  throw new Error('expected a rejection');
}

describe('keyArnInMessage', () => {
  it('finds the key ARN in the messages KMS sends for disabled and pending-deletion keys', () => {
    expect(keyArnInMessage(disabled(`${OLD} is disabled.`))).toBe(OLD);
    expect(keyArnInMessage(pending(`${NEW} is pending deletion.`))).toBe(NEW);
  });

  it('finds key ARNs of every partition and multi-Region keys', () => {
    for (const arn of [
      'arn:aws-cn:kms:cn-north-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab',
      'arn:aws-us-gov:kms:us-gov-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab',
      'arn:aws:kms:eu-west-1:111122223333:key/mrk-1234abcd12ab34cd56ef1234567890ab',
    ]) {
      expect(keyArnInMessage(new Error(`${arn} is disabled.`))).toBe(arn);
    }
  });

  it('takes the key out of an AccessDenied message, not the caller\'s role ARN before it', () => {
    const message = `User: arn:aws:sts::111122223333:assumed-role/api/fn is not authorized to perform: kms:Decrypt on resource: ${OLD} because no identity-based policy allows the kms:Decrypt action`;
    expect(keyArnInMessage(new Error(message))).toBe(OLD);
  });

  it('ignores alias ARNs and messages that name no key', () => {
    expect(keyArnInMessage(new Error('Alias arn:aws:kms:us-east-1:111122223333:alias/sealstore is not found.'))).toBeUndefined();
    expect(keyArnInMessage(new Error('Rate exceeded'))).toBeUndefined();
    expect(keyArnInMessage('arn:aws:kms:us-east-1:111122223333:key/not-an-error')).toBeUndefined();
  });
});

describe('mapKmsError', () => {
  it('prefers the ARN KMS names over the caller\'s description, keeping the class and the cause', () => {
    const cause = disabled(`${OLD} is disabled.`);
    const mapped = mapKmsError(cause, 'Decrypt', 'named by the ciphertext');
    expect(mapped).toBeInstanceOf(KmsDisabledError);
    expect(mapped.message).toBe(`KMS Decrypt with key ${OLD}: key is disabled`);
    expect(mapped.cause).toBe(cause);
  });

  it('keeps the caller\'s key when KMS names none', () => {
    expect(mapKmsError(pending('Key is pending deletion.'), 'GenerateDataKey', 'alias/sealstore').message).toBe(
      'KMS GenerateDataKey with key alias/sealstore: key is not in a usable state (pending deletion or import?)',
    );
  });
});

describe('KmsKeyVault key-state errors on Decrypt and ReEncrypt (mocked: moto never refuses a key for its state)', () => {
  let kms: AwsClientStub<KMSClient>;
  beforeAll(() => {
    kms = mockClient(KMSClient);
  });
  afterEach(() => kms.reset());
  afterAll(() => kms.restore());
  const vault = () => new KmsKeyVault({ client: new KMSClient({ region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } }) });
  const wrapped = Buffer.from('wrapped data key');
  const ctx = { 'sealstore:bucket': 'b', 'sealstore:object': 'o' };

  it('a Decrypt under a disabled CMK fails with 403 KMS.DisabledException naming the key KMS refused', async () => {
    kms.on(DecryptCommand).rejects(disabled(`${OLD} is disabled.`));
    const error = await failure(vault().decrypt(wrapped, ctx));
    expect(error).toBeInstanceOf(KmsDisabledError);
    expect(error).toMatchObject({ code: 'KMS.DisabledException', statusCode: 403 });
    expect(error.message).toContain(OLD);
    expect(error.message).not.toContain('named by the ciphertext');
  });

  it('a Decrypt under a CMK pending deletion fails with 403 KMS.KMSInvalidStateException naming the key', async () => {
    kms.on(DecryptCommand).rejects(pending(`${OLD} is pending deletion.`));
    const error = await failure(vault().decrypt(wrapped, ctx));
    expect(error).toBeInstanceOf(KmsInvalidStateError);
    expect(error).toMatchObject({ code: 'KMS.KMSInvalidStateException', statusCode: 403 });
    expect(error.message).toContain(OLD);
  });

  it('names the key id the caller expected when KMS\'s message names none', async () => {
    kms.on(DecryptCommand).rejects(disabled('The key is disabled.'));
    const error = await failure(vault().decrypt(wrapped, ctx, { keyIdHint: OLD }));
    expect(error).toBeInstanceOf(KmsDisabledError);
    expect(error.message).toBe(`KMS Decrypt with key ${OLD}: key is disabled`);
  });

  it('says the ciphertext names the key when neither KMS nor the caller does', async () => {
    kms.on(DecryptCommand).rejects(disabled('The key is disabled.'));
    expect((await failure(vault().decrypt(wrapped, ctx))).message).toBe('KMS Decrypt with key named by the ciphertext: key is disabled');
  });

  it('a ReEncrypt from a disabled source CMK names the source, not the destination', async () => {
    kms.on(ReEncryptCommand).rejects(disabled(`${OLD} is disabled.`));
    const error = await failure(vault().reEncrypt(wrapped, ctx, NEW));
    expect(error).toBeInstanceOf(KmsDisabledError);
    expect(error.message).toContain(OLD);
    expect(error.message).not.toContain(NEW);
  });

  it('a ReEncrypt to a destination pending deletion names the destination', async () => {
    kms.on(ReEncryptCommand).rejects(pending(`${NEW} is pending deletion.`));
    const error = await failure(vault().reEncrypt(wrapped, ctx, NEW, { keyIdHint: OLD }));
    expect(error).toBeInstanceOf(KmsInvalidStateError);
    expect(error.message).toBe(`KMS ReEncrypt with key ${NEW}: key is not in a usable state (pending deletion or import?)`);
  });

  it('a ReEncrypt whose failure KMS does not attribute names both ends', async () => {
    kms.on(ReEncryptCommand).rejects(disabled('The key is disabled.'));
    const error = await failure(vault().reEncrypt(wrapped, ctx, NEW, { keyIdHint: OLD }));
    expect(error.message).toBe(`KMS ReEncrypt with key ${OLD} (destination ${NEW}): key is disabled`);
  });

  it('an AccessDenied on Decrypt names the key from the policy message', async () => {
    kms.on(DecryptCommand).rejects(
      new KMSServiceException({
        name: 'AccessDeniedException',
        $fault: 'client',
        $metadata: metadata,
        message: `User: arn:aws:sts::111122223333:assumed-role/api/fn is not authorized to perform: kms:Decrypt on resource: ${OLD}`,
      }),
    );
    const error = await failure(vault().decrypt(wrapped, ctx));
    expect(error).toBeInstanceOf(KmsAccessDeniedError);
    expect(error.message).toBe(`KMS Decrypt with key ${OLD}: access denied`);
  });

  it('leaves calls that name their key as they were: GenerateDataKey still names the requested key', async () => {
    kms.on(GenerateDataKeyCommand).rejects(disabled('The key is disabled.'));
    expect((await failure(vault().generateDataKey('alias/sealstore', ctx))).message).toBe('KMS GenerateDataKey with key alias/sealstore: key is disabled');
  });
});
