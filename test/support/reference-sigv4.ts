// SigV4 written out from AWS's description, over bytes, for requests the SDK signer will not make: a Date header
// instead of x-amz-date, header values with bytes above 0x7F. The canonical request holds each signed header's value
// exactly as given; callers pass the bytes they expect the server to sign.
import { createHash, createHmac } from 'node:crypto';

export interface ReferenceRequest {
  readonly method: string;
  /** The canonical URI (already S3-encoded), e.g. '/b/k'. */
  readonly path: string;
  /** The canonical query string, already sorted and encoded ('' for none). */
  readonly query?: string;
  /** Lower-case names; every one is signed. */
  readonly headers: Readonly<Record<string, Buffer>>;
  readonly payloadHash: string;
  /** YYYYMMDDTHHMMSSZ, the time the string to sign carries. */
  readonly amzDate: string;
  readonly region: string;
  readonly secretAccessKey: string;
}

export function referenceSignature(r: ReferenceRequest): string {
  const names = Object.keys(r.headers).sort();
  const canonical = Buffer.concat([
    Buffer.from(`${r.method}\n${r.path}\n${r.query ?? ''}\n`),
    ...names.map((n) => Buffer.concat([Buffer.from(`${n}:`), r.headers[n] ?? Buffer.alloc(0), Buffer.from('\n')])),
    Buffer.from(`\n${names.join(';')}\n${r.payloadHash}`),
  ]);
  const day = r.amzDate.slice(0, 8);
  const scope = `${day}/${r.region}/s3/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', r.amzDate, scope, createHash('sha256').update(canonical).digest('hex')].join('\n');
  const hmac = (key: Buffer | string, text: string) => createHmac('sha256', key).update(text, 'utf8').digest();
  const key = hmac(hmac(hmac(hmac(`AWS4${r.secretAccessKey}`, day), r.region), 's3'), 'aws4_request');
  return createHmac('sha256', key).update(toSign, 'utf8').digest('hex');
}

/** The Authorization header for a reference-signed request. */
export function referenceAuthorization(r: ReferenceRequest & { readonly accessKeyId: string }): string {
  const credential = `${r.accessKeyId}/${r.amzDate.slice(0, 8)}/${r.region}/s3/aws4_request`;
  return `AWS4-HMAC-SHA256 Credential=${credential}, SignedHeaders=${Object.keys(r.headers).sort().join(';')}, Signature=${referenceSignature(r)}`;
}
