import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { requireService, serviceReachable } from './support/services.js';

describe('real-service gate', () => {
  const saved = process.env.CI;
  afterEach(() => {
    if (saved === undefined) delete process.env.CI;
    else process.env.CI = saved;
  });

  it('sees a listening service', async () => {
    const server = createServer().listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    const port = (server.address() as { port: number }).port;
    expect(await serviceReachable('127.0.0.1', port)).toBe(true);
    expect(await requireService('fake', '127.0.0.1', port)).toBe(true);
    server.close();
  });

  it('skips locally and fails under CI=true when a service is down', async () => {
    const server = createServer().listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    const port = (server.address() as { port: number }).port;
    await new Promise((r) => server.close(r));
    process.env.CI = 'false';
    expect(await requireService('gone', '127.0.0.1', port)).toBe(false);
    process.env.CI = 'true';
    await expect(requireService('gone', '127.0.0.1', port)).rejects.toThrow(/CI=true requires it/);
  });
});
