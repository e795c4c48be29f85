import { type Application, defineCommand } from '../../../kernel/index.js';

/** What `idempotency:prune --json` prints. */
export interface IdempotencyPruneOutput {
  store: string;
  removed: number;
}

/**
 * `keel idempotency:prune`: delete the idempotency keys whose retention ended. The database
 * store keeps a row per key until this runs (an expired row already counts as free, so
 * pruning only reclaims space); Redis expires keys by itself and memory dies with the
 * process, so for them it removes nothing. Schedule it hourly.
 */
export const idempotencyPruneCommand = defineCommand<Application>({
  name: 'idempotency:prune',
  description: 'Delete expired idempotency keys (database store)',
  json: true,
  async handle({ app, ui }) {
    if (!app.container.bound('idempotency')) {
      ui.warn('idempotency keys are not configured (IdempotencyProvider is not registered)');
      return 1;
    }
    const { store } = app.make('idempotency');
    const removed = await store.prune(Date.now());
    const output: IdempotencyPruneOutput = { store: store.driver, removed };
    ui.output(output, () => {
      if (store.driver !== 'database')
        ui.info(`the ${store.driver} store expires keys by itself: nothing to prune`);
      else ui.success(`removed ${removed} expired idempotency key${removed === 1 ? '' : 's'}`);
    });
    return 0;
  },
});
