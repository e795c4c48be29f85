export {
  type IdempotencyPruneOutput,
  idempotencyPruneCommand,
} from './idempotency-prune-command.js';
