// The multipart, copy and presign suite with the AWS adapters (KMS, S3, DynamoDB over SDK v3) against moto_server.
import { describeMultipartSuite } from './multipart-suite';
import { awsBackendUnavailable, startAwsOnMoto } from '../support/aws-target';

// With the deployed stack's limits, as the API Lambda applies them: 1 MiB parts allowed, 4.45 MiB per request.
describeMultipartSuite('aws-on-moto', () => startAwsOnMoto({ lambdaLimits: true }), awsBackendUnavailable);
