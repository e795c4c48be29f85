import type { Dirent } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { type CommandUI, defineCommand } from '../command.js';

/** How the lines of one source file split. */
export interface LineCounts {
  code: number;
  comment: number;
  blank: number;
}

/** Folders never counted: dependencies, build output, runtime data. Hidden folders are skipped too. */
export const CODE_STATS_SKIP_DIRS: ReadonlySet<string> = new Set([
  'node_modules',
  'var',
  'dist',
  'build',
  'coverage',
  '.git',
]);

/** Files longer than this are listed as refactoring candidates. */
export const REFACTOR_THRESHOLD = 300;

/** Bigger files are generated or minified: they are listed as skipped, not counted. */
const MAX_FILE_BYTES = 4 * 1024 * 1024;
const CODE_FILE = /\.(?:[cm]?[jt]s|[jt]sx)$/;
const TEST_FILE = /\.(?:test|spec)\.[^.]+$/;
const TEST_DIRS = new Set(['test', 'tests', '__tests__']);
// After these, a `/` starts a regular expression rather than a division.
const REGEX_AFTER_CHAR = new Set('(,=:[!&|?{};+-*%<>~^'.split(''));
const REGEX_AFTER_WORD = new Set([
  'return',
  'typeof',
  'instanceof',
  'case',
  'do',
  'else',
  'in',
  'of',
  'new',
  'delete',
  'void',
  'throw',
  'yield',
  'await',
]);

/**
 * Count code, comment and blank lines of JavaScript or TypeScript source. A line with any
 * code is a code line, even with a trailing comment; a line inside a block comment, or
 * holding only a comment, is a comment line. Strings, template literals (with nested
 * `${}`) and regular expression literals are skipped, so a `//` inside them is not taken
 * for a comment.
 *
 * @example
 * ```ts
 * countLines('// hi\nconst a = 1; // one\n\n'); // { code: 1, comment: 1, blank: 1 }
 * ```
 */
export function countLines(source: string): LineCounts {
  const counts: LineCounts = { code: 0, comment: 0, blank: 0 };
  if (source === '') return counts;
  const lines = source.split(/\r?\n/);
  if (lines.at(-1) === '') lines.pop();
  let inBlock = false;
  let inTemplate = false;
  // Brace depths at which a `${` of an enclosing template literal was opened.
  const templates: number[] = [];
  let depth = 0;
  let prevChar = '';
  let prevWord = '';
  for (const line of lines) {
    let code = inTemplate;
    let comment = false;
    let i = 0;
    while (i < line.length) {
      const ch = line[i]!;
      const next = line[i + 1];
      if (inBlock) {
        comment = true;
        const end = line.indexOf('*/', i);
        if (end === -1) break;
        inBlock = false;
        i = end + 2;
        continue;
      }
      if (inTemplate) {
        code = true;
        if (ch === '\\') i += 2;
        else if (ch === '`') {
          inTemplate = false;
          prevChar = '`';
          i++;
        } else if (ch === '$' && next === '{') {
          templates.push(depth);
          depth++;
          inTemplate = false;
          prevChar = '{';
          i += 2;
        } else i++;
        continue;
      }
      if (ch === ' ' || ch === '\t') {
        i++;
        continue;
      }
      if (ch === '/' && next === '/') {
        comment = true;
        break;
      }
      if (ch === '/' && next === '*') {
        comment = true;
        inBlock = true;
        i += 2;
        continue;
      }
      code = true;
      if (ch === '"' || ch === "'") {
        i = skipQuoted(line, i, ch);
        prevChar = ch;
        prevWord = '';
      } else if (ch === '`') {
        inTemplate = true;
        i++;
      } else if (
        ch === '/' &&
        (prevChar === '' || REGEX_AFTER_CHAR.has(prevChar) || REGEX_AFTER_WORD.has(prevWord))
      ) {
        i = skipRegex(line, i);
        prevChar = '/';
        prevWord = '';
      } else if (/[A-Za-z0-9_$]/.test(ch)) {
        let end = i + 1;
        while (end < line.length && /[A-Za-z0-9_$]/.test(line[end]!)) end++;
        prevWord = line.slice(i, end);
        prevChar = 'a';
        i = end;
      } else {
        if (ch === '{') depth++;
        else if (ch === '}') {
          depth--;
          if (templates.length > 0 && templates.at(-1) === depth) {
            templates.pop();
            inTemplate = true;
          }
        }
        prevChar = ch;
        prevWord = '';
        i++;
      }
    }
    if (code) counts.code++;
    else if (comment || inBlock) counts.comment++;
    else counts.blank++;
  }
  return counts;
}

/** Index after the closing quote (or the end of the line for an unterminated string). */
function skipQuoted(line: string, start: number, quote: string): number {
  let i = start + 1;
  while (i < line.length) {
    if (line[i] === '\\') i += 2;
    else if (line[i] === quote) return i + 1;
    else i++;
  }
  return i;
}

/** Index after a regular expression literal's flags; `/` inside a class `[...]` does not end it. */
function skipRegex(line: string, start: number): number {
  let i = start + 1;
  let inClass = false;
  while (i < line.length) {
    const ch = line[i];
    if (ch === '\\') {
      i += 2;
      continue;
    }
    if (ch === '/' && !inClass) {
      i++;
      while (i < line.length && /[a-z]/.test(line[i]!)) i++;
      return i;
    }
    if (ch === '[') inClass = true;
    else if (ch === ']') inClass = false;
    i++;
  }
  return i;
}

/** One counted file. */
export interface FileStats extends LineCounts {
  /** Relative to the root, with `/`. */
  file: string;
  lines: number;
  test: boolean;
}

/** What `code:stats --json` prints. */
export interface CodeStats {
  root: string;
  totals: LineCounts & { files: number; lines: number };
  /** Per top-level folder (`.` for files at the root), most code first. */
  directories: Array<LineCounts & { directory: string; files: number; lines: number }>;
  /** The ten longest files. */
  largest: Array<{ file: string; lines: number; code: number }>;
  /** Files longer than {@link REFACTOR_THRESHOLD} lines, longest first. */
  refactoringCandidates: Array<{ file: string; lines: number }>;
  threshold: number;
  tests: {
    files: number;
    code: number;
    sourceFiles: number;
    sourceCode: number;
    ratio: number | null;
  };
  /** Files too large to be hand-written, not counted. */
  skipped: string[];
}

async function walk(root: string, dir: string, out: string[], skipped: string[]): Promise<void> {
  const entries: Dirent[] = await readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    const path = join(dir, entry.name);
    // Symbolic links are not followed: a link back up the tree would never end.
    if (entry.isDirectory()) {
      if (!CODE_STATS_SKIP_DIRS.has(entry.name) && !entry.name.startsWith('.'))
        await walk(root, path, out, skipped);
    } else if (entry.isFile() && CODE_FILE.test(entry.name)) {
      if ((await stat(path)).size > MAX_FILE_BYTES) skipped.push(posix(relative(root, path)));
      else out.push(path);
    }
  }
}

function posix(path: string): string {
  return path.split(sep).join('/');
}

/**
 * Count the JavaScript and TypeScript lines under `root`, skipping {@link CODE_STATS_SKIP_DIRS}.
 *
 * @example
 * ```ts
 * const stats = await collectCodeStats(process.cwd());
 * stats.tests.ratio; // test code lines per source code line
 * ```
 */
export async function collectCodeStats(root: string): Promise<CodeStats> {
  const paths: string[] = [];
  const skipped: string[] = [];
  await walk(root, root, paths, skipped);
  const files: FileStats[] = [];
  for (const path of paths) {
    const file = posix(relative(root, path));
    const source = await readFile(path, 'utf8');
    const counts = countLines(source);
    const segments = file.split('/');
    const test =
      TEST_FILE.test(segments.at(-1)!) || segments.slice(0, -1).some((s) => TEST_DIRS.has(s));
    files.push({ file, ...counts, lines: counts.code + counts.comment + counts.blank, test });
  }

  const add = (into: LineCounts & { files: number; lines: number }, file: FileStats): void => {
    into.files++;
    into.lines += file.lines;
    into.code += file.code;
    into.comment += file.comment;
    into.blank += file.blank;
  };
  const totals = { files: 0, lines: 0, code: 0, comment: 0, blank: 0 };
  const byDir = new Map<string, LineCounts & { directory: string; files: number; lines: number }>();
  for (const file of files) {
    add(totals, file);
    const directory = file.file.includes('/') ? file.file.slice(0, file.file.indexOf('/')) : '.';
    const entry = byDir.get(directory) ?? {
      directory,
      files: 0,
      lines: 0,
      code: 0,
      comment: 0,
      blank: 0,
    };
    byDir.set(directory, entry);
    add(entry, file);
  }
  const longest = [...files].sort((a, b) => b.lines - a.lines || (a.file < b.file ? -1 : 1));
  const tests = files.filter((f) => f.test);
  const sources = files.filter((f) => !f.test);
  const testCode = tests.reduce((sum, f) => sum + f.code, 0);
  const sourceCode = sources.reduce((sum, f) => sum + f.code, 0);
  return {
    root,
    totals,
    directories: [...byDir.values()].sort(
      (a, b) => b.code - a.code || (a.directory < b.directory ? -1 : 1),
    ),
    largest: longest.slice(0, 10).map(({ file, lines, code }) => ({ file, lines, code })),
    refactoringCandidates: longest
      .filter((f) => f.lines > REFACTOR_THRESHOLD)
      .map(({ file, lines }) => ({ file, lines })),
    threshold: REFACTOR_THRESHOLD,
    tests: {
      files: tests.length,
      code: testCode,
      sourceFiles: sources.length,
      sourceCode,
      ratio: sourceCode === 0 ? null : Math.round((testCode / sourceCode) * 100) / 100,
    },
    skipped,
  };
}

function render(ui: CommandUI, stats: CodeStats): void {
  ui.line(ui.bold(`Lines of JavaScript and TypeScript in ${stats.root}`));
  ui.table(
    [...stats.directories.map((d) => ({ ...d })), { directory: ui.bold('total'), ...stats.totals }],
    ['directory', 'files', 'lines', 'code', 'comment', 'blank'],
  );
  ui.line();
  ui.line(ui.bold('Largest files'));
  ui.table(
    stats.largest.map((f) => ({ ...f })),
    ['file', 'lines', 'code'],
  );
  ui.line();
  if (stats.refactoringCandidates.length === 0)
    ui.success(`no file is over ${stats.threshold} lines`);
  else {
    ui.line(
      ui.bold(
        `Refactoring candidates (over ${stats.threshold} lines): ${stats.refactoringCandidates.length}`,
      ),
    );
    for (const { file, lines } of stats.refactoringCandidates)
      ui.line(ui.yellow(`  ${file} (${lines})`));
  }
  const t = stats.tests;
  ui.line();
  ui.line(
    `Tests: ${t.files} files, ${t.code} code lines; source: ${t.sourceFiles} files, ${t.sourceCode} code lines; ` +
      `ratio ${t.ratio === null ? 'n/a' : t.ratio} (test code lines per source code line)`,
  );
  if (stats.skipped.length > 0) ui.warn(`not counted (over 4 MiB): ${stats.skipped.join(', ')}`);
}

export const codeStatsCommand = defineCommand({
  name: 'code:stats',
  aliases: ['loc'],
  description:
    'Count code, comment and blank lines per folder; list the largest files and the test ratio',
  needs: 'nothing',
  json: true,
  async handle({ cwd, ui }) {
    const stats = await collectCodeStats(cwd);
    ui.output(stats, () => render(ui, stats));
    return 0;
  },
});
