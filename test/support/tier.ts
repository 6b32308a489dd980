// Test tiers. `npm test` runs everything (CI). `npm run test:fast` (jest.fast.config.js) is the edit loop: it leaves
// out whole directories by path, and sets SEALSTORE_TEST_TIER=fast so files that mix an embedded half with a
// moto_server or large-object half run only the embedded half; the rest shows as skipped with this reason.
export const fastTier = process.env['SEALSTORE_TEST_TIER'] === 'fast';

/** Why `what` does not run here (the fast tier), or undefined when it does. */
export function leftOutOfFastTier(what: string): string | undefined {
  return fastTier ? `${what} left out of the fast tier (npm run test:fast); npm test runs it` : undefined;
}
