// Server-side encryption request headers: which CMK a write asks for, and the protections this store refuses rather
// than ignore. Every object is sealed under a KMS data key (SSE-KMS); SSE-C and S3's other variants are not offered.
import { AccessDeniedError, InvalidArgumentError, InvalidRequestError, NotImplementedError, HEADER_NOT_IMPLEMENTED } from '../core/errors';
import { lookup } from './request';
import type { S3Op } from './router';

type Headers = Readonly<Record<string, string>>;

const SSE = 'x-amz-server-side-encryption';
const KMS_KEY_ID = 'x-amz-server-side-encryption-aws-kms-key-id';
const SSE_CONTEXT = 'x-amz-server-side-encryption-context';
const BUCKET_KEY = 'x-amz-server-side-encryption-bucket-key-enabled';
const CUSTOMER_SUFFIXES = ['algorithm', 'key', 'key-md5'];
const CUSTOMER = CUSTOMER_SUFFIXES.map((s) => `x-amz-server-side-encryption-customer-${s}`);
const COPY_SOURCE_CUSTOMER = CUSTOMER_SUFFIXES.map((s) => `x-amz-copy-source-server-side-encryption-customer-${s}`);

/** Operations that create an object or upload a part: SSE-C there asks for a new SSE-C object, which S3 blocks with 403. */
const WRITES: ReadonlySet<S3Op> = new Set(['PutObject', 'CopyObject', 'CreateMultipartUpload', 'UploadPart', 'UploadPartCopy']);

/** S3's message when SSE-C parameters name an object that is not SSE-C encrypted (no object here is). */
const NOT_APPLICABLE = 'The encryption parameters are not applicable to this object.';
/** S3's message for a header asking for something it does not implement. */
const NOT_IMPLEMENTED = `${HEADER_NOT_IMPLEMENTED}.`;

/**
 * Refuses SSE-C (customer-provided keys) on every operation, before any body is read: a write asking for it gets
 * 403 AccessDenied, as S3 answers for buckets where SSE-C is blocked (the default for new buckets since April
 * 2026); a read or a copy source naming a customer key gets S3's 400 InvalidRequest for an object that is not
 * SSE-C encrypted. Never a 200 that ignores the key: a client would believe its key protects the object.
 */
export function refuseCustomerKeys(op: S3Op, headers: Headers): void {
  const sent = (names: readonly string[]) => names.find((name) => lookup(headers, name) !== undefined);
  const source = sent(COPY_SOURCE_CUSTOMER);
  if (source !== undefined) {
    throw new InvalidRequestError(`${NOT_APPLICABLE} The copy source is not encrypted with a customer-provided key (SSE-C); no object in this store is. Send the copy without the x-amz-copy-source-server-side-encryption-customer-* headers.`);
  }
  const own = sent(CUSTOMER);
  if (own === undefined) return;
  if (WRITES.has(op)) {
    throw new AccessDeniedError(
      'SSE-C (server-side encryption with customer-provided keys) is blocked in this store, as it is for S3 buckets created since April 2026: ' +
        'every object is sealed under its own KMS data key (SSE-KMS). Send the request without the x-amz-server-side-encryption-customer-* headers; ' +
        'to choose the CMK, send x-amz-server-side-encryption: aws:kms with x-amz-server-side-encryption-aws-kms-key-id.',
    );
  }
  throw new InvalidRequestError(`${NOT_APPLICABLE} No object in this store is encrypted with a customer-provided key (SSE-C); send the request without the x-amz-server-side-encryption-customer-* headers.`);
}

/** Reads: an object's encryption is fixed when it is written, so S3 answers 400 to a GET or HEAD that names one. */
const READS: ReadonlySet<S3Op> = new Set(['GetObject', 'HeadObject', 'GetObjectAttributes']);

/**
 * Refuses the SSE-KMS request headers on GET, HEAD and GetObjectAttributes with 400 InvalidArgument, as S3 documents
 * for HeadObject ("you'll get an HTTP 400 Bad Request error ... the encryption method can't be changed when you
 * retrieve the object"), rather than reading as if the header asked for nothing.
 */
export function refuseSseOnReads(op: S3Op, headers: Headers): void {
  if (!READS.has(op)) return;
  const sent = [SSE, KMS_KEY_ID, SSE_CONTEXT, BUCKET_KEY].find((name) => lookup(headers, name) !== undefined);
  if (sent === undefined) return;
  throw new InvalidArgumentError(
    `${sent} applies to writes (PutObject, CopyObject, CreateMultipartUpload); an object's encryption cannot change when it is read. Send the ${op} without it: responses say the object's encryption and CMK.`,
    { ArgumentName: sent, ArgumentValue: lookup(headers, sent) ?? '' },
  );
}

/** What a write asked of server-side encryption, once validated. */
export interface SseRequest {
  /** The CMK named by x-amz-server-side-encryption-aws-kms-key-id, as sent (key id, key ARN, alias name or alias ARN). */
  readonly kmsKeyId?: string;
}

/**
 * The SSE headers of PutObject, CopyObject and CreateMultipartUpload. `aws:kms` (optionally with a key id) is what
 * every object gets. `AES256` (SSE-S3) is accepted and answered honestly: the object is sealed under KMS as every
 * object is, and the response says `aws:kms` with the CMK, never AES256. What this store cannot do is refused:
 * dual-layer `aws:kms:dsse` and a caller's encryption context (501 NotImplemented, as S3 names unimplemented
 * headers), anything else with S3's 400 InvalidArgument.
 */
export function parseSseRequest(headers: Headers): SseRequest {
  const algorithm = lookup(headers, SSE);
  const keyId = lookup(headers, KMS_KEY_ID);
  if (algorithm === 'aws:kms:dsse') {
    throw new NotImplementedError(`${NOT_IMPLEMENTED} Dual-layer SSE-KMS (aws:kms:dsse) is not offered: objects get one layer, AES-256-GCM under a KMS data key. Send aws:kms.`, { Header: SSE });
  }
  if (algorithm !== undefined && algorithm !== 'aws:kms' && algorithm !== 'AES256') {
    throw new InvalidArgumentError('The encryption method specified is not supported', { ArgumentName: SSE, ArgumentValue: algorithm });
  }
  if (lookup(headers, SSE_CONTEXT) !== undefined) {
    throw new NotImplementedError(`${NOT_IMPLEMENTED} A caller's SSE-KMS encryption context is not offered: the store binds each data key to its bucket and object id. Send the request without ${SSE_CONTEXT}.`, { Header: SSE_CONTEXT });
  }
  const bucketKey = lookup(headers, BUCKET_KEY);
  if (bucketKey !== undefined && bucketKey.toLowerCase() !== 'true' && bucketKey.toLowerCase() !== 'false') {
    throw new InvalidArgumentError(`${BUCKET_KEY} must be true or false`, { ArgumentName: BUCKET_KEY, ArgumentValue: bucketKey });
  }
  if (keyId === undefined) return {};
  if (algorithm !== 'aws:kms') {
    // S3's answer, word for word: a key id without aws:kms is refused rather than silently applied or dropped.
    throw new InvalidArgumentError(`Server Side Encryption with AWS KMS managed key requires HTTP header ${SSE} : aws:kms`, { ArgumentName: SSE, ArgumentValue: algorithm ?? 'null' });
  }
  if (keyId.trim() === '') throw new InvalidArgumentError('x-amz-server-side-encryption-aws-kms-key-id must name a KMS key', { ArgumentName: KMS_KEY_ID, ArgumentValue: keyId });
  return { kmsKeyId: keyId.trim() };
}

/** The headers S3 returns for SSE-KMS objects, naming the CMK that wraps the data key. */
export function sseResponseHeaders(keyId: string): Record<string, string> {
  return { [SSE]: 'aws:kms', [KMS_KEY_ID]: keyId };
}
