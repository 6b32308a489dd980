// The same black-box S3 suite, with the AWS adapters (KMS, S3, DynamoDB over SDK v3) against moto_server.
import { describeS3Suite } from './s3-suite';
import { awsBackendUnavailable, startAwsOnMoto } from '../support/aws-target';

describeS3Suite('aws-on-moto', () => startAwsOnMoto(), awsBackendUnavailable);
