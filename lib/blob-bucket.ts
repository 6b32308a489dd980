// The S3 bucket for sealed blobs (ciphertext + wrapped data key), private and TLS-only, with optional audit logging.
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as cloudtrail from 'aws-cdk-lib/aws-cloudtrail';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

/** How reads and writes of blobs are audited. */
export type BlobAccessLogging = 'server-access-logs' | 'cloudtrail-data-events' | 'none';
export const BLOB_ACCESS_LOGGING_MODES: readonly BlobAccessLogging[] = ['server-access-logs', 'cloudtrail-data-events', 'none'];

export interface BlobBucketProps {
  /** @default a name CloudFormation generates */
  readonly bucketName?: string;
  /** @default 'server-access-logs' */
  readonly accessLogging?: BlobAccessLogging;
  /** Days that access logs are kept (server access logs bucket lifecycle). */
  readonly logRetentionDays: number;
}

export class BlobBucket extends Construct {
  readonly bucket: s3.Bucket;
  /** Target of S3 server access logs, when that mode is on. */
  readonly accessLogBucket?: s3.Bucket;
  /** Trail recording S3 data events on the blob bucket, when that mode is on. */
  readonly trail?: cloudtrail.Trail;

  constructor(scope: Construct, id: string, props: BlobBucketProps) {
    super(scope, id);
    const mode = props.accessLogging ?? 'server-access-logs';

    if (mode === 'server-access-logs') {
      this.accessLogBucket = new s3.Bucket(this, 'AccessLogs', {
        blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
        enforceSSL: true,
        minimumTLSVersion: 1.2,
        // S3 log delivery writes only to SSE-S3 buckets.
        encryption: s3.BucketEncryption.S3_MANAGED,
        objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        lifecycleRules: [{ id: 'expire-access-logs', expiration: Duration.days(props.logRetentionDays) }],
        removalPolicy: RemovalPolicy.RETAIN,
      });
      Validations.of(this.accessLogBucket).acknowledge({
        id: 'AwsSolutions-S1',
        reason: 'This is the server access log destination; logging it into itself would recurse.',
      });
    }

    this.bucket = new s3.Bucket(this, 'Blobs', {
      ...(props.bucketName !== undefined && { bucketName: props.bucketName }),
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      // Blobs are already sealed under per-object data keys; SSE-S3 is a free second layer. SSE-KMS with the
      // CMK would add a KMS call to every blob read and write and blur the rewrap-without-decrypt duty.
      encryption: s3.BucketEncryption.S3_MANAGED,
      // Versioning stays off on purpose: DELETE is crypto-shredding (the wrapped data key lives in the blob),
      // and a noncurrent version would keep the wrapped key — the object would not be gone. Point-in-time
      // recovery of the index (DynamoDB PITR) is the store's undo; blobs are immutable once written.
      versioned: false,
      lifecycleRules: [
        // The AWS adapter may upload a large blob as an S3 multipart upload; an interrupted one leaves parts
        // that are billed but invisible. Nothing else expires: objects live until the store deletes them.
        { id: 'abort-incomplete-multipart', abortIncompleteMultipartUploadAfter: Duration.days(7) },
      ],
      removalPolicy: RemovalPolicy.RETAIN,
      ...(this.accessLogBucket && { serverAccessLogsBucket: this.accessLogBucket, serverAccessLogsPrefix: 'blobs/' }),
    });

    if (mode === 'cloudtrail-data-events') {
      this.trail = new cloudtrail.Trail(this, 'DataEvents', {
        // Only this bucket's object-level calls: no management events, no other region, no global services.
        managementEvents: cloudtrail.ReadWriteType.NONE,
        includeGlobalServiceEvents: false,
        isMultiRegionTrail: false,
        enableFileValidation: true,
      });
      this.trail.addS3EventSelector([{ bucket: this.bucket }], {
        readWriteType: cloudtrail.ReadWriteType.ALL,
        includeManagementEvents: false,
      });
      Validations.of(this.trail).acknowledge({
        id: 'AwsSolutions-S1',
        reason: 'The trail\'s own log bucket: the trail is the audit record; logging access to it would recurse.',
      });
    }

    if (mode !== 'server-access-logs') {
      Validations.of(this.bucket).acknowledge({
        id: 'AwsSolutions-S1',
        reason:
          mode === 'cloudtrail-data-events'
            ? 'Object-level access is recorded as CloudTrail data events (blobAccessLogging=cloudtrail-data-events) instead of server access logs.'
            : 'The deployer opted out of blob access logging (blobAccessLogging=none); blobs are ciphertext and every API call is in the API Gateway access log.',
      });
    }
  }
}
