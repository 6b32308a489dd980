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

export const silentLogger: Logger = {
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};
