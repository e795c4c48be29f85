export interface SignalHandlerOptions {
  /** Called on the first SIGTERM/SIGINT; should resolve when shutdown is complete. */
  shutdown: (signal: NodeJS.Signals) => Promise<void>;
  /** Called on a second signal, or when shutdown rejects; defaults to `process.exit`. */
  exit?: (code: number) => void;
  signals?: NodeJS.Signals[];
  onForced?: (signal: NodeJS.Signals) => void;
  onError?: (error: unknown) => void;
}

/**
 * SIGTERM/SIGINT start a graceful shutdown; a second signal while it runs forces exit
 * (code 130 for SIGINT, 143 for SIGTERM, as shells report them). Returns a remover.
 *
 * @example
 * ```ts
 * installSignalHandlers({ shutdown: () => app.shutdown('signal') });
 * ```
 */
export function installSignalHandlers(options: SignalHandlerOptions): () => void {
  const exit = options.exit ?? ((code: number) => process.exit(code));
  const signals = options.signals ?? ['SIGTERM', 'SIGINT'];
  let shuttingDown = false;
  const handler = (signal: NodeJS.Signals): void => {
    const code = signal === 'SIGINT' ? 130 : 143;
    if (shuttingDown) {
      options.onForced?.(signal);
      exit(code);
      return;
    }
    shuttingDown = true;
    options.shutdown(signal).then(
      () => exit(0),
      (error: unknown) => {
        options.onError?.(error);
        exit(1);
      },
    );
  };
  for (const signal of signals) process.on(signal, handler);
  return () => {
    for (const signal of signals) process.off(signal, handler);
  };
}
