import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createFixtureApp, type FixtureApp, KEEL_SRC } from '../../../test/support/fixture-app.js';
import { keelProcesses } from '../../../test/support/keel-process.js';
import { PROVIDER_APP_FILES } from '../../../test/support/provider-app.js';
import { Application } from '../application.js';
import { createLogger } from '../logger.js';

const fixtures: FixtureApp[] = [];
const apps: Application[] = [];
const spawnKeel = keelProcesses();

afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.shutdown()));
  await Promise.all(fixtures.splice(0).map((fixture) => fixture.cleanup()));
});

async function fixture(files: Record<string, string>): Promise<FixtureApp> {
  const created = await createFixtureApp({ ...PROVIDER_APP_FILES, ...files }, 'keel-log-');
  fixtures.push(created);
  return created;
}

const FILE_CONFIG = `export default {
  default: 'stack',
  channels: {
    app: { driver: 'file', path: 'var/log/app.log' },
    errors: { driver: 'file', path: 'var/log/errors.log', level: 'error' },
    stack: { driver: 'stack', channels: ['app', 'errors'] },
  },
  processors: [(fields, scope) => ({ region: 'eu' })],
};
`;

function jsonLines(file: string): Array<Record<string, unknown>> {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('the application logger', () => {
  it('is built from config/logging.ts once the config is loaded, and flushed at shutdown', async () => {
    const app = await fixture({ 'config/logging.ts': FILE_CONFIG });
    const created = await Application.create({
      root: app.root,
      environment: 'console',
      env: { APP_ENV: 'development', LOG_LEVEL: 'info' },
    });
    apps.push(created);
    created.moduleLogger('billing').info('hello');
    created.logger.error('bad news');
    await created.shutdown();
    const lines = jsonLines(join(app.root, 'var/log/app.log'));
    expect(lines[0]).toMatchObject({
      app: 'fixture',
      env: 'development',
      version: '0.0.0',
      pid: process.pid,
      module: 'billing',
      region: 'eu',
      msg: 'hello',
    });
    expect(lines.map((l) => l.msg)).toEqual(['hello', 'bad news']);
    expect(jsonLines(join(app.root, 'var/log/errors.log')).map((l) => l.msg)).toEqual(['bad news']);
  });

  it('fails to create with a clear error on a bad logging config', async () => {
    const app = await fixture({
      'config/logging.ts': `export default { channels: { app: { driver: 'file', rotate: 'weekly' } } };\n`,
    });
    await expect(
      Application.create({ root: app.root, environment: 'console' }),
    ).rejects.toMatchObject({
      code: 'E_LOGGING_CONFIG_INVALID',
      message: expect.stringContaining('logging.channels.app.rotate'),
    });
  });

  it('keeps the silent logger in tests and a logger given in the options', async () => {
    const app = await fixture({ 'config/logging.ts': FILE_CONFIG });
    const silent = await Application.create({ root: app.root, environment: 'test' });
    apps.push(silent);
    expect(silent.logger.level).toBe('silent');
    const lines: string[] = [];
    const logger = createLogger({
      name: 'given',
      destination: { write: (l: string) => lines.push(l) },
    });
    const given = await Application.create({ root: app.root, environment: 'console', logger });
    apps.push(given);
    given.logger.info('mine');
    expect(lines).toHaveLength(1);
    expect(existsSync(join(app.root, 'var/log/app.log'))).toBe(false);
  });

  it('writes the last lines of a process stopped with SIGTERM to its file', async () => {
    const kernel = KEEL_SRC.replace(/index\.ts$/, 'kernel/index.ts');
    const app = await fixture({
      'config/logging.ts': `export default { default: 'app', channels: { app: { driver: 'file', rotate: '64K', keep: 50 } } };\n`,
      'run.mts': `import { Application, installSignalHandlers } from ${JSON.stringify(kernel)};
const app = await Application.create({ root: process.cwd(), environment: 'console' });
await app.start();
installSignalHandlers({ shutdown: () => app.shutdown('SIGTERM') });
app.onShutdown(() => app.logger.info('last words'));
for (let i = 0; i < 3000; i++) app.logger.info({ i }, 'line');
process.stdout.write('READY\\n');
setInterval(() => {}, 60_000);
`,
    });
    const proc = spawnKeel(app.root, ['run.mts']);
    await expect.poll(() => proc.output(), { timeout: 20_000 }).toContain('READY');
    proc.child.kill('SIGTERM');
    expect(await proc.exited).toBe(null);
    expect(proc.child.exitCode).toBe(0);
    const dir = join(app.root, 'var/log');
    const { readdirSync } = await import('node:fs');
    const entries = readdirSync(dir)
      .filter((name) => name.endsWith('.log'))
      .flatMap((name) => jsonLines(join(dir, name)));
    const numbered = entries.filter((l) => l.msg === 'line').map((l) => l.i as number);
    expect(numbered.sort((a, b) => a - b)).toEqual([...Array(3000).keys()]);
    // The shutdown's line is the last one written: the end of app.log, or of the newest
    // rotated file when that last write filled app.log and rotated it.
    const files = readdirSync(dir)
      .filter((name) => name.endsWith('.log'))
      .map((name) => jsonLines(join(dir, name)))
      .filter((lines) => lines.some((l) => l.msg === 'last words'));
    expect(files).toHaveLength(1);
    expect(files[0]!.at(-1)!.msg).toBe('last words');
  }, 30_000);
});
