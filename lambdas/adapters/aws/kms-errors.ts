// Maps KMS SDK exceptions to the store's typed errors, by instanceof on the SDK's exception classes.
import {
  AlreadyExistsException,
  DependencyTimeoutException,
  DisabledException,
  IncorrectKeyException,
  InvalidAliasNameException,
  InvalidArnException,
  InvalidCiphertextException,
  KMSInternalException,
  KMSInvalidStateException,
  KMSServiceException,
  KeyUnavailableException,
  LimitExceededException,
  NotFoundException,
} from '@aws-sdk/client-kms';
import {
  InvalidArgumentError,
  InvalidRequestError,
  KmsAccessDeniedError,
  KmsDisabledError,
  KmsInvalidCiphertextError,
  KmsInvalidStateError,
  KmsNotFoundError,
  ServiceUnavailableError,
  SlowDownError,
  StoreError,
} from '../../core/errors';
import { mapSdkFault, withCause } from './sdk-faults';

/**
 * KMS error codes the SDK does not model as classes (they arrive as a plain KMSServiceException whose
 * `name` is the wire error code). Matching these protocol codes is the only way to tell them apart;
 * it is never a match on message text.
 */
const UNMODELED_ACCESS_DENIED = 'AccessDeniedException';
const UNMODELED_VALIDATION = 'ValidationException';

/**
 * A key ARN in any partition (aws, aws-cn, aws-us-gov…), single- or multi-Region key id. Alias ARNs and
 * other services' ARNs (the caller's role in an AccessDenied message) do not match.
 */
const KEY_ARN = /\barn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[A-Za-z0-9-]+/;

/**
 * The key ARN a KMS error message names, if any. KMS names the key it refused ("arn:aws:kms:…:key/… is
 * disabled.", "… is pending deletion.", "… on resource: arn:aws:kms:…"); on Decrypt and ReEncrypt that is the
 * only place the failing key is named, since the ciphertext, not the caller, chose it. Used for naming the
 * key in our message only: classification stays by exception class.
 */
export function keyArnInMessage(error: unknown): string | undefined {
  return error instanceof Error ? KEY_ARN.exec(error.message)?.[0] : undefined;
}

/**
 * `key` is what the caller knows of the CMK (id, ARN, alias, or a description when the ciphertext picks it);
 * a key ARN in KMS's own message wins, being the key KMS actually refused.
 */
export function mapKmsError(error: unknown, operation: string, key: string): StoreError {
  if (error instanceof StoreError) return error;
  const what = `KMS ${operation} with key ${keyArnInMessage(error) ?? key}`;
  const wrap = (mapped: StoreError) => withCause(mapped, error);
  if (error instanceof DisabledException) return wrap(new KmsDisabledError(`${what}: key is disabled`));
  if (error instanceof KMSInvalidStateException) {
    return wrap(new KmsInvalidStateError(`${what}: key is not in a usable state (pending deletion or import?)`));
  }
  if (error instanceof InvalidCiphertextException || error instanceof IncorrectKeyException) {
    return wrap(new KmsInvalidCiphertextError(`${what}: ciphertext or encryption context does not match`));
  }
  if (error instanceof NotFoundException) return wrap(new KmsNotFoundError(`${what}: key not found`));
  if (error instanceof LimitExceededException) return wrap(new SlowDownError(`${what}: request quota exceeded`));
  if (error instanceof KMSInternalException || error instanceof DependencyTimeoutException) {
    return wrap(new ServiceUnavailableError(`${what}: KMS is temporarily unavailable`));
  }
  if (error instanceof KeyUnavailableException) {
    return wrap(new ServiceUnavailableError(`${what}: key material is temporarily unavailable`));
  }
  if (error instanceof InvalidArnException || error instanceof InvalidAliasNameException) {
    return wrap(new InvalidArgumentError(`${what}: not a valid key id, ARN or alias`));
  }
  if (error instanceof AlreadyExistsException) return wrap(new InvalidRequestError(`${what}: already exists`));
  if (error instanceof KMSServiceException && error.name === UNMODELED_ACCESS_DENIED) {
    return wrap(new KmsAccessDeniedError(`${what}: access denied`));
  }
  if (error instanceof KMSServiceException && error.name === UNMODELED_VALIDATION) {
    return wrap(new InvalidArgumentError(`${what}: rejected as invalid`));
  }
  return mapSdkFault(error, what);
}
