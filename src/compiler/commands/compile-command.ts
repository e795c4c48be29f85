import type { Application } from '../../kernel/index.js';
import { defineCommand } from '../../kernel/index.js';
import { compileApp } from '../compile-app.js';

export const compileCommand = defineCommand<Application>({
  name: 'compile',
  description:
    'Write the compiled boot artifacts to var/cache (modules, config, events, container)',
  needs: 'booted',
  scan: true,
  json: true,
  async handle({ app, ui }) {
    const result = await compileApp(app);
    ui.output(result, () => {
      for (const [name, changed] of Object.entries(result.written)) {
        ui.line(`  var/cache/${name} ${changed ? ui.green('written') : ui.dim('unchanged')}`);
      }
      if (!result.configComplete) {
        ui.warn(
          'config holds non-JSON values (functions or class instances): boot will load config files',
        );
      }
      ui.success(`compiled (sources ${result.sources.slice(0, 12)})`);
    });
    return 0;
  },
});
