/** Tests are TypeScript, compiled by ts-jest file by file (tsconfig's isolatedModules: no type checking here); type checking runs in `npm run lint` and before jest in `npm test`. */

// The AWS SDK warns, once per process (every jest worker, every server a test starts), that its releases after
// January 2027 need Node.js 22. That is for the maintainers, who choose the Node.js versions sealstore supports
// (README: Requirements), not news for every test run; this is the SDK's own switch (@aws-sdk/core,
// emitWarningIfUnsupportedVersion). Set here, before the workers start, so every process the tests spawn inherits it.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': 'ts-jest' },
  testTimeout: 60000,
  // Jest's default on 2 cores is one worker; most suites wait on sockets, child processes, moto and fsync. With one
  // worker the suites' times add up to well over 10 minutes; two workers finish them in about 6.5 on 2 cores. The
  // timing-sensitive suites assert counts and invariants, not rates, and memory is measured per server process.
  maxWorkers: 2,
};
