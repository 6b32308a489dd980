// Verifies a request body as it streams: its size against the operation's limit, the SHA-256 the signature
// covers, Content-MD5 and the flexible checksum. Bytes pass through untouched; a failed check errors the stream
// before it ends, so whoever consumes it (the blob store) never commits a body that did not verify.
import { Transform, type TransformCallback } from 'node:stream';
import { IncompleteBodyError } from '../core/errors';
import { badDigest, checkEncoding, contentMd5Mismatch, runningDigest, type Checksum, type ChecksumPlan, type RunningDigest } from './checksums';
import { XAmzContentSHA256MismatchError } from './errors';

export interface BodyChecks {
  /**
   * Bytes allowed; past it the stream fails with `tooLarge(bytesSoFar, true)`: a lower bound of the body's size,
   * since the rest is never read.
   */
  readonly maxBytes: number;
  tooLarge(bytes: number, lowerBound?: boolean): Error;
  /** The payload length the client declared (Content-Length or x-amz-decoded-content-length). */
  readonly declaredLength?: number;
  /** Hex SHA-256 of the payload that the signature covers. */
  readonly sha256Hex?: string;
  /** Decoded Content-MD5. */
  readonly contentMd5?: Buffer;
  readonly checksum?: ChecksumPlan;
  /** Where a checksum sent as a trailer is found once the body has ended. */
  trailers?(): Readonly<Record<string, string>>;
}

export class CheckedBody extends Transform {
  private bytes = 0;
  private readonly sha256: RunningDigest | undefined;
  private readonly md5: RunningDigest | undefined;
  private readonly flexible: RunningDigest | undefined;
  private verified: Checksum | undefined;

  constructor(private readonly checks: BodyChecks) {
    super();
    this.sha256 = checks.sha256Hex === undefined ? undefined : runningDigest('SHA256');
    this.md5 = checks.contentMd5 === undefined ? undefined : runningDigest('MD5');
    // A SHA256 checksum over the same bytes as x-amz-content-sha256 reuses that hash.
    this.flexible = checks.checksum === undefined ? undefined : checks.checksum.algorithm === 'SHA256' && this.sha256 ? undefined : runningDigest(checks.checksum.algorithm);
  }

  /** The flexible checksum that verified, once the stream has ended. */
  checksum(): Checksum | undefined {
    return this.verified;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.checks.maxBytes) {
      callback(this.checks.tooLarge(this.bytes, true));
      return;
    }
    this.sha256?.update(chunk);
    this.md5?.update(chunk);
    this.flexible?.update(chunk);
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    this.verify().then(() => callback(), (e: unknown) => callback(e as Error));
  }

  private async verify(): Promise<void> {
    const { declaredLength, sha256Hex, contentMd5, checksum } = this.checks;
    if (declaredLength !== undefined && declaredLength !== this.bytes) {
      throw new IncompleteBodyError('You did not provide the number of bytes specified by the Content-Length or x-amz-decoded-content-length header', {
        ExpectedLength: String(declaredLength),
        ReceivedLength: String(this.bytes),
      });
    }
    const sha256 = this.sha256 ? await this.sha256.digest() : undefined;
    if (sha256Hex !== undefined && sha256 !== undefined && sha256.toString('hex') !== sha256Hex) {
      throw new XAmzContentSHA256MismatchError("The provided 'x-amz-content-sha256' header does not match what was computed.", {
        ClientComputedContentSHA256: sha256Hex,
        S3ComputedContentSHA256: sha256.toString('hex'),
      });
    }
    if (contentMd5 !== undefined && this.md5) {
      const md5 = await this.md5.digest();
      if (!md5.equals(contentMd5)) throw contentMd5Mismatch(contentMd5, md5);
    }
    if (checksum === undefined) return;
    const trailerValue = this.checks.trailers?.()[checksum.name];
    if (checksum.headerValue !== undefined && trailerValue !== undefined && trailerValue !== checksum.headerValue) throw badDigest(checksum.algorithm);
    const expected = checksum.headerValue ?? trailerValue;
    if (expected === undefined) throw new IncompleteBodyError(`The announced trailer ${checksum.name} is missing.`);
    checkEncoding(checksum.name, checksum.algorithm, expected);
    const actual = this.flexible ? await this.flexible.digest() : sha256;
    if (actual === undefined || actual.toString('base64') !== expected) throw badDigest(checksum.algorithm);
    this.verified = { algorithm: checksum.algorithm, value: expected };
  }
}
