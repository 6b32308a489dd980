#!/usr/bin/env bash
# Bootstraps and deploys the sealstore stack to LocalStack with cdklocal; exits 1 with a clear message without LocalStack.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/localstack-check.sh
. scripts/localstack-check.sh deploy:local

# cdklocal (aws-cdk-local) points the project's own aws-cdk CLI at LocalStack. It is not a dependency:
# npx fetches it only here, once LocalStack is known to answer.
cdklocal() { npx --yes --package aws-cdk-local@3 cdklocal "$@"; }
ACCOUNT="${LOCALSTACK_ACCOUNT:-000000000000}"
cdklocal bootstrap "aws://$ACCOUNT/$AWS_REGION"
cdklocal deploy --require-approval never --outputs-file cdk.out/local-outputs.json "$@"
echo "deploy:local: outputs written to cdk.out/local-outputs.json; next: npm run smoke:local"
