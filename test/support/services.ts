import { createConnection } from 'node:net';

/** Whether a TCP service answers. */
export function serviceReachable(host: string, port: number, timeoutMs = 1500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host, port });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/**
 * Decide whether a real-service suite runs: true when the service answers; when it does
 * not, locally the suite is skipped with a message, and under `CI=true` this throws so the
 * run fails instead of passing by skipping.
 *
 * @example
 * ```ts
 * const hasRedis = await requireService('Redis', '127.0.0.1', 6379);
 * describe.runIf(hasRedis)('redis store', () => { ... });
 * ```
 */
export async function requireService(name: string, host: string, port: number): Promise<boolean> {
  if (await serviceReachable(host, port)) return true;
  const message = `${name} at ${host}:${port} is unreachable`;
  if (process.env.CI === 'true') throw new Error(`${message}; CI=true requires it`);
  console.warn(`skipping ${name} suites: ${message}`);
  return false;
}
