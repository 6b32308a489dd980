// The S3 API as a table: each operation the router can name, mapped to its handler. Adding an operation means
// a route in lambdas/http/router.ts and a handler here; nothing else dispatches.
import type { S3Op } from '../../http/router';
import * as accessControl from './access-control';
import * as buckets from './buckets';
import type { Operation } from './context';
import * as encryption from './encryption';
import * as listing from './listing';
import * as multipart from './multipart';
import * as objects from './objects';
import * as versioning from './versioning';

export const OPERATIONS: Readonly<Record<S3Op, Operation>> = {
  ListBuckets: buckets.ListBuckets,
  CreateBucket: buckets.CreateBucket,
  HeadBucket: buckets.HeadBucket,
  GetBucketLocation: buckets.GetBucketLocation,
  DeleteBucket: buckets.DeleteBucket,
  ListObjects: listing.ListObjects,
  ListObjectsV2: listing.ListObjectsV2,
  PutObject: objects.PutObject,
  GetObject: objects.GetObject,
  HeadObject: objects.HeadObject,
  GetObjectAttributes: objects.GetObjectAttributes,
  DeleteObject: objects.DeleteObject,
  DeleteObjects: objects.DeleteObjects,
  CopyObject: objects.CopyObject,
  CreateMultipartUpload: multipart.CreateMultipartUpload,
  UploadPart: multipart.UploadPart,
  UploadPartCopy: multipart.UploadPartCopy,
  ListParts: multipart.ListParts,
  CompleteMultipartUpload: multipart.CompleteMultipartUpload,
  AbortMultipartUpload: multipart.AbortMultipartUpload,
  ListMultipartUploads: multipart.ListMultipartUploads,
  GetBucketEncryption: encryption.GetBucketEncryption,
  PutBucketEncryption: encryption.PutBucketEncryption,
  DeleteBucketEncryption: encryption.DeleteBucketEncryption,
  GetBucketAcl: accessControl.GetBucketAcl,
  PutBucketAcl: accessControl.PutBucketAcl,
  GetObjectAcl: accessControl.GetObjectAcl,
  PutObjectAcl: accessControl.PutObjectAcl,
  GetBucketOwnershipControls: accessControl.GetBucketOwnershipControls,
  GetBucketVersioning: versioning.GetBucketVersioning,
  PutBucketVersioning: versioning.PutBucketVersioning,
  ListObjectVersions: versioning.ListObjectVersions,
};

export type { Operation, OperationContext } from './context';
