import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { APP_FILE, createFixtureApp, type FixtureApp, moduleFile } from './support/fixture-app.js';
import { keelProcesses } from './support/keel-process.js';

const MAIN = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
const fixtures: FixtureApp[] = [];
const startKeel = keelProcesses();
afterEach(async () => {
  await Promise.all(fixtures.splice(0).map((f) => f.cleanup()));
});

async function serveApp(
  shutdownBody: string,
): Promise<{ fixture: FixtureApp; child: ChildProcess; output: () => string }> {
  const fixture = await createFixtureApp({
    'keel.config.ts': APP_FILE,
    'run.mjs': `import { main } from '${MAIN}';\nawait main();\n`,
    // An ephemeral port: a dev server on the default port must not fail this test.
    'config/http.ts': `export default { port: 0, host: '127.0.0.1' };\n`,
    'modules/worker/module.ts': moduleFile(`{
      name: 'worker', version: '1.0.0',
      providers: async () => [(await import('./provider.ts')).WorkerProvider],
    }`),
    'modules/worker/provider.ts': `import { writeFileSync } from 'node:fs';
import { ServiceProvider } from '{{keel}}';
export class WorkerProvider extends ServiceProvider {
  async shutdown() { ${shutdownBody} }
}`,
  });
  fixtures.push(fixture);
  const { child, output } = startKeel(fixture.root, ['run.mjs', 'serve']);
  await expect.poll(output, { timeout: 20_000, interval: 50 }).toContain('is running');
  return { fixture, child, output };
}

function exitOf(
  child: ChildProcess,
): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}

describe('signals (real process)', () => {
  it('SIGTERM runs a graceful shutdown: providers finish, exit code 0', async () => {
    const { fixture, child, output } = await serveApp(
      `await new Promise((r) => setTimeout(r, 200)); writeFileSync('${'shutdown-done'}', 'ok');`,
    );
    const exited = exitOf(child);
    child.kill('SIGTERM');
    expect(await exited).toEqual({ code: 0, signal: null });
    expect(existsSync(join(fixture.root, 'shutdown-done'))).toBe(true);
    expect(output()).toContain('SIGTERM received');
  }, 30_000);

  it('a second signal forces exit while shutdown hangs', async () => {
    const { child, output } = await serveApp('await new Promise(() => {});');
    const exited = exitOf(child);
    child.kill('SIGINT');
    await expect.poll(() => output(), { timeout: 10_000 }).toContain('SIGINT received');
    child.kill('SIGINT');
    expect(await exited).toEqual({ code: 130, signal: null });
    expect(output()).toContain('forced exit');
  }, 30_000);
});
