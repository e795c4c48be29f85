import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseEnv } from 'node:util';
import { E_ENV_FILE_INVALID, type EnvFileProblem } from './errors.js';

/** Larger than any sane `.env`; a bigger file is a mistake (a dump, a binary) not config. */
export const MAX_ENV_FILE_BYTES = 1024 * 1024;

/** POSIX variable names: what a shell can export and what `process.env` users expect. */
const VARIABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const QUOTES = new Set(['"', "'", '`']);

/**
 * Parse the text of a `.env` file with Node's `util.parseEnv`, after checking every line.
 *
 * `util.parseEnv` never fails: a line without `=` is glued to the next line's key, a line
 * `=x` silently drops the rest of the file, indentation and a BOM end up in key names. So
 * each line is checked first and every problem is reported at once, with its line number;
 * the lines are then normalised (trimmed, comments removed) before Node parses them.
 *
 * @example
 * ```ts
 * parseEnvContent('PORT=3000\n# comment\nNAME="Keel app"'); // { PORT: '3000', NAME: 'Keel app' }
 * ```
 */
export function parseEnvContent(content: string, file = '.env'): Record<string, string> {
  const problems: EnvFileProblem[] = [];
  if (content.includes('\0')) {
    throw new E_ENV_FILE_INVALID(file, [
      { line: 0, message: 'contains NUL bytes (is it a binary file?)' },
    ]);
  }
  const lines = content
    .replace(/^\uFEFF/, '')
    .replace(/\r\n?/g, '\n')
    .split('\n');
  const out: string[] = [];
  const expected = new Set<string>();

  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    const trimmed = lines[i]!.trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    const body = trimmed.replace(/^export\s+/, '');
    const eq = body.indexOf('=');
    if (eq === -1) {
      problems.push({ line: lineNo, message: 'expected KEY=value but found no "="' });
      continue;
    }
    const key = body.slice(0, eq).trim();
    const value = body.slice(eq + 1).trimStart();
    if (key === '') {
      problems.push({ line: lineNo, message: 'missing variable name before "="' });
      continue;
    }
    if (!VARIABLE_NAME.test(key)) {
      problems.push({
        line: lineNo,
        message: `invalid variable name "${truncate(key)}" (use letters, digits and _, not starting with a digit)`,
      });
      continue;
    }

    const quote = value[0];
    if (quote !== undefined && QUOTES.has(quote)) {
      const closing = findClosingQuote(lines, i, value, quote);
      if (!closing) {
        problems.push({
          line: lineNo,
          message: `${key} opens a ${quote} quote that is never closed`,
        });
        continue;
      }
      const after = closing.rest.trim();
      if (after !== '' && !after.startsWith('#')) {
        problems.push({
          line: lineNo,
          message:
            closing.line === i
              ? `${key} has text after its closing ${quote} quote; quote the whole value`
              : `${key} opens a ${quote} quote that is not closed on this line, and the next ${quote} ` +
                `(line ${closing.line + 1}) is followed by more text; is a closing quote missing?`,
        });
        continue;
      }
      out.push(`${key}=${value}`, ...lines.slice(i + 1, closing.line + 1));
      i = closing.line;
    } else {
      out.push(`${key}=${value}`);
    }
    // `__proto__` cannot be a real variable and would only ever be an attack on the merge.
    if (key !== '__proto__') expected.add(key);
  }

  if (problems.length > 0) throw new E_ENV_FILE_INVALID(file, problems);

  const parsed = parseEnv(out.join('\n'));
  const result: Record<string, string> = {};
  for (const key of expected) {
    const value = parsed[key];
    // Defensive: the checks above mirror Node's grammar; if Node ever disagrees, say so.
    if (value === undefined) {
      throw new E_ENV_FILE_INVALID(file, [
        { line: 0, message: `${key} was not read by util.parseEnv; check the line that sets it` },
      ]);
    }
    result[key] = value;
  }
  return result;
}

/** Where a quoted value closes: the line index and the text after the closing quote. */
function findClosingQuote(
  lines: string[],
  start: number,
  value: string,
  quote: string,
): { line: number; rest: string } | undefined {
  const sameLine = value.indexOf(quote, 1);
  if (sameLine !== -1) return { line: start, rest: value.slice(sameLine + 1) };
  for (let j = start + 1; j < lines.length; j++) {
    const at = lines[j]!.indexOf(quote);
    if (at !== -1) return { line: j, rest: lines[j]!.slice(at + 1) };
  }
  return undefined;
}

function truncate(text: string): string {
  const oneLine = text.replace(/\s+/g, ' ');
  return oneLine.length > 40 ? `${oneLine.slice(0, 40)}…` : oneLine;
}

/**
 * Read one env file; `undefined` when it does not exist.
 *
 * @example
 * ```ts
 * const vars = readEnvFile('/srv/app/.env.local') ?? {};
 * ```
 */
export function readEnvFile(path: string): Record<string, string> | undefined {
  let size: number;
  try {
    const stat = statSync(path);
    if (!stat.isFile()) {
      throw new E_ENV_FILE_INVALID(path, [{ line: 0, message: 'is not a regular file' }]);
    }
    size = stat.size;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  if (size > MAX_ENV_FILE_BYTES) {
    throw new E_ENV_FILE_INVALID(path, [
      { line: 0, message: `is ${size} bytes, larger than the ${MAX_ENV_FILE_BYTES}-byte limit` },
    ]);
  }
  let content: string;
  try {
    content = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new E_ENV_FILE_INVALID(path, [
      { line: 0, message: `cannot be read (${code})` },
    ]).withCause(error);
  }
  return parseEnvContent(content, path);
}

/** Options of {@link loadEnvFiles}. */
export interface LoadEnvFilesOptions {
  /** The application root holding `.env` and `.env.local`. */
  cwd: string;
  /** The real environment, which wins over every file. Defaults to `process.env`. */
  processEnv?: Readonly<Record<string, string | undefined>>;
  /** Files to read, lowest precedence first. Defaults to `['.env', '.env.local']`. */
  files?: readonly string[];
}

/**
 * Merge `.env`, then `.env.local`, then the real environment (highest precedence) into one
 * map. Missing files are skipped; a malformed file throws `E_ENV_FILE_INVALID`. Neither
 * `process.env` nor the files are modified.
 *
 * @example
 * ```ts
 * const vars = loadEnvFiles({ cwd: process.cwd() });
 * vars.APP_ENV; // from the environment, else .env.local, else .env
 * ```
 */
export function loadEnvFiles(options: LoadEnvFilesOptions): Record<string, string> {
  const { cwd, processEnv = process.env, files = ['.env', '.env.local'] } = options;
  const result: Record<string, string> = {};
  for (const name of files) {
    const vars = readEnvFile(join(cwd, name));
    if (vars) Object.assign(result, vars);
  }
  for (const [key, value] of Object.entries(processEnv)) {
    if (value !== undefined && key !== '__proto__') result[key] = value;
  }
  return result;
}
