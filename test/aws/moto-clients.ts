// SDK clients pointed at a test's moto_server, with dummy credentials: nothing here can reach real AWS.
import { createAwsClients, type AwsClients } from '../../lambdas/adapters/aws/config';
import { motoCredentials, motoRegion } from '../support/moto';

export function motoClients(endpoint: string): AwsClients {
  return createAwsClients({ endpoint, region: motoRegion, credentials: motoCredentials }, {});
}
