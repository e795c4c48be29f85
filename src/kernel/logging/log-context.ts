import pino from 'pino';
import { executionContext } from '../execution-context.js';
import type { LogProcessor } from './logging-config.js';

const MB = 1024 * 1024;
let rssMb = 0;
let sampledAt = Number.NEGATIVE_INFINITY;

/**
 * The process's resident set size in MB, read at most once a second: reading it costs a
 * system call (and on Linux a /proc read), too much for every line of a busy process.
 */
export function sampledRssMb(now: number = Date.now()): number {
  if (now - sampledAt >= 1000) {
    rssMb = Math.round(process.memoryUsage.rss() / MB);
    sampledAt = now;
  }
  return rssMb;
}

export interface LogContextOptions {
  /** Add `memory` (RSS in MB) to every line. */
  memory?: boolean;
  processors?: readonly LogProcessor[];
}

type Mixin = (fields: object, level: number, logger?: object) => Record<string, unknown>;

const CHINDINGS = pino.symbols.chindingsSym;

/**
 * The logger's bindings when they carry some `*_id` key: pino keeps them pre-serialised
 * (`,"request_id":"r1"`) and writes them ahead of the line's object without merging the two,
 * so a key both bound (ctx.logger, the worker's job logger) and added by the mixin would
 * appear twice in one line. Undefined for most loggers, so their lines pay one search.
 * A quote inside a bound value is escaped, so `_id":` only ever ends a key.
 */
function idBindings(logger: object | undefined): string | undefined {
  const chindings = (logger as { [CHINDINGS]?: unknown } | undefined)?.[CHINDINGS];
  return typeof chindings === 'string' && chindings.includes('_id":') ? chindings : undefined;
}

/**
 * pino's `mixin`: the fields of the work running now (request_id, job_id, user_id, the
 * scope's annotations), the sampled memory and what processors add, merged into every line
 * without a logger being passed around. The line's own fields win over these, and an id the
 * logger already binds (`logger.child({ request_id })`) is left to the binding, so a line
 * never carries a key twice.
 *
 * @example
 * ```ts
 * pino({ mixin: createLogContextMixin({ memory: true, processors: [] }) });
 * ```
 */
export function createLogContextMixin(options: LogContextOptions = {}): Mixin {
  const memory = options.memory ?? true;
  const processors = options.processors ?? [];
  const failed = new Set<LogProcessor>();
  return (fields, level, logger) => {
    // A fresh object per line: pino merges the line's fields into what the mixin returns.
    const out: Record<string, unknown> = {};
    if (memory) out.memory = sampledRssMb();
    const scope = executionContext.current();
    if (scope !== undefined) {
      // An id the logger binds is left to the binding (ctx.logger's and the job logger's are
      // the scope's own ids; a caller's explicit binding wins, like a line's own fields).
      const bound = idBindings(logger);
      if (scope.request_id !== undefined && !bound?.includes(',"request_id":'))
        out.request_id = scope.request_id;
      if (scope.job_id !== undefined && !bound?.includes(',"job_id":')) out.job_id = scope.job_id;
      if (scope.user_id !== undefined && !bound?.includes(',"user_id":'))
        out.user_id = scope.user_id;
      if (scope.fields !== undefined) Object.assign(out, scope.fields);
    }
    for (const processor of processors) {
      try {
        const added = processor(fields as Record<string, unknown>, scope, level);
        if (added) Object.assign(out, added);
      } catch (error) {
        // A faulty processor must not cost the line (nor the request that logs it): warn
        // once per processor, then keep logging without its fields.
        if (!failed.has(processor)) {
          failed.add(processor);
          process.emitWarning(
            `log processor ${processor.name || '(anonymous)'} threw: ${(error as Error)?.message ?? error}`,
            { code: 'KEEL_LOG_PROCESSOR' },
          );
        }
      }
    }
    return out;
  };
}
