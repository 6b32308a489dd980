// The headers and conditionals conformance suite with the AWS adapters (KMS, S3, DynamoDB over SDK v3) on moto_server:
// the new row attributes through DynamoDB's codec, conditional deletes through its transactions.
import { describeHeadersConditionalsSuite } from './headers-conditionals-suite';
import { awsBackendUnavailable, startAwsOnMoto } from '../../support/aws-target';

describeHeadersConditionalsSuite('aws-on-moto', () => startAwsOnMoto(), awsBackendUnavailable);
