// S3 error codes that only the protocol layer raises; they extend the shared StoreError so one renderer serves all.
import { storeErrorClass as make } from '../core/errors';

/** Rendering lives beside the codes it renders. */
export { renderError, type ErrorResponse } from './render-error';

export class XAmzContentSHA256MismatchError extends make('XAmzContentSHA256Mismatch', 400) {}
export class MetadataTooLargeError extends make('MetadataTooLarge', 400) {}
export class AuthorizationQueryParametersError extends make('AuthorizationQueryParametersError', 400) {}
/**
 * An X-Amz-Expires S3 will not take (not a number, negative, past a week): S3's code, with the 403 its presigned
 * URL refusals carry (Ceph's s3-tests, written against S3, expect 403 for ExpiresIn 604801 and 0).
 */
export class PresignedExpiresError extends make('AuthorizationQueryParametersError', 403) {}
export class InvalidURIError extends make('InvalidURI', 400) {}
export class MissingContentLengthError extends make('MissingContentLength', 411) {}
export class AccessControlListNotSupportedError extends make('AccessControlListNotSupported', 400) {}
export class InvalidStorageClassError extends make('InvalidStorageClass', 400) {}
