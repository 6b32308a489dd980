#!/usr/bin/env bash
# Runs a PUT/GET round trip through the API deployed on LocalStack; exits 1 with a clear message without LocalStack.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/localstack-check.sh
. scripts/localstack-check.sh smoke:local
OUTPUTS="${SEALSTORE_OUTPUTS:-cdk.out/local-outputs.json}"
if [ ! -f "$OUTPUTS" ]; then
  echo "smoke:local: $OUTPUTS not found; run 'npm run deploy:local' first." >&2
  exit 1
fi
exec npx tsx scripts/smoke-local.ts "$OUTPUTS"
