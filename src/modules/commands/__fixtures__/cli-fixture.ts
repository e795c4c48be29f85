import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Writable } from 'node:stream';
import { runCli } from '../../../cli/index.js';

/** A valid key (32 zero bytes): fixtures never need a secret one. */
export const FIXTURE_APP_KEY = `base64:${Buffer.alloc(32).toString('base64')}`;

const hook = (names: string[]) =>
  `import { appendFileSync } from 'node:fs';
import { join } from 'node:path';

const record = (hook, { app, module, dir }) =>
  appendFileSync(join(dir, '..', '..', 'hooks.log'), \`\${hook} \${module.name} \${app.state}\\n\`);

export default {
${names.map((name) => `  ${name}(ctx) { record('${name}', ctx); },`).join('\n')}
};
`;

/**
 * A small application: `core` (config with a secret read from the env, a provider, a listener, a
 * command, install/enable/disable hooks), `billing` (depends on core, app config overrides
 * it, enable/disable hooks) and `reports` (depends on billing, no hooks). Hooks append
 * `<hook> <module> <app state>` lines to `hooks.log` at the app root.
 */
export const FIXTURE_FILES: Record<string, string> = {
  'package.json': '{ "type": "module" }\n',
  '.env': `APP_ENV=development\nAPP_KEY=${FIXTURE_APP_KEY}\nLOG_LEVEL=warn\n`,
  'keel.config.ts': `import { defineApp } from 'keel';\n\nexport default defineApp({ name: 'Fixture', version: '1.2.3' });\n`,
  'config/billing.ts': `export default { perPage: 50 };\n`,
  // The core module declares a migrations folder, which would make the database the queue's
  // default and add the queue tables to every setup:update here; this fixture keeps its
  // queue in memory (the queue's own tests cover the database default).
  'config/queue.ts': `export default { default: 'memory' };\n`,
  'modules/core/module.ts': `import { defineModule, env } from 'keel';

export default defineModule({
  name: 'core',
  version: '1.0.0',
  description: 'Shared services',
  config: { currency: 'EUR', apiToken: env('CORE_API_TOKEN', 'not-for-output') },
  providers: async () => [(await import('./core-provider.js')).CoreProvider],
  events: () => import('./events.js'),
  commands: () => import('./commands.js'),
  hooks: () => import('./hooks.js'),
  migrations: 'migrations',
});
`,
  'modules/core/core-provider.ts': `import { ServiceProvider } from 'keel';

export class CoreProvider extends ServiceProvider {
  register() {
    this.app.container.value('core.greeting', 'hello');
  }
}
`,
  'modules/core/events.ts': `import { defineListeners } from 'keel';

export default defineListeners({ 'core.ping': { name: 'answer-ping', priority: 5, handle() {} } });
`,
  'modules/core/commands.ts': `import { defineCommand } from 'keel';

export default [defineCommand({ name: 'core:hello', aliases: ['hi'], description: 'Say hello', needs: 'nothing', handle: () => 0 })];
`,
  'modules/core/hooks.ts': hook(['onInstall', 'onEnable', 'onDisable']),
  'modules/billing/module.ts': `import { defineModule } from 'keel';

export default defineModule({
  name: 'billing',
  version: '2.0.0',
  dependsOn: { core: '^1.0.0' },
  config: { perPage: 10, currency: 'EUR' },
  events: () => import('./events.js'),
  hooks: () => import('./hooks.js'),
});
`,
  'modules/billing/events.ts': `import { defineListeners } from 'keel';

export default defineListeners({ 'billing.paid': () => {} });
`,
  'modules/billing/hooks.ts': hook(['onInstall', 'onEnable', 'onDisable']),
  'modules/reports/module.ts': `import { defineModule } from 'keel';

export default defineModule({ name: 'reports', version: '0.1.0', dependsOn: { billing: '^2.0.0' } });
`,
};

/** Write files (path → content) under `root`. */
export async function writeFiles(root: string, files: Record<string, string>): Promise<void> {
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), content);
  }
}

/** A temporary copy of the fixture app, with `overrides` written over it. */
export async function makeFixtureApp(overrides: Record<string, string> = {}): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'keel-cli-'));
  await writeFiles(root, { ...FIXTURE_FILES, ...overrides });
  return root;
}

export async function removeFixtureApp(root: string): Promise<void> {
  await rm(root, { recursive: true, force: true });
}

class Capture extends Writable {
  text = '';
  isTTY = false;
  override _write(chunk: Buffer | string, _encoding: BufferEncoding, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  /** stdout parsed as JSON. */
  json<T = Record<string, unknown>>(): T;
}

/** Run `keel <argv>` in `cwd` with captured output. */
export async function runKeel(cwd: string, ...argv: string[]): Promise<CliResult> {
  const stdout = new Capture();
  const stderr = new Capture();
  const code = await runCli({ argv, cwd, stdout, stderr, signals: false });
  return {
    code,
    stdout: stdout.text,
    stderr: stderr.text,
    json: <T>() => JSON.parse(stdout.text) as T,
  };
}

/** Variables a developer's shell might set that would change what the fixtures do. */
export const ENV_KEYS = [
  'APP_ENV',
  'APP_DEBUG',
  'APP_KEY',
  'APP_NAME',
  'PORT',
  'LOG_LEVEL',
  'HOST',
  'APP_URL',
];
