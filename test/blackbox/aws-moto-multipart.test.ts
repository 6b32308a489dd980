// The multipart, copy and presign suite with the AWS adapters (KMS, S3, DynamoDB over SDK v3) against moto_server.
import { describeMultipartSuite } from './multipart-suite';
import { awsBackendUnavailable, startAwsOnMoto } from '../support/aws-target';

describeMultipartSuite('aws-on-moto', () => startAwsOnMoto(), awsBackendUnavailable);
