// The refused-headers conformance suite with the AWS adapters (KMS, S3, DynamoDB over SDK v3) on moto_server: bucket
// owners read through DynamoDB's codec for x-amz-expected-bucket-owner.
import { describeRefusedHeadersSuite } from './refused-headers-suite';
import { awsBackendUnavailable, startAwsOnMoto } from '../../support/aws-target';

describeRefusedHeadersSuite('aws-on-moto', () => startAwsOnMoto(), awsBackendUnavailable);
