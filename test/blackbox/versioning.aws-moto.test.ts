// The versioning black-box suite with the AWS adapters (KMS, S3, DynamoDB over SDK v3) against moto_server.
import { describeVersioningSuite } from './versioning-suite';
import { awsBackendUnavailable, startAwsOnMoto } from '../support/aws-target';

describeVersioningSuite('aws-on-moto', () => startAwsOnMoto(), awsBackendUnavailable);
