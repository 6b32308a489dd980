// Classifies AWS SDK failures that no single service models: throttling and transient faults.
// Uses the SDK's own classifier (@smithy/core/retry), the same one its retry strategy consults, so
// "what the SDK retried" and "what we report as SlowDown / ServiceUnavailable" cannot drift apart.
import { isThrottlingError, isTransientError } from '@smithy/core/retry';
import { InternalError, ServiceUnavailableError, SlowDownError, type StoreError } from '../../core/errors';

/** The SDK's error shape: an Error with optional $metadata/$retryable, which plain Errors lack in type only. */
type SdkError = Parameters<typeof isThrottlingError>[0];

/** True when the service throttled us (429, ThrottlingException, LimitExceeded…) and retries ran out. */
export function isThrottling(error: unknown): boolean {
  return error instanceof Error && isThrottlingError(error as SdkError);
}

/** True for timeouts, dropped connections and 5xx: the request may succeed later. */
export function isTransient(error: unknown): boolean {
  return error instanceof Error && isTransientError(error as SdkError);
}

/** Keeps the SDK error reachable for logs without putting its text in the client-facing message. */
export function withCause<E extends Error>(error: E, cause: unknown): E {
  error.cause = cause;
  return error;
}

/**
 * The fallback every adapter shares once its service-specific mapping found nothing:
 * throttling → SlowDown (503), transient → ServiceUnavailable (503), anything else → InternalError.
 */
export function mapSdkFault(error: unknown, what: string): StoreError {
  if (isThrottling(error)) return withCause(new SlowDownError(`${what}: throttled, retries exhausted`), error);
  if (isTransient(error)) return withCause(new ServiceUnavailableError(`${what}: service unavailable`), error);
  return withCause(new InternalError(`${what} failed`), error);
}
