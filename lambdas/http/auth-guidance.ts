// Requests that are not signed with SigV4 at all (no signature, or AWS Signature Version 2): refused with S3's code and
// a message that says what was wrong and how to sign, since a bare "Access Denied" leaves a newcomer guessing.
import { AccessDeniedError, InvalidRequestError, SignatureDoesNotMatchError, type StoreError } from '../core/errors';
import { lookup, type S3Request } from './request';

/** S3's own sentence for a SigV2 request in a region that takes only SigV4; clients and people search for it. */
const S3_SIGV2_REFUSAL = 'The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.';

/** How a request that is not SigV4 can be made one; the region is the one this endpoint signs for. */
const howToSign = (region: string) =>
  `use an S3 client (aws s3 …, an AWS SDK) or curl --aws-sigv4 'aws:amz:${region}:s3' --user KEY:SECRET …`;

/** The CLI setting that makes AWS CLI v1 (and boto3 through ~/.aws/config) presign with SigV4. */
export const CLI_SIGV4_SETTING = 'aws configure set default.s3.signature_version s3v4';

export function unsignedMessage(region: string): string {
  return `Access Denied: this request is not signed. sealstore accepts only AWS Signature Version 4 (there is no anonymous access): ${howToSign(region)}`;
}

export function sigV2Message(form: 'header' | 'query'): string {
  const what =
    form === 'query'
      ? 'This URL is presigned with AWS Signature Version 2 (AWSAccessKeyId, Signature and Expires in the query)'
      : 'This request is signed with AWS Signature Version 2 (an Authorization header of the form "AWS KEY:SIGNATURE")';
  return (
    `${S3_SIGV2_REFUSAL} ${what}; sealstore accepts only Signature Version 4. ` +
    `AWS CLI v1 and boto3 presign with version 2 unless told otherwise: run \`${CLI_SIGV4_SETTING}\` ` +
    `(boto3: Config(signature_version='s3v4')), then sign or presign again.`
  );
}

/**
 * The refusal for a request carrying no SigV4 at all, or undefined when it carries some (its SigV4 is then checked as
 * usual). S3 answers an anonymous request 403 AccessDenied and a SigV2 one, in a SigV4-only region, 400
 * InvalidRequest; the codes stay S3's, the messages say more.
 */
export function unsupportedAuth(req: S3Request, region: string): StoreError | undefined {
  const authorization = lookup(req.headers, 'authorization');
  if (authorization !== undefined) {
    return /^AWS\s/.test(authorization.trim()) ? new InvalidRequestError(sigV2Message('header')) : undefined;
  }
  const q = (name: string) => lookup(req.query, name);
  if (q('X-Amz-Algorithm') !== undefined || q('X-Amz-Signature') !== undefined) return undefined;
  if (q('Signature') !== undefined || q('AWSAccessKeyId') !== undefined) return new InvalidRequestError(sigV2Message('query'));
  return new AccessDeniedError(unsignedMessage(region));
}

/**
 * A header-signed request without x-amz-content-sha256 whose signature holds over an empty payload while a body
 * arrived: curl 7.x signs `-T FILE` uploads so (it cannot hash the file before sending it). Still a mismatch, so
 * S3's code; the message names the missing payload hash instead of the key.
 */
export function emptyPayloadSigned(accessKeyId: string, bodyBytes: number): StoreError {
  return new SignatureDoesNotMatchError(
    `The request signature we calculated does not match the signature you provided: it was computed over an empty payload, ` +
      `but the request carries a body of ${bodyBytes} bytes and no x-amz-content-sha256 header. ` +
      `curl 7.x signs -T uploads this way: add -H 'x-amz-content-sha256: UNSIGNED-PAYLOAD' (or the file's SHA-256 in hex), ` +
      `or send the file with --data-binary @FILE.`,
    { AWSAccessKeyId: accessKeyId },
  );
}
