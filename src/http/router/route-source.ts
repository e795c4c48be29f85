import { basename, dirname, isAbsolute, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));

// The router's own declaration files: frames in them are skipped to reach the caller.
// Tests and commands in the same folder are callers like any other.
const INTERNAL = new Set([
  'router',
  'route-builder',
  'resource-routes',
  'controller-action',
  'decorators',
  'route-source',
]);

const FRAME = /\(?((?:file:\/\/)?[^\s()]+?):(\d+):\d+\)?$/;

function isInternal(file: string): boolean {
  if (dirname(file) !== HERE) return false;
  const name = basename(file).replace(/\.[cm]?[jt]s$/, '');
  return INTERNAL.has(name);
}

/**
 * Where the route being declared comes from (`modules/catalog/routes.ts:12`): the first
 * stack frame outside the router's own files, relative to the working directory when it
 * is inside it. Declaration happens at boot, so the stack capture is affordable.
 *
 * @example
 * ```ts
 * record.source = captureSource();
 * ```
 */
export function captureSource(): string | undefined {
  const limit = Error.stackTraceLimit;
  // The caller is a few frames up; formatting a long stack for 500 routes costs boot time.
  Error.stackTraceLimit = 10;
  const stack = new Error().stack ?? '';
  Error.stackTraceLimit = limit;
  for (const line of stack.split('\n').slice(1)) {
    const match = FRAME.exec(line.trim());
    if (!match) continue;
    let file = match[1]!;
    if (file.startsWith('file://')) file = fileURLToPath(file);
    if (!isAbsolute(file) || isInternal(file) || file.includes(`${sep}node_modules${sep}`)) {
      continue;
    }
    const rel = relative(process.cwd(), file);
    const shown = rel.startsWith('..') || isAbsolute(rel) ? file : rel;
    return `${shown}:${match[2]}`;
  }
  return undefined;
}
