import { onGatherMessage, setGatherChannel } from './cluster-gather.js';
import type { ServerLogger } from './server-options.js';

/** Sent by the primary: start a graceful shutdown as if `signal` had been received. */
export interface ShutdownMessage {
  type: 'keel:cluster:shutdown';
  signal: NodeJS.Signals;
}

/** Sent by a worker whose `start()` failed, so the primary can name the cause. */
export interface StartFailedMessage {
  type: 'keel:cluster:start-failed';
  error: string;
}

export function isShutdownMessage(message: unknown): message is ShutdownMessage {
  return (
    typeof message === 'object' &&
    message !== null &&
    (message as { type?: unknown }).type === 'keel:cluster:shutdown' &&
    typeof (message as { signal?: unknown }).signal === 'string'
  );
}

export function isStartFailedMessage(message: unknown): message is StartFailedMessage {
  return (
    typeof message === 'object' &&
    message !== null &&
    (message as { type?: unknown }).type === 'keel:cluster:start-failed' &&
    typeof (message as { error?: unknown }).error === 'string'
  );
}

/** The parts of `process` a worker uses; replaced by a fake in tests. */
export interface WorkerProcess {
  readonly pid: number;
  on(event: NodeJS.Signals, listener: (signal: NodeJS.Signals) => void): unknown;
  on(event: 'message', listener: (message: unknown) => void): unknown;
  off(event: NodeJS.Signals, listener: (signal: NodeJS.Signals) => void): unknown;
  off(event: 'message', listener: (message: unknown) => void): unknown;
  listenerCount(event: string): number;
  kill(pid: number, signal: NodeJS.Signals): unknown;
  send?: ((message: unknown, callback: (error: Error | null) => void) => boolean) | undefined;
  exit(code: number): void;
}

const SHUTDOWN_SIGNALS: NodeJS.Signals[] = ['SIGTERM', 'SIGINT'];

/**
 * The worker half of the cluster: run `start()`, and turn the primary's shutdown message
 * into the signal the application already handles.
 *
 * The primary forwards shutdown as a message rather than a signal because Ctrl-C in a
 * terminal signals the whole process group: the worker has its own SIGINT already, and a
 * second one would count as "force exit" in Keel's signal handling. So a forwarded
 * shutdown is ignored once the worker has seen a signal of its own.
 */
export async function runClusterWorker(
  start: () => Promise<void>,
  logger: ServerLogger,
  proc: WorkerProcess = process as unknown as WorkerProcess,
): Promise<void> {
  let signalled = false;
  const onMessage = (message: unknown): void => {
    if (!isShutdownMessage(message)) {
      onGatherMessage(proc, message);
      return;
    }
    if (signalled) return;
    proc.kill(proc.pid, message.signal);
  };
  const onSignal = (signal: NodeJS.Signals): void => {
    signalled = true;
    // A 'message' listener keeps the IPC channel, and so the process, alive; once shutdown
    // began the worker must be free to exit when its server closes.
    proc.off('message', onMessage);
    setGatherChannel(undefined);
    // Listening suppresses Node's default action (terminate). When nothing else handles
    // the signal, give it back its default and raise it again.
    if (proc.listenerCount(signal) === 1) {
      proc.off(signal, onSignal);
      proc.kill(proc.pid, signal);
    }
  };
  for (const signal of SHUTDOWN_SIGNALS) proc.on(signal, onSignal);
  proc.on('message', onMessage);
  setGatherChannel(proc);
  try {
    await start();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    logger.error({ err: error, pid: proc.pid }, `Cluster worker failed to start: ${message}`);
    const failed: StartFailedMessage = { type: 'keel:cluster:start-failed', error: message };
    if (proc.send) proc.send(failed, () => proc.exit(1));
    else proc.exit(1);
  }
}
