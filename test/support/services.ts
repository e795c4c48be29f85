// @ts-expect-error: a plain ESM script without types
import { reachable } from '../../scripts/check-services.mjs';

/** Whether a TCP service answers (the same probe `.ci/run` uses). */
export function serviceReachable(host: string, port: number, timeoutMs = 1500): Promise<boolean> {
  return reachable({ host, port }, timeoutMs);
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
