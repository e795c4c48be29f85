import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import {
  APP_FILE,
  createFixtureApp,
  type FixtureApp,
  moduleFile,
} from '../../test/support/fixture-app.js';
import { CommandRegistry } from './command-registry.js';
import { ConsoleUI } from './console-ui.js';
import { runCli } from './kernel-cli.js';

const fixtures: FixtureApp[] = [];
afterEach(async () => {
  await Promise.all(fixtures.splice(0).map((f) => f.cleanup()));
});

function capture(tty = false): { stream: PassThrough & { isTTY?: boolean }; text(): string } {
  const stream = new PassThrough() as PassThrough & { isTTY?: boolean };
  stream.isTTY = tty;
  let data = '';
  stream.on('data', (chunk: Buffer) => {
    data += chunk.toString();
  });
  return { stream, text: () => data };
}

async function cli(argv: string[], cwd: string, env: Record<string, string> = {}) {
  const out = capture();
  const err = capture();
  const code = await runCli({
    argv,
    cwd,
    stdout: out.stream,
    stderr: err.stream,
    processEnv: env,
    signals: false,
  });
  return { code, stdout: out.text(), stderr: err.text() };
}

async function app(): Promise<FixtureApp> {
  const fixture = await createFixtureApp({
    'keel.config.ts': APP_FILE,
    'modules/shop/module.ts': moduleFile(`{
      name: 'shop', version: '1.0.0',
      commands: () => import('./commands.ts'),
      providers: async () => [(await import('./provider.ts')).ShopProvider],
    }`),
    'modules/shop/provider.ts': `import { ServiceProvider } from '{{keel}}';
export class ShopProvider extends ServiceProvider {
  register() { this.app.container.value('shop.items', ['apple', 'pear']); }
  async shutdown() { (globalThis.__shopStops ??= []).push('stopped'); }
}`,
    'modules/shop/commands.ts': `import { defineCommand } from '{{keel}}';
export default [
  defineCommand({ name: 'shop:items', description: 'List items', aliases: ['items'], json: true,
    options: [{ flags: '--upper', description: 'uppercase' }],
    handle({ app, ui, options }) {
      const items = app.make('shop.items').map((i) => options.upper ? i.toUpperCase() : i);
      ui.output(items, () => ui.table(items.map((name) => ({ name }))));
      return 0;
    } }),
  defineCommand({ name: 'shop:fail', description: 'Fails', handle() { throw new Error('shelf collapsed'); } }),
  defineCommand({ name: 'shop:code', description: 'Exit code', arguments: [{ name: 'code', required: true }],
    handle({ args }) { return Number(args.code); } }),
  defineCommand({ name: 'shop:run', description: 'Runs until stopped', needs: 'started', longRunning: true,
    handle({ ui }) { ui.line('running'); return 0; } }),
];`,
  });
  fixtures.push(fixture);
  return fixture;
}

describe('runCli', () => {
  it('lists core and module commands in --help', async () => {
    const fixture = await app();
    const result = await cli(['--help'], fixture.root);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('shop:items|items');
    expect(result.stdout).toContain('compile');
    expect(result.stdout).toContain('setup:install|s:i');
  });

  it('runs a module command by name and alias, with options and --json', async () => {
    const fixture = await app();
    const table = await cli(['shop:items'], fixture.root);
    expect(table.code).toBe(0);
    expect(table.stdout).toContain('apple');
    expect(table.stdout).not.toContain('\u001b['); // no colours off a TTY
    const json = await cli(['items', '--upper', '--json'], fixture.root);
    expect(JSON.parse(json.stdout)).toEqual(['APPLE', 'PEAR']);
  });

  it('shuts the app down after a command', async () => {
    const fixture = await app();
    (globalThis as Record<string, unknown>).__shopStops = [];
    await cli(['shop:items'], fixture.root);
    expect((globalThis as Record<string, unknown>).__shopStops).toEqual(['stopped']);
  });

  it('returns the handler exit code, and 1 with a coded error on failure', async () => {
    const fixture = await app();
    expect((await cli(['shop:code', '3'], fixture.root)).code).toBe(3);
    const failed = await cli(['shop:fail'], fixture.root);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain('E_COMMAND_FAILED');
    expect(failed.stderr).toContain('shelf collapsed');
    expect(failed.stdout).toContain('help:');
    const verbose = await cli(['shop:fail', '--verbose'], fixture.root);
    expect(verbose.stdout).toMatch(/at .*commands\.ts/);
  });

  it('suggests the nearest command for a typo', async () => {
    const fixture = await app();
    const result = await cli(['shop:itmes'], fixture.root);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('E_COMMAND_NOT_FOUND');
    expect(result.stderr).toContain('Did you mean "shop:items"');
  });

  it('fails on a missing required argument', async () => {
    const fixture = await app();
    const result = await cli(['shop:code'], fixture.root);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("missing required argument 'code'");
  });

  it('runs core commands outside an application folder', async () => {
    const fixture = await createFixtureApp({ '.env.example': 'APP_NAME=x\nAPP_KEY=\n' });
    fixtures.push(fixture);
    const result = await cli(['setup:install'], fixture.root);
    expect(result.code).toBe(0);
    const again = await cli(['s:i'], fixture.root);
    expect(again.stderr).toContain('already exists');
    const none = await cli(['shop:items'], fixture.root);
    expect(none.code).toBe(1);
  });

  it('reports a broken application instead of crashing', async () => {
    const fixture = await app();
    await fixture.write(
      'modules/shop/module.ts',
      moduleFile(`{ name: 'shop', version: 'not-semver' }`),
    );
    const result = await cli(['shop:items'], fixture.root);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('E_MODULE_LOAD_FAILED');
    expect(result.stderr).toContain('not-semver');
  });

  it('keeps long-running commands up until stopped', async () => {
    const fixture = await app();
    const out = capture();
    let stop: (() => Promise<void>) | undefined;
    const running = runCli({
      argv: ['shop:run', '--profile-boot'],
      cwd: fixture.root,
      stdout: out.stream,
      stderr: capture().stream,
      processEnv: {},
      signals: false,
      onLongRunning: (s) => {
        stop = s;
      },
    });
    await expect.poll(() => stop !== undefined).toBe(true);
    expect(out.text()).toContain('running');
    expect(out.text()).toContain('Boot profile');
    await stop!();
    expect(await running).toBe(0);
  });
});

describe('CommandRegistry', () => {
  const handle = () => 0;
  it('rejects invalid and conflicting commands', () => {
    const registry = new CommandRegistry();
    registry.add({ name: 'a:b', description: '', aliases: ['ab'], handle });
    expect(() => registry.add({ name: 'a:b', description: '', handle })).toThrowError(
      expect.objectContaining({ code: 'E_COMMAND_CONFLICT' }),
    );
    expect(() =>
      registry.add({ name: 'x:y', description: '', aliases: ['ab'], handle, module: 'm' }),
    ).toThrowError(/module m/);
    expect(() => registry.add(null)).toThrowError(
      expect.objectContaining({ code: 'E_INVALID_COMMAND' }),
    );
    expect(() => registry.add({ name: 'Bad Name', description: '', handle })).toThrowError(
      /group:action/,
    );
    expect(() => registry.add({ name: 'ok', description: '' })).toThrowError(/handle/);
    expect(registry.find('ab')?.name).toBe('a:b');
    expect(() => registry.get('zzz')).toThrowError(
      expect.objectContaining({ code: 'E_COMMAND_NOT_FOUND' }),
    );
  });
});

describe('ConsoleUI', () => {
  it('colours only on a TTY and sends human text to stderr under --json', async () => {
    const tty = capture(true);
    const ui = new ConsoleUI({ stdout: tty.stream, stderr: tty.stream, colors: true });
    ui.success('done');
    expect(tty.text()).toContain('\u001b[');
    const out = capture();
    const err = capture();
    const json = new ConsoleUI({ json: true, stdout: out.stream, stderr: err.stream });
    json.info('working');
    json.table([{ a: 1 }]);
    json.output({ ok: true }, () => json.line('human'));
    expect(JSON.parse(out.text())).toEqual({ ok: true });
    expect(err.text()).toContain('working');
  });

  it('prints tables with aligned columns and an empty marker', () => {
    const out = capture();
    const ui = new ConsoleUI({ stdout: out.stream, stderr: out.stream });
    ui.table([
      { name: 'alpha', n: 1, when: new Date(0), obj: { a: 1 }, none: null },
      { name: 'b', n: 22 },
    ]);
    ui.table([]);
    const lines = out.text().split('\n');
    expect(lines[0]).toMatch(/^name\s+n\s+when\s+obj\s+none$/);
    expect(lines[2]).toContain('1970-01-01T00:00:00.000Z');
    expect(out.text()).toContain('(none)');
  });

  it('draws progress only on a TTY and answers confirm with the default when not interactive', async () => {
    const tty = capture(true);
    const ui = new ConsoleUI({ stdout: tty.stream, stderr: tty.stream });
    const bar = ui.progress(4, 'work');
    bar.tick(2);
    bar.done();
    expect(tty.text()).toContain('4/4');
    const plain = capture();
    const quiet = new ConsoleUI({ stdout: plain.stream, stderr: plain.stream });
    quiet.progress(2).done();
    expect(plain.text()).toBe('');
    expect(await quiet.confirm('sure?', true)).toBe(true);
    expect(
      quiet.bold('x') + quiet.dim('y') + quiet.red('z') + quiet.yellow('w') + quiet.green('v'),
    ).toBe('xyzwv');
    quiet.warn('w');
    quiet.error('e');
    expect(plain.text()).toContain('⚠ w');
  });
});
