// The one SigV4 signer set-up for S3: the verifier recomputes signatures with it; the CLI and the tests sign with it.
import { Hash } from '@smithy/hash-node';
import { SignatureV4 } from '@smithy/signature-v4';
import { SERVICE } from './sigv4-auth';

export interface S3SignerOptions {
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
  readonly region: string;
  /**
   * Add x-amz-content-sha256 (the body's hash) to a request that lacks it, as the SDK's S3 client does.
   * @default false: the request says what it declares, and the verifier must not add what the client did not sign
   */
  readonly applyChecksum?: boolean;
}

export function s3Signer(options: S3SignerOptions): SignatureV4 {
  return new SignatureV4({
    credentials: options.credentials,
    region: options.region,
    service: SERVICE,
    sha256: Hash.bind(null, 'sha256'),
    // S3 signs the path once-encoded, as sent; every other service double-encodes.
    uriEscapePath: false,
    applyChecksum: options.applyChecksum ?? false,
  });
}
