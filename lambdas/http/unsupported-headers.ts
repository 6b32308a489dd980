// Request headers that ask for a protection or a behaviour this store does not have (Object Lock, tagging, storage
// classes, website redirects, object ownership other than BucketOwnerEnforced, appends, conditional aborts): refused with S3's error
// before any body is read or anything written, never accepted and ignored. One table, one step.
import { InvalidArgumentError, InvalidRequestError, NotImplementedError, HEADER_NOT_IMPLEMENTED, type StoreError } from '../core/errors';
import { InvalidStorageClassError } from './errors';
import { lookup } from './request';
import type { S3Op } from './router';

type Headers = Readonly<Record<string, string>>;

/** The operations that create an object: where S3 takes lock, tagging, storage class and redirect headers. */
const OBJECT_WRITES: readonly S3Op[] = ['PutObject', 'CopyObject', 'CreateMultipartUpload'];

/** S3's message for a header asking for something it does not implement. */
const NOT_IMPLEMENTED = `${HEADER_NOT_IMPLEMENTED}.`;
/** S3's message, word for word, for Object Lock headers on PutObject/CopyObject/CreateMultipartUpload in a bucket without Object Lock. */
const MISSING_LOCK = 'Bucket is missing ObjectLockConfiguration';
const NO_LOCK = 'sealstore has no Object Lock (no retention, no legal hold, no versioning): nothing could keep this object from being overwritten or deleted.';

/** One refused (or checked) header: the operations it applies to, and what it answers for a value (undefined: accepted). */
interface HeaderRule {
  readonly header: string;
  readonly on: readonly S3Op[];
  readonly refuse: (value: string, op: S3Op) => StoreError | undefined;
}

/**
 * Delete conditions S3 honours in directory buckets only (as headers on DeleteObject, as elements in DeleteObjects
 * entries): refused, so a caller never believes they protected a delete.
 */
export function directoryBucketCondition(what: string): NotImplementedError {
  return new NotImplementedError(`${HEADER_NOT_IMPLEMENTED}: ${what} is a condition of S3 directory buckets; this store checks If-Match (the ETag) only.`, { Header: what });
}
const directoryBucketDelete = (header: string): HeaderRule => ({ header, on: ['DeleteObject'], refuse: () => directoryBucketCondition(header) });

const objectLock = (header: string): HeaderRule => ({
  header,
  on: OBJECT_WRITES,
  // Any value, OFF included: S3 refuses the header itself in a bucket without Object Lock, and so do we.
  refuse: () => new InvalidRequestError(`${MISSING_LOCK}. ${NO_LOCK} Send the request without ${header}.`, { Header: header }),
});

/** Storage classes S3 names; only STANDARD is what this store applies. */
const STORAGE_CLASSES = new Set([
  'STANDARD', 'REDUCED_REDUNDANCY', 'STANDARD_IA', 'ONEZONE_IA', 'INTELLIGENT_TIERING', 'GLACIER', 'DEEP_ARCHIVE',
  'OUTPOSTS', 'GLACIER_IR', 'SNOW', 'EXPRESS_ONEZONE', 'FSX_OPENZFS', 'FSX_ONTAP',
]);

const OBJECT_OWNERSHIP = ['BucketOwnerEnforced', 'BucketOwnerPreferred', 'ObjectWriter'];

/**
 * The table. Headers S3 defines that are accepted because they ask for nothing this store would drop:
 * x-amz-bypass-governance-retention (no object is ever under retention, so there is nothing to bypass: S3 too
 * ignores it in a bucket without Object Lock), x-amz-mfa (MFA delete needs versioning with MFA delete enabled,
 * which no bucket here has: the header is a credential for a check that does not exist, as S3 treats it in such a
 * bucket), x-amz-request-payer (requester pays is a billing setting; every request here is the owner's).
 */
const RULES: readonly HeaderRule[] = [
  objectLock('x-amz-object-lock-mode'),
  objectLock('x-amz-object-lock-retain-until-date'),
  objectLock('x-amz-object-lock-legal-hold'),
  {
    header: 'x-amz-bucket-object-lock-enabled',
    on: ['CreateBucket'],
    refuse: (value) => {
      const v = value.trim().toLowerCase();
      if (v === 'false') return undefined;
      if (v !== 'true') return new InvalidArgumentError('x-amz-bucket-object-lock-enabled must be true or false', { ArgumentName: 'x-amz-bucket-object-lock-enabled', ArgumentValue: value });
      return new NotImplementedError(`${NOT_IMPLEMENTED} ${NO_LOCK} No bucket was created; create it without x-amz-bucket-object-lock-enabled, or use a store with Object Lock for WORM retention.`, { Header: 'x-amz-bucket-object-lock-enabled' });
    },
  },
  {
    header: 'x-amz-tagging',
    on: OBJECT_WRITES,
    // An empty value asks for no tags, which is what every object has.
    refuse: (value) =>
      value.trim() === ''
        ? undefined
        : new NotImplementedError(`${NOT_IMPLEMENTED} Object tagging is not implemented (?tagging answers 501 too): tags could not be stored, returned or used in policies. Send the request without x-amz-tagging; keep labels in x-amz-meta-* user metadata instead.`, { Header: 'x-amz-tagging' }),
  },
  {
    header: 'x-amz-tagging-directive',
    on: ['CopyObject'],
    // COPY copies the source's tags (it has none) and REPLACE takes x-amz-tagging (refused above when it names any).
    refuse: (value) => {
      const v = value.trim().toUpperCase();
      return v === 'COPY' || v === 'REPLACE' ? undefined : new InvalidArgumentError('Unknown tagging directive.', { ArgumentName: 'x-amz-tagging-directive', ArgumentValue: value });
    },
  },
  {
    header: 'x-amz-storage-class',
    on: OBJECT_WRITES,
    refuse: (value) =>
      value === 'STANDARD'
        ? undefined
        : new InvalidStorageClassError(
            `The storage class you specified is not valid. sealstore stores every object as STANDARD${STORAGE_CLASSES.has(value) ? ` and has no ${value} tier` : ''}; send x-amz-storage-class: STANDARD or omit it.`,
            { StorageClassRequested: value },
          ),
  },
  {
    header: 'x-amz-website-redirect-location',
    on: OBJECT_WRITES,
    refuse: () => new NotImplementedError(`${NOT_IMPLEMENTED} Static website hosting is not offered, so a redirect location would never be followed. Send the request without x-amz-website-redirect-location.`, { Header: 'x-amz-website-redirect-location' }),
  },
  {
    header: 'x-amz-object-ownership',
    on: ['CreateBucket'],
    refuse: (value) => {
      if (value === 'BucketOwnerEnforced') return undefined;
      const known = OBJECT_OWNERSHIP.includes(value);
      return new InvalidArgumentError(
        known
          ? `ACLs are disabled in every sealstore bucket (Object Ownership BucketOwnerEnforced): ${value} would let ACLs decide who owns and reads objects. No bucket was created; send x-amz-object-ownership: BucketOwnerEnforced or omit it.`
          : `Invalid x-amz-object-ownership value; the valid values are ${OBJECT_OWNERSHIP.join(', ')}, and sealstore accepts BucketOwnerEnforced only.`,
        { ArgumentName: 'x-amz-object-ownership', ArgumentValue: value },
      );
    },
  },
  {
    header: 'x-amz-write-offset-bytes',
    on: ['PutObject'],
    // Ignoring it would replace the whole object with the bytes meant to be appended.
    refuse: () => new NotImplementedError(`${NOT_IMPLEMENTED} Appending to an object (x-amz-write-offset-bytes) is a feature of S3 directory buckets; this store replaces objects whole. Send the request without it, or upload the whole object.`, { Header: 'x-amz-write-offset-bytes' }),
  },
  directoryBucketDelete('x-amz-if-match-last-modified-time'),
  directoryBucketDelete('x-amz-if-match-size'),
  {
    header: 'x-amz-if-match-initiated-time',
    on: ['AbortMultipartUpload'],
    // A condition: ignoring it would abort an upload the caller meant to keep.
    refuse: () => new NotImplementedError(`${NOT_IMPLEMENTED} x-amz-if-match-initiated-time is a condition of S3 directory buckets; this store cannot make an abort conditional on it. Check the upload's Initiated time with ListMultipartUploads, then abort without the header.`, { Header: 'x-amz-if-match-initiated-time' }),
  },
];

/**
 * Refuses the request when it carries a header of the table that this operation takes and this store cannot honour.
 * Runs after authentication and before any body is read or anything written.
 */
export function refuseUnsupportedHeaders(op: S3Op, headers: Headers): void {
  for (const rule of RULES) {
    if (!rule.on.includes(op)) continue;
    const value = lookup(headers, rule.header);
    if (value === undefined) continue;
    const refusal = rule.refuse(value, op);
    if (refusal !== undefined) throw refusal;
  }
}
