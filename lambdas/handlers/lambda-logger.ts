// The Lambdas' logger: every level on stdout, which Lambda sends to CloudWatch Logs one line per entry.
import { lineLogger } from '../core/logger';

export const lambdaLogger = lineLogger(process.stdout);
