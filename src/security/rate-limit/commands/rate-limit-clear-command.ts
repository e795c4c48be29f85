import { type Application, defineCommand } from '../../../kernel/index.js';

/** What `rate-limit:clear --json` prints. */
export interface RateLimitClearOutput {
  limiter: string;
  key: string;
  store: string;
  /** Points the key had used in its window before it was cleared. */
  consumed: number;
}

/**
 * `keel rate-limit:clear <limiter> <key>`: forget a client's count and block on one limiter
 * — a customer locked out of the login form, a partner's integration after a bug. The key is
 * the one the limiter counts (`ip:203.0.113.9`, `user:42`, or the key a caller passed to
 * `rate.limiter`). Only shared stores (Redis, database) can be cleared from the command line:
 * a memory store lives in each server process.
 */
export const rateLimitClearCommand = defineCommand<Application>({
  name: 'rate-limit:clear',
  description: "Forget a client's count and block on a rate limiter (Redis or database store)",
  arguments: [
    { name: 'limiter', description: 'the limiter name (login, default, ...)', required: true },
    { name: 'key', description: 'the client key: ip:<address>, user:<id>, ...', required: true },
  ],
  json: true,
  async handle({ app, args, ui }) {
    if (!app.container.bound('rate.limiter')) {
      ui.warn('rate limiting is not configured (the RateLimitProvider is not registered)');
      return 1;
    }
    const limiter = app.make('rate.limiter');
    if (limiter.storeName === 'memory') {
      ui.warn(
        'the rate-limit store is memory: each server process keeps its own counts, which a command cannot reach',
      );
      return 1;
    }
    const name = String(args.limiter);
    const key = String(args.key);
    const consumed = await limiter.consumed(name, key);
    await limiter.clear(name, key);
    const output: RateLimitClearOutput = { limiter: name, key, store: limiter.storeName, consumed };
    ui.output(output, () =>
      ui.success(`cleared ${JSON.stringify(key)} on limiter "${name}" (had used ${consumed})`),
    );
    return 0;
  },
});
