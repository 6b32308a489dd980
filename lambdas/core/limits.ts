// The numbers that shape requests, derived from what API Gateway + Lambda can carry (ARCHITECTURE.md).

/**
 * Largest request body one call may carry. A synchronous Lambda invocation payload is at most 6 MiB,
 * API Gateway passes binary bodies base64-encoded (4/3 growth), and the event envelope (headers, request
 * context) needs room: (6 MiB − 64 KiB) × 3/4. Above this a client must use multipart upload.
 */
export const MAX_REQUEST_BODY_BYTES = ((6 * 1024 * 1024 - 64 * 1024) * 3) / 4;

/** S3's key length limit, in UTF-8 bytes. */
export const MAX_KEY_BYTES = 1024;

/** Items per ListObjects page, as S3 caps it. */
export const MAX_LIST_KEYS = 1000;
