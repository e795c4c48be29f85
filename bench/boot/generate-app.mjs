// Generates a Keel application with N modules and R routes per module, in TypeScript,
// for the boot benchmark. Each module: manifest, config with schema, a provider binding a
// service, an event listener and a routes file.
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export async function generateApp(root, { modules = 50, routesPerModule = 10 } = {}) {
  await rm(root, { recursive: true, force: true });
  const write = async (path, content) => {
    await mkdir(join(root, path, '..'), { recursive: true });
    await writeFile(join(root, path), content);
  };
  await write(
    'keel.config.ts',
    `import { defineApp } from 'keel';\nexport default defineApp({ name: 'boot-bench' });\n`,
  );
  await write('.env', 'APP_ENV=development\nLOG_LEVEL=warn\n');
  await write('config/http.ts', `export default { host: '127.0.0.1' };\n`);
  for (let m = 0; m < modules; m++) {
    const name = `mod${m}`;
    const deps = m > 0 ? `{ mod${m - 1}: '^1.0.0' }` : '{}';
    await write(
      `modules/${name}/module.ts`,
      `import { defineModule } from 'keel';
import { z } from 'zod';
export default defineModule({
  name: '${name}',
  version: '1.0.0',
  dependsOn: ${deps},
  config: () => import('./config.js'),
  configSchema: z.object({ pageSize: z.number().int(), label: z.string() }),
  providers: async () => [(await import('./provider.js')).Provider${m}],
  events: () => import('./events.js'),
  routes: () => import('./routes.js'),
});
`,
    );
    await write(
      `modules/${name}/config.ts`,
      `export default { pageSize: ${m + 10}, label: 'Module ${m}' };\n`,
    );
    await write(
      `modules/${name}/provider.ts`,
      `import { ServiceProvider } from 'keel';
export class Service${m} { constructor(readonly size: number) {} list() { return Array.from({ length: 3 }, (_, i) => ({ id: i, module: ${m} })); } }
export class Provider${m} extends ServiceProvider {
  override register() { this.app.container.singleton('svc${m}', () => new Service${m}(${m})); }
}
`,
    );
    await write(
      `modules/${name}/events.ts`,
      `import { defineListeners } from 'keel';
export default defineListeners({ 'bench.tick': { name: 'tick-${m}', handle: () => {} } } as never);
`,
    );
    const routes = [];
    for (let r = 0; r < routesPerModule; r++) {
      routes.push(
        `  router.get('/${name}/items${r}/:id', (ctx) => ({ module: ${m}, route: ${r}, id: ctx.params.id }));`,
      );
    }
    await write(
      `modules/${name}/routes.ts`,
      `export default (router: any) => {\n${routes.join('\n')}\n};\n`,
    );
  }
}
