// The owners / ListBuckets / listing / presign conformance suite with the AWS adapters against moto_server.
import { describeAuthBucketsListingSuite } from './auth-buckets-listing-suite';
import { awsBackendUnavailable, startAwsOnMoto } from '../../support/aws-target';

describeAuthBucketsListingSuite('aws-on-moto', () => startAwsOnMoto(), awsBackendUnavailable);
