// Typed errors of the store. Each carries the S3 error code and HTTP status it renders as;
// the HTTP layer maps them by `instanceof StoreError`, never by message text.

import { inspect } from 'node:util';

export class StoreError extends Error {
  constructor(
    readonly code: string,
    readonly statusCode: number,
    message: string,
    readonly extra: Readonly<Record<string, string>> = {},
  ) {
    super(message);
    this.name = new.target.name;
  }

  /** Headers S3 answers this error with besides its XML (a delete marker's x-amz-delete-marker, x-amz-version-id). */
  responseHeaders: Readonly<Record<string, string>> = {};

  withResponseHeaders(headers: Readonly<Record<string, string>>): this {
    this.responseHeaders = { ...this.responseHeaders, ...headers };
    return this;
  }
}

/** A StoreError class for one S3 code and status; the protocol layer makes its own codes with it too. */
export const storeErrorClass = (code: string, status: number) =>
  class extends StoreError {
    constructor(message: string, extra: Readonly<Record<string, string>> = {}) {
      super(code, status, message, extra);
    }
  };

export class NoSuchBucketError extends storeErrorClass('NoSuchBucket', 404) {}
export class NoSuchKeyError extends storeErrorClass('NoSuchKey', 404) {}
export class NoSuchVersionError extends storeErrorClass('NoSuchVersion', 404) {}
export class NoSuchUploadError extends storeErrorClass('NoSuchUpload', 404) {}
export class BucketAlreadyOwnedByYouError extends storeErrorClass('BucketAlreadyOwnedByYou', 409) {}
export class BucketAlreadyExistsError extends storeErrorClass('BucketAlreadyExists', 409) {}
export class BucketNotEmptyError extends storeErrorClass('BucketNotEmpty', 409) {}
export class InvalidBucketNameError extends storeErrorClass('InvalidBucketName', 400) {}
export class KeyTooLongError extends storeErrorClass('KeyTooLongError', 400) {}
export class InvalidArgumentError extends storeErrorClass('InvalidArgument', 400) {}
export class InvalidRequestError extends storeErrorClass('InvalidRequest', 400) {}
export class MalformedXMLError extends storeErrorClass('MalformedXML', 400) {}
export class InvalidDigestError extends storeErrorClass('InvalidDigest', 400) {}
export class BadDigestError extends storeErrorClass('BadDigest', 400) {}
export class EntityTooLargeError extends storeErrorClass('EntityTooLarge', 400) {}
export class EntityTooSmallError extends storeErrorClass('EntityTooSmall', 400) {}
export class IncompleteBodyError extends storeErrorClass('IncompleteBody', 400) {}
/** The body is incomplete because the client hung up: routine for a server (logged at info), answered as S3 would. */
export class ClientDisconnectedError extends IncompleteBodyError {}
export class InvalidPartError extends storeErrorClass('InvalidPart', 400) {}
export class InvalidPartOrderError extends storeErrorClass('InvalidPartOrder', 400) {}
export class InvalidRangeError extends storeErrorClass('InvalidRange', 416) {}
export class InvalidPartNumberError extends storeErrorClass('InvalidPartNumber', 416) {}
export class PreconditionFailedError extends storeErrorClass('PreconditionFailed', 412) {}
export class ConditionalRequestConflictError extends storeErrorClass('ConditionalRequestConflict', 409) {}
/** S3's answer to a bucket operation that raced another one on the same bucket: nothing was changed, retry. */
export class OperationAbortedError extends storeErrorClass('OperationAborted', 409) {}
export class AccessDeniedError extends storeErrorClass('AccessDenied', 403) {}
export class SignatureDoesNotMatchError extends storeErrorClass('SignatureDoesNotMatch', 403) {}
export class InvalidAccessKeyIdError extends storeErrorClass('InvalidAccessKeyId', 403) {}
export class RequestTimeTooSkewedError extends storeErrorClass('RequestTimeTooSkewed', 403) {}
export class MissingSecurityHeaderError extends storeErrorClass('MissingSecurityHeader', 400) {}
export class AuthorizationHeaderMalformedError extends storeErrorClass('AuthorizationHeaderMalformed', 400) {}
export class MethodNotAllowedError extends storeErrorClass('MethodNotAllowed', 405) {}
export class NotImplementedError extends storeErrorClass('NotImplemented', 501) {}
/** S3's first sentence when a request header asks for something not implemented; a NotImplementedError message says what and why after it. */
export const HEADER_NOT_IMPLEMENTED = 'A header you provided implies functionality that is not implemented';
export class SlowDownError extends storeErrorClass('SlowDown', 503) {}
export class ServiceUnavailableError extends storeErrorClass('ServiceUnavailable', 503) {}
export class InternalError extends storeErrorClass('InternalError', 500) {}
/**
 * The store's own disk is full (embedded backend). Not an S3 code (S3 never fills up); 507 as MinIO answers it, so
 * clients do not retry in a loop: the operator has to free space first.
 */
export class InsufficientStorageError extends storeErrorClass('InsufficientStorage', 507) {}

/** KMS failures surface with S3's SSE-KMS codes (S3 prefixes them with "KMS."). */
export class KmsDisabledError extends storeErrorClass('KMS.DisabledException', 403) {}
export class KmsInvalidStateError extends storeErrorClass('KMS.KMSInvalidStateException', 403) {}
export class KmsNotFoundError extends storeErrorClass('KMS.NotFoundException', 400) {}
/**
 * A CMK a request or a bucket's default encryption names for new objects that cannot take them: disabled, or in a
 * state (pending deletion, being retired by this store) where nothing new may be sealed under it. Refused before any
 * KMS call with 400, the status S3 answers these codes with on a write naming such a key.
 */
export class KmsChosenKeyDisabledError extends storeErrorClass('KMS.DisabledException', 400) {}
export class KmsChosenKeyInvalidStateError extends storeErrorClass('KMS.KMSInvalidStateException', 400) {}
export class KmsAccessDeniedError extends storeErrorClass('AccessDenied', 403) {}
/** A wrapped key opened under a CMK this store does not trust (a foreign key placed in its records). */
export class KmsUntrustedKeyError extends KmsAccessDeniedError {}
/** The wrapped key does not open under the given context or key: tampering, or a foreign key. */
export class KmsInvalidCiphertextError extends storeErrorClass('KMS.InvalidCiphertextException', 400) {}

/** A sealed object failed authentication: tampered, truncated, spliced, or the wrong key. */
export class IntegrityError extends storeErrorClass('InternalError', 500) {}

/** Port-level errors: never rendered directly, the core turns them into the above. */
export class ConditionFailedError extends Error {
  constructor(message = 'condition failed') {
    super(message);
    this.name = 'ConditionFailedError';
  }
}
export class BlobNotFoundError extends Error {
  constructor(readonly blobId: string) {
    super(`blob ${blobId} not found`);
    this.name = 'BlobNotFoundError';
  }
}

/** The error underneath a failure, as a log field (a generic answer to the client hides it). */
export function causeOf(e: unknown): { cause?: string } {
  const cause: unknown = e instanceof Error ? e.cause : undefined;
  if (cause === undefined) return {};
  return { cause: cause instanceof Error ? `${cause.name}: ${cause.message}` : typeof cause === 'string' ? cause : inspect(cause) };
}

/**
 * KMS's answers meaning a wrapped key the store recorded is not what it wrote: not a ciphertext for its context,
 * or under a CMK that does not exist or that the store does not trust. The record was altered.
 */
export function isAlteredWrap(e: unknown): e is StoreError {
  return e instanceof KmsInvalidCiphertextError || e instanceof KmsNotFoundError || e instanceof KmsUntrustedKeyError;
}

/** A 503 that names nothing (SlowDown when KMS throttled, so SDKs back off); the KMS error rides as the cause. */
export function unavailable(message: string, cause: unknown): StoreError {
  return Object.assign(cause instanceof SlowDownError ? new SlowDownError(message) : new ServiceUnavailableError(message), { cause });
}

