// The size limit of each kind of request body, and an EntityTooLarge that names the real limit, the real size
// and what to do about it in the mode the store runs in.
import { EntityTooLargeError, StoreError } from '../core/errors';
import { maxBodyBytes, type RequestLimits } from '../core/limits';
import type { PayloadLimit } from '../http/sigv4';

/** Why the lambda-mode limit applies, in the words of the place that applies it. */
export interface LimitsContext {
  readonly limits: RequestLimits;
  /** E.g. "this server runs with --lambda-limits"; where the store is deployed behind API Gateway, omitted. */
  readonly lambdaLimitsReason?: string;
}

class MaxMessageLengthExceededError extends StoreError {
  constructor(message: string, extra: Readonly<Record<string, string>>) {
    super('MaxMessageLengthExceeded', 400, message, extra);
  }
}

const GiB = 1024 * 1024 * 1024;
const sizeText = (bytes: number) => (bytes % GiB === 0 ? `${bytes / GiB} GiB (${bytes} bytes)` : `${bytes} bytes`);

function lambdaClause(ctx: LimitsContext): string {
  const why = ctx.lambdaLimitsReason ? `; ${ctx.lambdaLimitsReason}` : '';
  return `the ${ctx.limits.maxPartBytes}-byte limit of one request through API Gateway and Lambda${why}`;
}

/**
 * A body limit answered with EntityTooLarge, worded for the mode the store runs in. ProposedSize is S3's element
 * for the size the request declared (Content-Length, or x-amz-decoded-content-length for aws-chunked); a body that
 * declared none is cut off at the limit, its size is unknown, and the answer says "more than" without the element
 * rather than pass the cut-off count for the size.
 */
function entityLimit(ctx: LimitsContext, max: number, message: { s3(size: string): string; lambda(size: string): string }): PayloadLimit {
  return {
    maxBytes: max,
    tooLarge: (size, lowerBound = false) => {
      const proposed = lowerBound ? `more than ${max} bytes (the request declared no length)` : `${size} bytes`;
      return new EntityTooLargeError(ctx.limits.mode === 's3' ? message.s3(proposed) : message.lambda(proposed), {
        MaxSizeAllowed: String(max),
        ...(lowerBound ? {} : { ProposedSize: String(size) }),
      });
    },
  };
}

/** A single PutObject body. */
export function objectLimit(ctx: LimitsContext): PayloadLimit {
  const max = ctx.limits.maxObjectBytes;
  return entityLimit(ctx, max, {
    s3: (size) =>
      `Your proposed upload of ${size} exceeds the maximum object size of one PUT, ${sizeText(max)}. Upload it with multipart upload (aws s3 cp, boto3 upload_file and @aws-sdk/lib-storage do this by themselves).`,
    lambda: (size) => `Your proposed upload of ${size} exceeds ${lambdaClause(ctx)}. Upload it with multipart upload in parts of ${ctx.limits.minPartBytes} to ${max} bytes.`,
  });
}

/** One UploadPart body. */
export function partLimit(ctx: LimitsContext): PayloadLimit {
  const max = ctx.limits.maxPartBytes;
  return entityLimit(ctx, max, {
    s3: (size) => `Your proposed part of ${size} exceeds the maximum part size, ${sizeText(max)}. Use smaller parts.`,
    lambda: (size) => `Your proposed part of ${size} exceeds ${lambdaClause(ctx)}. Use parts of ${ctx.limits.minPartBytes} to ${max} bytes.`,
  });
}

/** An XML or JSON request document. */
export function documentLimit(ctx: LimitsContext): PayloadLimit {
  const max = ctx.limits.maxDocumentBytes;
  return {
    maxBytes: max,
    tooLarge: (size, lowerBound = false) =>
      new MaxMessageLengthExceededError(`Your request was too big: ${lowerBound ? `more than ${max}` : size} bytes, where a request document may hold ${max} bytes.`, {
        MaxMessageLengthBytes: String(max),
      }),
  };
}

/** Any body at all: what may be spooled before the signature is checked. */
export function anyBodyLimit(ctx: LimitsContext): PayloadLimit {
  const max = maxBodyBytes(ctx.limits);
  return entityLimit(ctx, max, {
    s3: (size) => `Your proposed upload of ${size} exceeds the largest request body this store takes, ${sizeText(max)}.`,
    lambda: (size) => `Your proposed upload of ${size} exceeds ${lambdaClause(ctx)}.`,
  });
}
