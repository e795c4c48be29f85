import { join } from 'node:path';
import { type Application, defineCommand } from '../../../kernel/index.js';
import { ErrorAggregator, type ErrorGroup } from '../error-aggregator.js';

/** What `errors:top --json` prints. */
export interface ErrorsTopOutput {
  file: string;
  /** When the running server last wrote the snapshot; `null` when it never did. */
  updatedAt: string | null;
  /** How many groups the snapshot holds (the output shows `limit` of them). */
  total: number;
  groups: ErrorGroup[];
}

const MESSAGE_WIDTH = 60;

// `2024-05-01T10:20:30.123Z` → `2024-05-01 10:20:30`: a table cell, not an API value.
function shortTime(iso: string): string {
  return iso.replace('T', ' ').replace(/\.\d+Z$|Z$/, '');
}

function shortMessage(message: string): string {
  const line = message.split('\n')[0] ?? '';
  return line.length > MESSAGE_WIDTH ? `${line.slice(0, MESSAGE_WIDTH - 1)}…` : line;
}

/**
 * `keel errors:top`: the most frequent error groups the running server has seen, read from
 * the snapshot it writes to `var/state/errors.json`.
 *
 * @example
 * ```sh
 * keel errors:top --limit 5
 * keel errors:top --json | jq '.groups[0]'
 * ```
 */
export const errorsTopCommand = defineCommand<Pick<Application, 'paths'>>({
  name: 'errors:top',
  description: 'Show the most frequent errors the server reported (from var/state/errors.json)',
  options: [{ flags: '--limit <n>', description: 'how many groups to show', default: '20' }],
  json: true,
  needs: 'created',
  async handle({ app, options, ui }) {
    const limit = Number(options.limit ?? 20);
    if (!Number.isInteger(limit) || limit < 1) {
      ui.error(`--limit must be a whole number of at least 1, got "${String(options.limit)}"`);
      return 1;
    }
    const file = join(app.paths.state, 'errors.json');
    const snapshot = await ErrorAggregator.readSnapshot(file);
    const output: ErrorsTopOutput = {
      file,
      updatedAt: snapshot.updatedAt,
      total: snapshot.groups.length,
      groups: [...snapshot.groups]
        .sort((a, b) => b.count - a.count || b.lastSeen.localeCompare(a.lastSeen))
        .slice(0, limit),
    };
    ui.output(output, () => {
      if (snapshot.updatedAt === null) {
        ui.info(`No errors recorded yet (${file} does not exist).`);
        return;
      }
      ui.table(
        output.groups.map((group) => ({
          code: group.code,
          route: group.route || '-',
          count: group.count,
          'first seen': shortTime(group.firstSeen),
          'last seen': shortTime(group.lastSeen),
          message: shortMessage(group.lastMessage),
        })),
        ['code', 'route', 'count', 'first seen', 'last seen', 'message'],
      );
      const shown = output.groups.length;
      ui.line(
        ui.dim(
          `${shown} of ${output.total} group${output.total === 1 ? '' : 's'}; snapshot written ${shortTime(snapshot.updatedAt)}`,
        ),
      );
    });
    return 0;
  },
});
