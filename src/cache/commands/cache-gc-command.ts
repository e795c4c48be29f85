import type { Application } from '../../kernel/index.js';
import { defineCommand } from '../../kernel/index.js';

/**
 * `keel cache:gc`: remove expired entries that no read has removed yet from the file and
 * database stores (memory evicts by itself; Redis expires keys on the server). Schedule it
 * daily on apps that cache many short-lived keys in those stores.
 */
export const cacheGcCommand = defineCommand<Application>({
  name: 'cache:gc',
  description: 'Remove expired cache entries from the file and database stores',
  json: true,
  async handle({ app, ui }) {
    if (!app.container.bound('cache')) {
      ui.warn('no cache is configured (the CacheProvider is not registered)');
      return 1;
    }
    const removed = await app.make('cache').gc();
    ui.output({ removed }, () => {
      const parts = Object.entries(removed).map(([store, n]) => `${n} from ${store}`);
      ui.success(
        parts.length > 0 ? `removed ${parts.join(', ')}` : 'no file or database stores in use',
      );
    });
    return 0;
  },
});
