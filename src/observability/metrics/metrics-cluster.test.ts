import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import {
  APP_FILE,
  createFixtureApp,
  type FixtureApp,
  moduleFile,
} from '../../../test/support/fixture-app.js';
import { keelProcesses } from '../../../test/support/keel-process.js';
import { get } from '../../http/server/__fixtures__/http-get.js';
import { sample } from './__fixtures__/exposition.js';

const MAIN = fileURLToPath(new URL('../../cli/main.ts', import.meta.url));
const fixtures: FixtureApp[] = [];
const startKeel = keelProcesses();
afterEach(async () => {
  await Promise.all(fixtures.splice(0).map((f) => f.cleanup()));
});

describe('metrics across cluster workers (real processes)', () => {
  it('a scrape of any worker returns the sum over both workers', async () => {
    const fixture = await createFixtureApp({
      'keel.config.ts': APP_FILE,
      'run.mjs': `import { main } from '${MAIN}';\nawait main();\n`,
      'config/http.ts': `export default { port: 0, host: '127.0.0.1' };\n`,
      'config/metrics.ts': `export default { defaultMetrics: false };\n`,
      'modules/shop/module.ts': moduleFile(
        `{ name: 'shop', version: '1.0.0', routes: () => import('./routes.ts') }`,
      ),
      'modules/shop/routes.ts': `export default (router) => { router.get('/pid', () => ({ pid: process.pid })); };\n`,
    });
    fixtures.push(fixture);
    const keel = startKeel(fixture.root, ['run.mjs', 'serve', '--workers', '2']);
    await expect
      .poll(
        () => keel.output().match(/HTTP listening on http:\/\/127\.0\.0\.1:\d+/g)?.length ?? 0,
        {
          timeout: 40_000,
          interval: 100,
        },
      )
      .toBe(2);
    const port = Number(/HTTP listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(keel.output())?.[1]);

    // Round-robin spreads new connections over the workers: keep going until both served.
    const pids = new Map<number, number>();
    let sent = 0;
    while ((pids.size < 2 || sent < 10) && sent < 200) {
      const res = await get(port, '/pid');
      expect(res.status).toBe(200);
      const pid = (JSON.parse(res.body) as { pid: number }).pid;
      pids.set(pid, (pids.get(pid) ?? 0) + 1);
      sent++;
    }
    expect(pids.size).toBe(2);

    for (let i = 0; i < 4; i++) {
      const res = await get(port, '/_metrics');
      expect(res.status).toBe(200);
      expect(res.headers['x-metrics-workers']).toBe('2');
      expect(sample(res.body, 'keel_http_requests_total', { route: '/pid', status: '200' })).toBe(
        sent,
      );
      // Each worker alone served fewer than that: the scrape summed them.
      for (const count of pids.values()) expect(count).toBeLessThan(sent);
    }
    const json = await get(port, '/_metrics?format=json');
    const metrics = JSON.parse(json.body) as Array<{
      name: string;
      values: Array<{ value: number; labels: Record<string, string> }>;
    }>;
    const requests = metrics.find((m) => m.name === 'keel_http_requests_total');
    expect(requests?.values.find((v) => v.labels.route === '/pid')?.value).toBe(sent);

    keel.child.kill('SIGTERM');
    await keel.exited;
  }, 90_000);
});
