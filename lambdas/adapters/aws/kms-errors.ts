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

/** `key` names the CMK (id, ARN or alias) so the message says which key failed. */
export function mapKmsError(error: unknown, operation: string, key: string): StoreError {
  if (error instanceof StoreError) return error;
  const what = `KMS ${operation} with key ${key}`;
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
