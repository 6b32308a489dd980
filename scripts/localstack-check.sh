# Sourced by the LocalStack scripts: sets LOCALSTACK_ENDPOINT and exits 1, saying why, when no LocalStack answers.
LOCALSTACK_ENDPOINT="${LOCALSTACK_ENDPOINT:-http://localhost:4566}"
if ! node -e '
  fetch(process.argv[1] + "/_localstack/health", { signal: AbortSignal.timeout(3000) })
    .then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1));
' "$LOCALSTACK_ENDPOINT"; then
  echo "$1: no LocalStack answers at $LOCALSTACK_ENDPOINT ($LOCALSTACK_ENDPOINT/_localstack/health did not respond)." >&2
  echo "  LocalStack runs in Docker: start it with 'docker run --rm -p 4566:4566 localstack/localstack'" >&2
  echo "  (or set LOCALSTACK_ENDPOINT), then run this again. Nothing was deployed or called." >&2
  exit 1
fi
export AWS_ENDPOINT_URL="$LOCALSTACK_ENDPOINT"
export AWS_ACCESS_KEY_ID="${AWS_ACCESS_KEY_ID:-test}"
export AWS_SECRET_ACCESS_KEY="${AWS_SECRET_ACCESS_KEY:-test}"
export AWS_REGION="${AWS_REGION:-us-east-1}"
export AWS_DEFAULT_REGION="$AWS_REGION"
export CDK_DISABLE_CLI_TELEMETRY=true
