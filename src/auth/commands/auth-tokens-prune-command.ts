import type { Application } from '../../kernel/index.js';
import { defineCommand } from '../../kernel/index.js';

/**
 * `keel auth:tokens:prune`: delete API tokens whose `expires_at` has passed. An expired
 * token is refused anyway; this keeps `api_tokens` from growing. Schedule it daily.
 */
export const authTokensPruneCommand = defineCommand<Application>({
  name: 'auth:tokens:prune',
  description: 'Delete expired API tokens from the api_tokens table',
  json: true,
  async handle({ app, ui }) {
    // The api_tokens table exists only for an app with a database and a config/auth.ts.
    if (
      !app.container.bound('auth.tokens') ||
      !app.container.bound('db') ||
      app.config.get('auth' as never) === undefined
    ) {
      ui.warn('API tokens need the AuthProvider, a database and config/auth.ts; nothing to prune');
      return 1;
    }
    const deleted = await app.make('auth.tokens').prune();
    ui.output({ deleted }, () =>
      ui.success(`deleted ${deleted} expired API token${deleted === 1 ? '' : 's'}`),
    );
    return 0;
  },
});
