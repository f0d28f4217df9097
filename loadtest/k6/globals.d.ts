// k6 runs scripts with a global console (log, info, warn, error, debug),
// which k6's typings (@types/k6) do not declare.
declare const console: {
  log(...data: unknown[]): void;
  info(...data: unknown[]): void;
  warn(...data: unknown[]): void;
  error(...data: unknown[]): void;
  debug(...data: unknown[]): void;
};
