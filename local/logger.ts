// Structured one-line JSON logs, the same shape Lambda's CloudWatch logs get.
export interface Logger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

function line(level: string, message: string, fields?: Record<string, unknown>): string {
  return JSON.stringify({ time: new Date().toISOString(), level, message, ...fields });
}

export const consoleLogger: Logger = {
  info: (m, f) => process.stdout.write(`${line('info', m, f)}\n`),
  warn: (m, f) => process.stderr.write(`${line('warn', m, f)}\n`),
  error: (m, f) => process.stderr.write(`${line('error', m, f)}\n`),
};

/** Warnings and errors only: request lines would drown a terminal. */
export const quietLogger: Logger = {
  info: () => undefined,
  warn: (m, f) => consoleLogger.warn(m, f),
  error: (m, f) => consoleLogger.error(m, f),
};

export const silentLogger: Logger = {
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};
