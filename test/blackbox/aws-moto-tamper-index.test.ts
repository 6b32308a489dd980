// Tampering with the index on the AWS backend (DynamoDB items on moto_server); the suite: tamper-index-suite.ts.
// Its own file so that jest runs it beside the embedded half instead of after it.
import { motoHarness, tamperSuite } from './tamper-index-suite';
import { awsBackendUnavailable } from '../support/aws-target';

if (awsBackendUnavailable) {
  describe('tampering with the index, AWS backend (DynamoDB items on moto)', () => {
    it.skip(`skipped: ${awsBackendUnavailable}`, () => undefined);
  });
} else {
  tamperSuite('AWS backend (DynamoDB items on moto)', motoHarness, { chunkedObject: false });
}
