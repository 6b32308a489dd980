// The owners / ListBuckets / listing / presign conformance suite against the embedded backend.
import { describeAuthBucketsListingSuite } from './auth-buckets-listing-suite';
import { startEmbedded } from '../../support/embedded-target';

describeAuthBucketsListingSuite('embedded', () => startEmbedded());
