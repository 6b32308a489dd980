// The one logger shape every layer writes to: a message and structured fields, one JSON line per entry.
// Levels mean something: error = an operator must act; warn = the store worked around something unusual;
// info = routine. Never pass key material, secrets or object bodies as fields.
export type LogFields = Record<string, unknown>;

export interface Logger {
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

/** A JSON line as CloudWatch Logs Insights and `jq` read it. */
export function logLine(level: 'info' | 'warn' | 'error', message: string, fields?: LogFields): string {
  return JSON.stringify({ time: new Date().toISOString(), level, message, ...fields });
}

/** Where log lines go: process.stdout, process.stderr, or anything else with a write. */
export interface LineSink {
  write(line: string): unknown;
}

/** A Logger writing one logLine per entry: info to `out`, warn and error to `problems`. */
export function lineLogger(out: LineSink, problems: LineSink = out): Logger {
  return {
    info: (message, fields) => out.write(`${logLine('info', message, fields)}\n`),
    warn: (message, fields) => problems.write(`${logLine('warn', message, fields)}\n`),
    error: (message, fields) => problems.write(`${logLine('error', message, fields)}\n`),
  };
}

export const silentLogger: Logger = {
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};
