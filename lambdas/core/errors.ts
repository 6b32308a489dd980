// Typed errors of the store. Each carries the S3 error code and HTTP status it renders as;
// the HTTP layer maps them by `instanceof StoreError`, never by message text.

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
}

const make = (code: string, status: number) =>
  class extends StoreError {
    constructor(message: string, extra: Readonly<Record<string, string>> = {}) {
      super(code, status, message, extra);
    }
  };

export class NoSuchBucketError extends make('NoSuchBucket', 404) {}
export class NoSuchKeyError extends make('NoSuchKey', 404) {}
export class NoSuchUploadError extends make('NoSuchUpload', 404) {}
export class BucketAlreadyOwnedByYouError extends make('BucketAlreadyOwnedByYou', 409) {}
export class BucketNotEmptyError extends make('BucketNotEmpty', 409) {}
export class InvalidBucketNameError extends make('InvalidBucketName', 400) {}
export class KeyTooLongError extends make('KeyTooLongError', 400) {}
export class InvalidArgumentError extends make('InvalidArgument', 400) {}
export class InvalidRequestError extends make('InvalidRequest', 400) {}
export class MalformedXMLError extends make('MalformedXML', 400) {}
export class InvalidDigestError extends make('InvalidDigest', 400) {}
export class BadDigestError extends make('BadDigest', 400) {}
export class EntityTooLargeError extends make('EntityTooLarge', 400) {}
export class EntityTooSmallError extends make('EntityTooSmall', 400) {}
export class IncompleteBodyError extends make('IncompleteBody', 400) {}
export class InvalidPartError extends make('InvalidPart', 400) {}
export class InvalidPartOrderError extends make('InvalidPartOrder', 400) {}
export class InvalidRangeError extends make('InvalidRange', 416) {}
export class PreconditionFailedError extends make('PreconditionFailed', 412) {}
export class ConditionalRequestConflictError extends make('ConditionalRequestConflict', 409) {}
export class AccessDeniedError extends make('AccessDenied', 403) {}
export class SignatureDoesNotMatchError extends make('SignatureDoesNotMatch', 403) {}
export class InvalidAccessKeyIdError extends make('InvalidAccessKeyId', 403) {}
export class RequestTimeTooSkewedError extends make('RequestTimeTooSkewed', 403) {}
export class MissingSecurityHeaderError extends make('MissingSecurityHeader', 400) {}
export class AuthorizationHeaderMalformedError extends make('AuthorizationHeaderMalformed', 400) {}
export class MethodNotAllowedError extends make('MethodNotAllowed', 405) {}
export class NotImplementedError extends make('NotImplemented', 501) {}
export class SlowDownError extends make('SlowDown', 503) {}
export class ServiceUnavailableError extends make('ServiceUnavailable', 503) {}
export class InternalError extends make('InternalError', 500) {}

/** KMS failures surface with S3's SSE-KMS codes (S3 prefixes them with "KMS."). */
export class KmsDisabledError extends make('KMS.DisabledException', 403) {}
export class KmsInvalidStateError extends make('KMS.KMSInvalidStateException', 403) {}
export class KmsNotFoundError extends make('KMS.NotFoundException', 400) {}
export class KmsAccessDeniedError extends make('AccessDenied', 403) {}
/** The wrapped key does not open under the given context or key: tampering, or a foreign key. */
export class KmsInvalidCiphertextError extends make('KMS.InvalidCiphertextException', 400) {}

/** A sealed object failed authentication: tampered, truncated, spliced, or the wrong key. */
export class IntegrityError extends make('InternalError', 500) {}

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
