import type { Application } from '../application.js';
import { defineCommand } from '../command.js';

/**
 * Start the application and keep it running until SIGTERM/SIGINT. The HTTP kernel's
 * provider listens when it is part of the application; without it `serve` still runs the
 * application's started providers (schedulers, consumers).
 */
export const serveCommand = defineCommand<Application>({
  name: 'serve',
  description: 'Start the application and keep it running until stopped',
  aliases: ['start'],
  environment: 'http',
  needs: 'started',
  longRunning: true,
  options: [
    {
      flags: '--workers <n>',
      description: 'run N worker processes (node:cluster), or "auto" for one per CPU',
    },
  ],
  handle({ app, ui }) {
    const modules = app.modules.map((m) => `${m.manifest.name}@${m.manifest.version}`).join(', ');
    ui.success(`${app.name} is running (${app.env.appEnv}, pid ${process.pid})`);
    ui.line(ui.dim(`  modules: ${modules || '(none)'}`));
    for (const line of app.readyMessages) ui.line(`  ${line}`);
    ui.line(ui.dim('  press Ctrl+C to stop'));
    return 0;
  },
});
