// Access control lists, as S3 treats them in a bucket with ACLs disabled (Object Ownership BucketOwnerEnforced, its
// default since April 2023): the owner has full control, a canned ACL that says just that is accepted, anything
// that would grant more is refused with AccessControlListNotSupported rather than stored and ignored.
import { AccessControlListNotSupportedError } from './errors';
import { lookup } from './request';

type Headers = Readonly<Record<string, string>>;

const GRANT_HEADERS = ['x-amz-grant-full-control', 'x-amz-grant-read', 'x-amz-grant-read-acp', 'x-amz-grant-write', 'x-amz-grant-write-acp'];
export const NOT_SUPPORTED = 'The bucket does not allow ACLs';

/** Canned ACLs that give the bucket owner full control and nobody else anything. */
const OBJECT_CANNED = new Set(['private', 'bucket-owner-full-control']);
const BUCKET_CANNED = new Set(['private']);

/**
 * Checks x-amz-acl and x-amz-grant-* of an object write (PutObject, CopyObject, CreateMultipartUpload, PutObjectAcl)
 * or a bucket request (CreateBucket, PutBucketAcl). Throws AccessControlListNotSupported for anything but the owner's
 * full control. Returns whether a canned ACL was sent.
 */
export function checkAclHeaders(headers: Headers, target: 'object' | 'bucket'): boolean {
  const grant = GRANT_HEADERS.find((name) => lookup(headers, name) !== undefined);
  if (grant !== undefined) {
    throw new AccessControlListNotSupportedError(`${NOT_SUPPORTED}: ACLs are disabled (Object Ownership BucketOwnerEnforced), so ${grant} cannot grant anything. The bucket owner has full control; send the request without it.`);
  }
  const canned = lookup(headers, 'x-amz-acl');
  if (canned === undefined) return false;
  const allowed = target === 'object' ? OBJECT_CANNED : BUCKET_CANNED;
  if (!allowed.has(canned)) {
    throw new AccessControlListNotSupportedError(`${NOT_SUPPORTED}: ACLs are disabled (Object Ownership BucketOwnerEnforced). x-amz-acl: ${canned} is refused; only ${[...allowed].join(' or ')} (the owner's full control) is accepted.`);
  }
  return true;
}
