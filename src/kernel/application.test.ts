import { afterEach, describe, expect, it } from 'vitest';
import {
  APP_FILE,
  createFixtureApp,
  type FixtureApp,
  moduleFile,
} from '../../test/support/fixture-app.js';
import { Application } from './application.js';

const fixtures: FixtureApp[] = [];
afterEach(async () => {
  await Promise.all(fixtures.splice(0).map((f) => f.cleanup()));
  delete (globalThis as Record<string, unknown>).__keelTrace;
});

function trace(): string[] {
  const g = globalThis as Record<string, unknown>;
  g.__keelTrace ??= [];
  return g.__keelTrace as string[];
}

/** A provider source that records each phase in globalThis.__keelTrace. */
function tracingProvider(name: string, extra = ''): string {
  return `
import { ServiceProvider } from '{{keel}}';
const t = () => (globalThis.__keelTrace ??= []);
export class ${name} extends ServiceProvider {
  register() { t().push('${name}:register'); }
  async boot() { t().push('${name}:boot'); }
  async start() { t().push('${name}:start'); }
  async ready() { t().push('${name}:ready'); }
  async shutdown() { t().push('${name}:shutdown'); }
  ${extra}
}
`;
}

async function threeModuleApp(overrides: Record<string, string> = {}): Promise<FixtureApp> {
  const app = await createFixtureApp({
    'keel.config.ts': APP_FILE,
    'modules/alpha/module.ts': moduleFile(`{
      name: 'alpha', version: '1.2.0',
      config: { greeting: 'hello', limit: 10 },
      providers: async () => [(await import('./provider.ts')).AlphaProvider],
    }`),
    'modules/alpha/provider.ts': tracingProvider('AlphaProvider'),
    'modules/beta/module.ts': moduleFile(`{
      name: 'beta', version: '2.0.0', dependsOn: { alpha: '^1.0.0' },
      providers: async () => [(await import('./provider.ts')).BetaProvider],
      events: () => import('./events.ts'),
    }`),
    'modules/beta/provider.ts': tracingProvider('BetaProvider'),
    'modules/beta/events.ts': `
import { defineListeners } from '{{keel}}';
export default (app) => defineListeners({
  'fixture.ping': { name: 'beta-pong', handle: (p) => { (globalThis.__keelTrace ??= []).push('pong:' + p.n + ':' + app.name); } },
});`,
    'modules/gamma/module.ts': moduleFile(`{
      name: 'gamma', version: '0.1.0', dependsOn: { beta: '>=2' },
      providers: async () => [(await import('./provider.ts')).GammaProvider],
    }`),
    'modules/gamma/provider.ts': tracingProvider('GammaProvider'),
    ...overrides,
  });
  fixtures.push(app);
  return app;
}

describe('Application lifecycle', () => {
  it('runs providers in module dependency order and shuts down in reverse', async () => {
    const fixture = await threeModuleApp();
    const app = await Application.create({ root: fixture.root, environment: 'test' });
    expect(app.state).toBe('created');
    expect(app.modules.map((m) => m.manifest.name)).toEqual(['alpha', 'beta', 'gamma']);

    app.register();
    expect(app.state).toBe('registered');
    await app.boot();
    expect(app.state).toBe('booted');
    await app.start();
    expect(app.state).toBe('ready');
    await app.shutdown();
    expect(app.state).toBe('stopped');

    expect(trace()).toEqual([
      'AlphaProvider:register',
      'BetaProvider:register',
      'GammaProvider:register',
      'AlphaProvider:boot',
      'BetaProvider:boot',
      'GammaProvider:boot',
      'AlphaProvider:start',
      'BetaProvider:start',
      'GammaProvider:start',
      'AlphaProvider:ready',
      'BetaProvider:ready',
      'GammaProvider:ready',
      'GammaProvider:shutdown',
      'BetaProvider:shutdown',
      'AlphaProvider:shutdown',
    ]);
    expect(app.lifecycle.history.map((h) => h.state)).toEqual([
      'created',
      'registered',
      'booted',
      'started',
      'ready',
      'stopping',
      'stopped',
    ]);
    expect(app.runtimes.get('beta')?.state).toBe('stopped');
  });

  it('refuses illegal transitions with a code', async () => {
    const fixture = await threeModuleApp();
    const app = await Application.create({ root: fixture.root, environment: 'test' });
    await app.start();
    expect(() => app.register()).toThrowError(
      expect.objectContaining({ code: 'E_ILLEGAL_STATE_TRANSITION' }),
    );
    await app.shutdown();
    await app.shutdown(); // idempotent
    expect(app.state).toBe('stopped');
  });

  it('attaches module listeners, including the (app) => defineListeners form', async () => {
    const fixture = await threeModuleApp();
    const app = await Application.create({ root: fixture.root, environment: 'test' });
    await app.boot();
    await app.events.emit('fixture.ping' as never, { n: 7 } as never);
    expect(trace()).toContain('pong:7:fixture');
    expect(app.events.listeners().find((l) => l.name === 'beta-pong')?.module).toBe('beta');
    await app.shutdown();
  });

  it('binds the core services and resolves them from the container', async () => {
    const fixture = await threeModuleApp();
    const app = await Application.create({ root: fixture.root, environment: 'test' });
    app.register();
    expect(app.make('app' as never)).toBe(app);
    expect(app.make('config' as never)).toBe(app.config);
    expect(app.make('events' as never)).toBe(app.events);
    expect(app.make(Application as never)).toBe(app);
    expect(await app.makeAsync('env' as never)).toBe(app.env);
    await app.shutdown();
  });

  it('leaves the app failed, naming the provider and module, when boot throws', async () => {
    const fixture = await threeModuleApp({
      'modules/beta/provider.ts': tracingProvider('BetaProvider').replace(
        "async boot() { t().push('BetaProvider:boot'); }",
        "async boot() { throw new Error('database unreachable'); }",
      ),
    });
    const app = await Application.create({ root: fixture.root, environment: 'test' });
    const error = await app.boot().catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'E_APP_FAILED' });
    expect(String((error as Error).message)).toContain('BetaProvider');
    expect(String((error as Error).message)).toContain('beta');
    expect(app.state).toBe('failed');
    expect(app.runtimes.get('beta')?.state).toBe('failed');
    expect(app.runtimes.get('beta')?.errorCount).toBe(1);
    // A failed app can still be shut down to release what booted.
    await app.shutdown();
    expect(app.state).toBe('stopped');
    expect(trace()).toContain('AlphaProvider:shutdown');
  });

  it('loads providers only in the environments they declare', async () => {
    const fixture = await threeModuleApp({
      'modules/alpha/provider.ts': tracingProvider(
        'AlphaProvider',
        "static environments = ['http'];",
      ),
    });
    const testApp = await Application.create({ root: fixture.root, environment: 'test' });
    expect(testApp.providers().map((p) => p.name)).toEqual(['BetaProvider', 'GammaProvider']);
    const httpApp = await Application.create({
      root: fixture.root,
      environment: 'http',
      logger: testApp.logger,
    });
    expect(httpApp.providers().map((p) => p.name)).toContain('AlphaProvider');
  });

  it('merges config framework < module < app < env override, validated by module schema', async () => {
    const fixture = await threeModuleApp({
      'config/alpha.ts': `import { defineConfig, env } from '{{keel}}';
export default defineConfig({ limit: env.number('ALPHA_LIMIT', 20) });`,
      'modules/alpha/module.ts': moduleFile(`{
        name: 'alpha', version: '1.2.0',
        config: { greeting: 'hello', limit: 10, nested: { a: 1, b: 2 } },
      }`),
    });
    const app = await Application.create({
      root: fixture.root,
      environment: 'test',
      processEnv: { ALPHA_LIMIT: '30', KEEL_CONFIG__alpha__nested__b: '5' },
    });
    expect(app.config.get('alpha.greeting')).toBe('hello');
    expect(app.config.get('alpha.limit')).toBe(30);
    expect(app.config.get('alpha.nested')).toEqual({ a: 1, b: 5 });
    expect(app.config.get('app.name')).toBe('fixture');
    expect(app.config.get('app.env')).toBe('development');
    expect(Object.isFrozen(app.config.get('alpha.nested'))).toBe(true);
  });

  it('reports every invalid config key at once', async () => {
    const fixture = await threeModuleApp({
      'modules/alpha/module.ts': `import { defineModule } from '{{keel}}';
import { z } from 'zod';
export default defineModule({
  name: 'alpha', version: '1.2.0',
  config: { greeting: 42, limit: 'ten' },
  configSchema: z.object({ greeting: z.string(), limit: z.number() }),
});`,
    });
    const error = await Application.create({ root: fixture.root, environment: 'test' }).catch(
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ code: 'E_CONFIG_INVALID' });
    expect((error as Error).message).toContain('alpha.greeting');
    expect((error as Error).message).toContain('alpha.limit');
  });

  it('reports every invalid env key at once', async () => {
    const fixture = await threeModuleApp({ '.env': 'APP_ENV=prodution\nPORT=notaport\n' });
    const error = await Application.create({
      root: fixture.root,
      environment: 'test',
      processEnv: {},
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'E_ENV_INVALID' });
    expect((error as Error).message).toContain('APP_ENV');
    expect((error as Error).message).toContain('PORT');
  });

  it('fails a missing dependency naming both modules and the range', async () => {
    const fixture = await threeModuleApp({
      'modules/gamma/module.ts': moduleFile(
        `{ name: 'gamma', version: '0.1.0', dependsOn: { delta: '^1.0.0' } }`,
      ),
    });
    const error = await Application.create({ root: fixture.root, environment: 'test' }).catch(
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ code: 'E_MODULE_DEPENDENCY_MISSING' });
    expect((error as Error).message).toMatch(/gamma.*delta.*\^1\.0\.0/s);
  });

  it('fails a cycle naming it', async () => {
    const fixture = await threeModuleApp({
      'modules/alpha/module.ts': moduleFile(
        `{ name: 'alpha', version: '1.2.0', dependsOn: { gamma: '*' } }`,
      ),
    });
    const error = await Application.create({ root: fixture.root, environment: 'test' }).catch(
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ code: 'E_MODULE_CYCLE' });
    expect((error as Error).message).toMatch(
      /alpha → .* → alpha|beta → .* → beta|gamma → .* → gamma/,
    );
  });

  it('stops at the shutdown deadline when a provider hangs', async () => {
    const fixture = await threeModuleApp({
      'keel.config.ts': `import { defineApp } from '{{keel}}';\nexport default defineApp({ name: 'fixture', shutdownTimeout: 50 });\n`,
      'modules/alpha/provider.ts': tracingProvider('AlphaProvider').replace(
        "async shutdown() { t().push('AlphaProvider:shutdown'); }",
        'shutdown() { return new Promise(() => {}); }',
      ),
    });
    const app = await Application.create({ root: fixture.root, environment: 'test' });
    await app.start();
    await expect(app.shutdown()).rejects.toMatchObject({ code: 'E_SHUTDOWN_TIMEOUT' });
    expect(app.state).toBe('stopped');
  });

  it('runs shutdown callbacks in reverse and reports their errors without stopping', async () => {
    const fixture = await threeModuleApp();
    const app = await Application.create({ root: fixture.root, environment: 'test' });
    await app.start();
    const order: string[] = [];
    app.onShutdown(() => order.push('first'));
    app.onShutdown(() => {
      throw new Error('boom');
    });
    app.onShutdown(() => order.push('third'));
    await app.shutdown();
    expect(order).toEqual(['third', 'first']);
  });

  it('profiles phases and providers when asked', async () => {
    const fixture = await threeModuleApp();
    const app = await Application.create({
      root: fixture.root,
      environment: 'test',
      profile: true,
    });
    await app.start();
    const profile = app.profiler!;
    expect(profile.entries.filter((e) => e.kind === 'phase').map((e) => e.name)).toEqual([
      'register',
      'boot',
      'start',
      'ready',
    ]);
    expect(profile.entries.filter((e) => e.kind === 'step').map((e) => e.name)).toContain(
      'discover modules',
    );
    expect(
      profile.entries.some(
        (e) => e.kind === 'provider' && e.name === 'BetaProvider' && e.module === 'beta',
      ),
    ).toBe(true);
    const text = profile.format();
    expect(text).toContain('Boot profile');
    expect(text).toContain('BetaProvider (beta)');
    await app.shutdown();
  });

  it('counts errors per module', async () => {
    const fixture = await threeModuleApp();
    const app = await Application.create({ root: fixture.root, environment: 'test' });
    app.reportModuleError('alpha', new Error('x'));
    app.reportModuleError('nope', new Error('ignored'));
    expect(app.runtimes.get('alpha')?.errorCount).toBe(1);
  });

  it('collects module and app commands, tagging their module', async () => {
    const fixture = await threeModuleApp({
      'modules/alpha/module.ts': moduleFile(`{
        name: 'alpha', version: '1.2.0',
        commands: [{ name: 'alpha:hello', description: 'hi', handle() { return 0; } }],
      }`),
    });
    const app = await Application.create({ root: fixture.root, environment: 'test' });
    expect(app.commands).toEqual([
      expect.objectContaining({ name: 'alpha:hello', module: 'alpha' }),
    ]);
  });
});
