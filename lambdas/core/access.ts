// Who may do what: access keys carry roles per bucket, and each S3 action needs one role.
import { AccessDeniedError } from './errors';

export type Role = 'read' | 'write' | 'delete' | 'rewrap' | 'admin';
export const ROLES: readonly Role[] = ['read', 'write', 'delete', 'rewrap', 'admin'];

/** A role on one bucket, or on every bucket when `bucket` is '*'. */
export interface Grant {
  readonly bucket: string;
  readonly role: Role;
}

export interface Principal {
  readonly accessKeyId: string;
  readonly grants: readonly Grant[];
  /** The store's root credentials: admin everywhere, and the owner of buckets recorded without one. */
  readonly root?: boolean;
}

/**
 * Who owns what a principal creates (a bucket): the access key's id, or ROOT_OWNER for the root credentials. The
 * root key may be replaced (a new secret, a new id) without its buckets changing hands, so root owns under a name
 * of its own, never under its current access key id (stored keys are SK…, so the two never collide).
 */
export const ROOT_OWNER = 'sealstore-root';

export function ownerIdOf(principal: Principal): string {
  return principal.root ? ROOT_OWNER : principal.accessKeyId;
}

/**
 * Whether ListBuckets shows the bucket to this principal: root sees every bucket, others their own and those
 * they hold a grant on (any role, or a grant on every bucket).
 */
export function canSeeBucket(principal: Principal, bucket: { readonly name: string; readonly owner: string }): boolean {
  return bucket.owner === ownerIdOf(principal) || holdsGrantOn(principal, bucket.name);
}

/** Whether any grant of the principal (any role) touches the bucket; root holds every bucket. */
export function holdsGrantOn(principal: Principal, bucket: string): boolean {
  return principal.root === true || principal.grants.some((g) => g.bucket === '*' || g.bucket === bucket);
}

/** What an action needs. Bucket-less actions (ListBuckets, the admin API) are checked against '*'. */
export type Action =
  | 'ListBuckets'
  | 'CreateBucket'
  | 'DeleteBucket'
  | 'ConfigureBucket'
  | 'ReadBucket'
  | 'ReadObject'
  | 'WriteObject'
  | 'DeleteObject'
  | 'DeleteObjectVersion'
  | 'Rewrap'
  | 'Admin';

const NEEDS: Readonly<Record<Action, readonly Role[]>> = {
  ListBuckets: ['read', 'write', 'delete', 'admin'],
  CreateBucket: ['admin'],
  DeleteBucket: ['admin'],
  // Bucket settings (default encryption: which CMK its objects go under; ACLs) are the bucket owner's, as CreateBucket.
  ConfigureBucket: ['admin'],
  ReadBucket: ['read', 'write', 'delete', 'admin'],
  ReadObject: ['read', 'admin'],
  WriteObject: ['write', 'admin'],
  DeleteObject: ['delete', 'admin'],
  // Removing a version for good (DELETE ?versionId, a DeleteObjects entry with a VersionId) undoes what versioning
  // keeps: a stolen or buggy delete key may hide data behind delete markers, never shred it (S3's separate
  // s3:DeleteObjectVersion permission).
  DeleteObjectVersion: ['admin'],
  // Rewrap moves wrapped keys between CMKs; it never needs, and never grants, object bodies.
  Rewrap: ['rewrap', 'admin'],
  Admin: ['admin'],
};

export function isAllowed(principal: Principal, action: Action, bucket?: string): boolean {
  const roles = NEEDS[action];
  return principal.grants.some(
    (g) => roles.includes(g.role) && (g.bucket === '*' || (bucket !== undefined && g.bucket === bucket) || (bucket === undefined && action === 'ListBuckets')),
  );
}

export function authorize(principal: Principal, action: Action, bucket?: string): void {
  if (!isAllowed(principal, action, bucket)) {
    const on = bucket ? ` on bucket ${bucket}` : '';
    if (action === 'DeleteObjectVersion') {
      throw new AccessDeniedError(
        `Access key ${principal.accessKeyId} may not permanently delete an object version${on}: that needs an admin grant on the bucket (a delete grant only writes delete markers).`,
      );
    }
    throw new AccessDeniedError(`Access key ${principal.accessKeyId} is not allowed to ${action}${on}; ask an admin for a key with the right role.`);
  }
}

/** Looks up access keys; the root key comes from configuration, others from the index (sealed at rest). */
export interface CredentialStore {
  lookup(accessKeyId: string): Promise<{ readonly secret: string; readonly principal: Principal } | undefined>;
}

/** The store's root S3 credentials: admin on every bucket. */
export interface RootCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

/** The root key: admin on everything. */
export class StaticCredentialStore implements CredentialStore {
  constructor(private readonly accessKeyId: string, private readonly secret: string) {}

  async lookup(accessKeyId: string): Promise<{ secret: string; principal: Principal } | undefined> {
    if (accessKeyId !== this.accessKeyId) return undefined;
    return { secret: this.secret, principal: { accessKeyId, grants: [{ bucket: '*', role: 'admin' }], root: true } };
  }
}

/** Tries each store in order (root first, then stored access keys). */
export class ChainedCredentialStore implements CredentialStore {
  constructor(private readonly stores: readonly CredentialStore[]) {}

  async lookup(accessKeyId: string): Promise<{ secret: string; principal: Principal } | undefined> {
    for (const s of this.stores) {
      const found = await s.lookup(accessKeyId);
      if (found) return found;
    }
    return undefined;
  }
}
