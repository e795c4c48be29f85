import type { Application } from '../../kernel/index.js';
import { defineCommand } from '../../kernel/index.js';

/**
 * `keel session:cleanup`: delete expired sessions from the database and file stores (Redis
 * expires them itself; this trims its index; the cookie store keeps nothing). Scheduled
 * daily at 02:00 as a framework task.
 */
export const sessionCleanupCommand = defineCommand<Application>({
  name: 'session:cleanup',
  description: 'Remove expired sessions from the session store',
  json: true,
  async handle({ app, ui }) {
    if (!app.container.bound('session.manager')) {
      ui.warn('sessions are not configured (the SessionProvider is not registered)');
      return 1;
    }
    const manager = app.make('session.manager');
    const removed = await manager.cleanup();
    const driver = manager.store.driver;
    ui.output({ driver, removed }, () =>
      ui.success(`removed ${removed} expired session${removed === 1 ? '' : 's'} (${driver} store)`),
    );
    return 0;
  },
});
