/**
 * The edit-loop tier, `npm run test:fast`: unit tests, the port contracts on the embedded adapters and the
 * embedded black-box suites; under 90 s on 2 cores. `npm test` (jest.config.js) runs everything and is what CI runs.
 *
 * Left out here, by path:
 *   test/aws/            AWS adapters over moto_server
 *   aws-moto*.test.ts    black-box, lifecycle and admin suites on the AWS backend over moto_server
 *   test/cdk/            CDK synth, esbuild bundling, cfn-lint
 *   test/artifact/       the synthesized bundles under a Lambda runtime stand-in, on moto_server
 *   test/reliability/    soak, concurrency, fault-injection and fuzzed-input runs
 *   cli-clients.test.ts  the AWS CLI and curl as clients
 *   first-hour-messages.test.ts  what unsigned, SigV2 and curl requests are told (the AWS CLI and curl)
 *   large-objects.test.ts  GiB objects, aws s3 sync, boto3 transfers
 *   cp-large.test.ts     the 1 GiB `sealstore cp` round trip through the stack's request path
 *   test/readme/         the README's quick start run as written (the AWS CLI and curl; about a minute)
 * and, by SEALSTORE_TEST_TIER=fast (test/support/tier.ts), the moto_server half of files that also test the
 * embedded backend and the 200 MiB multipart round trip: those show as skipped, with the reason.
 */
process.env.SEALSTORE_TEST_TIER = 'fast';
const base = require('./jest.config');

module.exports = {
  ...base,
  testPathIgnorePatterns: [
    '/node_modules/',
    '<rootDir>/test/aws/',
    '/aws-moto[^/]*\\.test\\.ts$',
    '<rootDir>/test/cdk/',
    '<rootDir>/test/artifact/',
    '<rootDir>/test/reliability/',
    '<rootDir>/test/blackbox/cli-clients\\.test\\.ts$',
    '<rootDir>/test/blackbox/first-hour-messages\\.test\\.ts$',
    '<rootDir>/test/blackbox/large-objects\\.test\\.ts$',
    '<rootDir>/test/transfer/cp-large\\.test\\.ts$',
    '<rootDir>/test/readme/',
  ],
  // Jest's default on 2 cores is one worker; most suites here wait on sockets, child processes and fsync.
  maxWorkers: 2,
};
