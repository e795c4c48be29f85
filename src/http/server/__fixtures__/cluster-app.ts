/**
 * A clustered app for the real-process tests: `node --import tsx cluster-app.ts`.
 * Behaviour is chosen by env: CRASH_ON_START, HANG_ON_SHUTDOWN, SLOW_SHUTDOWN (ms), MAX_RESTARTS.
 */
import { runCluster } from '../cluster-supervisor.js';
import { HttpServer } from '../http-server.js';
import type { ServerLogger } from '../server-options.js';

const line =
  (level: string) =>
  (obj: object, msg?: string): void => {
    const { err, ...rest } = obj as { err?: unknown };
    const error = err instanceof Error ? err.message : undefined;
    console.log(JSON.stringify({ level, pid: process.pid, msg, ...rest, error }));
  };
const logger: ServerLogger = { info: line('info'), warn: line('warn'), error: line('error') };

await runCluster({
  workers: 2,
  restartDelay: 20,
  maxRestartsPerMinute: Number(process.env.MAX_RESTARTS ?? 10),
  shutdownTimeout: 10_000,
  logger,
  start: async () => {
    if (process.env.CRASH_ON_START) throw new Error('database unreachable');
    const server = new HttpServer(
      (_req, res) => {
        res.setHeader('x-worker-pid', String(process.pid));
        res.end('ok');
      },
      { port: 0 },
    );
    const { port } = await server.listen();
    console.log(JSON.stringify({ msg: 'worker listening', pid: process.pid, port }));
    // As Keel's kernel does: the first signal shuts down gracefully, a second forces exit.
    let stopping = false;
    const stop = async (signal: NodeJS.Signals): Promise<void> => {
      if (stopping) {
        console.log(JSON.stringify({ msg: 'worker forced exit', pid: process.pid, signal }));
        process.exit(signal === 'SIGINT' ? 130 : 143);
      }
      stopping = true;
      console.log(JSON.stringify({ msg: 'worker stopping', pid: process.pid, signal }));
      if (process.env.HANG_ON_SHUTDOWN) return;
      await new Promise((resolve) => setTimeout(resolve, Number(process.env.SLOW_SHUTDOWN ?? 0)));
      await server.close({ timeout: 5_000 });
      process.exit(0);
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  },
});
