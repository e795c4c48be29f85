import { describe, expect, it } from 'vitest';
import { providerApps } from '../../../test/support/provider-app.js';
import { HttpProvider } from '../../http/index.js';
import { RateLimitProvider } from '../../security/rate-limit/rate-limit-provider.js';
import { MetricsProvider } from './metrics-provider.js';

const apps = providerApps([HttpProvider, RateLimitProvider, MetricsProvider]);

async function scrapes(metrics: string, count: number): Promise<number[]> {
  const app = await apps.create({ 'config/metrics.ts': `export default ${metrics};\n` });
  await app.boot();
  await app.start();
  const statuses: number[] = [];
  for (let i = 0; i < count; i++)
    statuses.push((await app.make('http').inject({ url: '/_metrics' })).statusCode);
  return statuses;
}

describe('/_metrics rate limit', () => {
  it('limits scrapes per client once rate limiting is registered (429 problem past metrics.rateLimit a minute)', async () => {
    expect(await scrapes('{ rateLimit: 2 }', 3)).toEqual([200, 200, 429]);
  });

  it('is off with rateLimit: false', async () => {
    expect(await scrapes('{ rateLimit: false }', 4)).toEqual([200, 200, 200, 200]);
  });
});
