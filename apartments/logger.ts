// Runtime logging: apartments never prompt (unattended execution); they log structured lines to a
// configurable sink, by default one JSON line per entry on stderr.

/** One log entry; `apartment` is the id of the apartment it concerns. */
export interface LogEntry {
  level: 'debug' | 'info' | 'warn' | 'error';
  message: string;
  apartment: number;
  /** The call chain the entry belongs to, when it was logged while serving a call. */
  causality?: number;
}

/** Where log entries go. */
export type Logger = (entry: LogEntry) => void;

/** The default sink: a JSON line on stderr. */
export const stderrLogger: Logger = (entry) => {
  process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), ...entry })}\n`);
};
