import { createRequire } from 'node:module';
import type { DestinationStream } from 'pino';
import { escapeForTerminal } from './redaction.js';

type Prettify = (line: Record<string, unknown>) => string;

export interface PrettyStreamOptions {
  /** Where the readable lines go (a pino destination: stdout by default). */
  destination: DestinationStream;
  colorize?: boolean;
}

// Line breaks stay in a stack (pino-pretty indents each of its lines, so none can pass for
// an entry of its own); every other control character is escaped.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching them is the point
const STACK_UNSAFE = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]/g;

function escapeStack(stack: string): string {
  return stack.replace(STACK_UNSAFE, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

function escapeErrors(value: unknown, depth: number): void {
  if (depth > 4 || value === null || typeof value !== 'object') return;
  const record = value as Record<string, unknown>;
  if (typeof record.stack === 'string') record.stack = escapeStack(record.stack);
  for (const key of Object.keys(record)) {
    if (key !== 'stack') escapeErrors(record[key], depth + 1);
  }
}

/**
 * A destination that prints pino's JSON lines for people (pino-pretty, in-process: no worker
 * thread to spawn in development). pino-pretty prints the message raw, so a message holding
 * a line break or an ESC sequence could fake an entry or rewrite the terminal line: it is
 * escaped here (fields are printed as JSON, escaped already; stacks keep their indented
 * lines).
 *
 * @example
 * ```ts
 * pino({}, createPrettyStream({ destination: pino.destination(1) }));
 * ```
 */
export function createPrettyStream(options: PrettyStreamOptions): DestinationStream & {
  flushSync?: () => void;
} {
  const require = createRequire(import.meta.url);
  const { prettyFactory } = require('pino-pretty') as {
    prettyFactory: (opts: object) => Prettify;
  };
  const prettify = prettyFactory({
    colorize: options.colorize ?? process.env.NO_COLOR === undefined,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname,app,env,version,memory',
  });
  const out = options.destination as DestinationStream & { flushSync?: () => void };
  return {
    write(line: string) {
      let entry: Record<string, unknown>;
      try {
        entry = JSON.parse(line) as Record<string, unknown>;
      } catch {
        out.write(`${escapeForTerminal(line.trimEnd())}\n`);
        return;
      }
      if (typeof entry.msg === 'string') entry.msg = escapeForTerminal(entry.msg);
      // Keys are printed raw too (`key: value`): a logged request body could bring its own.
      for (const key of Object.keys(entry)) {
        const safe = escapeForTerminal(key);
        if (safe !== key) {
          entry[safe] = entry[key];
          delete entry[key];
        }
      }
      escapeErrors(entry, 0);
      out.write(prettify(entry));
    },
    flushSync() {
      out.flushSync?.();
    },
  };
}
