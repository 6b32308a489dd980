// The checksum and multipart conformance suite with the AWS adapters (KMS, S3, DynamoDB over SDK v3) on moto_server.
import { describeMultipartChecksumSuite } from './multipart-checksums-suite';
import { awsBackendUnavailable, startAwsOnMoto } from '../../support/aws-target';

describeMultipartChecksumSuite('aws-on-moto', () => startAwsOnMoto({ lambdaLimits: true }), awsBackendUnavailable);
