// The embedded server's loggers: the Lambdas' JSON lines, with warnings and errors on stderr for a terminal.
import { lineLogger, type Logger } from '../lambdas/core/logger';

export const consoleLogger: Logger = lineLogger(process.stdout, process.stderr);

/** Warnings and errors only: request lines would drown a terminal. */
export const quietLogger: Logger = { ...consoleLogger, info: () => undefined };
