// Test helper: a request with its whole raw body in memory, authenticated and its payload read through the same
// path the API takes (authenticate from headers, then the verifying payload stream).
import { authenticate, type AuthenticateOptions } from '../../lambdas/http/sigv4';
import { bufferBody, type S3Request } from '../../lambdas/http/request';
import type { Checksum } from '../../lambdas/http/checksums';
import { memorySpool } from '../../lambdas/http/spool';
import { EntityTooLargeError } from '../../lambdas/core/errors';

/** A request as captured off the wire: the body as raw bytes (aws-chunked framing included). */
export interface RawRequest extends Omit<S3Request, 'body'> {
  readonly body: Buffer;
}

export type VerifyOptions = Pick<AuthenticateOptions, 'region' | 'now' | 'lookupSecret' | 'canonicalPath'>;

export interface Verified {
  readonly accessKeyId: string;
  readonly payload: Buffer;
  readonly presigned: boolean;
  readonly checksum?: Checksum;
}

const LIMIT = 5 * 1024 ** 3;
const tooLarge = (n: number) => new EntityTooLargeError(`too large: ${n}`);

export async function verifyRequest(raw: RawRequest, opts: VerifyOptions): Promise<Verified> {
  const req: S3Request = { ...raw, body: bufferBody(raw.body) };
  const auth = await authenticate(req, { ...opts, spool: memorySpool, maxBodyBytes: LIMIT, tooLarge });
  try {
    const stream = auth.openPayload({ maxBytes: LIMIT, tooLarge });
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    const checksum = stream.checksum();
    return { accessKeyId: auth.accessKeyId, payload: Buffer.concat(chunks), presigned: auth.presigned, ...(checksum ? { checksum } : {}) };
  } finally {
    await auth.dispose();
  }
}
