import { mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runKeel, writeFiles } from '../../modules/commands/__fixtures__/cli-fixture.js';
import { type CodeStats, collectCodeStats, countLines } from './code-stats-command.js';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));

describe('countLines', () => {
  it('splits code, comment and blank lines', () => {
    expect(countLines('')).toEqual({ code: 0, comment: 0, blank: 0 });
    expect(countLines('// hi\nconst a = 1; // one\n\n')).toEqual({ code: 1, comment: 1, blank: 1 });
    expect(countLines('const a = 1;')).toEqual({ code: 1, comment: 0, blank: 0 });
    expect(countLines('a();\r\n\r\n// c\r\n')).toEqual({ code: 1, comment: 1, blank: 1 });
    expect(countLines('  \t\n')).toEqual({ code: 0, comment: 0, blank: 1 });
  });

  it('counts block comments, JSDoc and code after a closing */', () => {
    const source = [
      '/**',
      ' * Docs.',
      '',
      ' */',
      'f(); /* inline */',
      '/* a */ g();',
      '/* one line */',
    ].join('\n');
    // The blank line inside the block is part of the comment.
    expect(countLines(source)).toEqual({ code: 2, comment: 5, blank: 0 });
  });

  it('does not take // or /* inside strings, templates or regular expressions for comments', () => {
    const source = [
      "const url = 'http://example.com'; ",
      'const b = "/* not a comment";',
      'const t = `line one // still text',
      '',
      '// still inside the template',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: source text with a template literal
      '${"}"} ${ `nested ${1}` } end`;',
      'const r = /\\/\\/[\'"`]/g.test(x);',
      "const s = a.replace(/[/*]/g, '');",
      'const half = total / 2; // division',
      'return /^\\/\\*/.test(y);',
    ].join('\n');
    expect(countLines(source)).toEqual({ code: 10, comment: 0, blank: 0 });
  });

  it('copes with escapes and unterminated literals', () => {
    expect(countLines("const q = 'it\\'s // fine';\n// after")).toEqual({
      code: 1,
      comment: 1,
      blank: 0,
    });
    expect(countLines("const broken = 'never closed\n// next line is a comment")).toEqual({
      code: 1,
      comment: 1,
      blank: 0,
    });
    expect(countLines('/* never closed\nstill\n')).toEqual({ code: 0, comment: 2, blank: 0 });
  });
});

describe('code:stats', () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'keel-loc-'));
    const long = Array.from({ length: 320 }, (_, i) => `export const v${i} = ${i};`).join('\n');
    await writeFiles(root, {
      'keel.config.ts': "export default { name: 'Stats' };\n",
      'modules/billing/module.ts': '// billing\nexport default {\n  name: "billing",\n};\n\n',
      'modules/billing/invoice.ts': `${long}\n`,
      'modules/billing/invoice.test.ts': "import { it } from 'vitest';\n\nit('works', () => {});\n",
      'test/helpers.ts': '/** Shared. */\nexport const x = 1;\n',
      'config/app.js': 'export default {};\n',
      'README.md': '# not code\n',
      'node_modules/dep/index.js': 'module.exports = 1;\n',
      'var/cache/x.js': 'skip();\n',
      'dist/out.js': 'skip();\n',
      'build/out.js': 'skip();\n',
      'coverage/x.js': 'skip();\n',
      '.git/hooks/pre-commit.js': 'skip();\n',
      '.cache/x.ts': 'skip();\n',
    });
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('counts lines per top-level folder, skipping dependencies and build output', async () => {
    const stats = await collectCodeStats(root);
    expect(stats.totals).toEqual({ files: 6, lines: 332, code: 328, comment: 2, blank: 2 });
    expect(stats.directories).toEqual([
      { directory: 'modules', files: 3, lines: 328, code: 325, comment: 1, blank: 2 },
      { directory: '.', files: 1, lines: 1, code: 1, comment: 0, blank: 0 },
      { directory: 'config', files: 1, lines: 1, code: 1, comment: 0, blank: 0 },
      { directory: 'test', files: 1, lines: 2, code: 1, comment: 1, blank: 0 },
    ]);
    expect(stats.largest[0]).toEqual({ file: 'modules/billing/invoice.ts', lines: 320, code: 320 });
    expect(stats.largest).toHaveLength(6);
    expect(stats.refactoringCandidates).toEqual([
      { file: 'modules/billing/invoice.ts', lines: 320 },
    ]);
    expect(stats.tests).toEqual({
      files: 2,
      code: 3,
      sourceFiles: 4,
      sourceCode: 325,
      ratio: 0.01,
    });
    expect(stats.skipped).toEqual([]);
  });

  it('lists at most ten largest files and does not follow symbolic links', async () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 12; i++)
      files[`src/f${String(i).padStart(2, '0')}.ts`] = 'x();\n'.repeat(i + 1);
    // Past 4 MiB a file is generated or minified: listed, not counted.
    files['public/bundle.min.js'] = 'x'.repeat(4 * 1024 * 1024 + 1);
    await writeFiles(root, files);
    await symlink(root, join(root, 'src', 'loop'), 'dir');
    const stats = await collectCodeStats(root);
    expect(stats.largest).toHaveLength(10);
    expect(stats.largest.slice(1, 3)).toEqual([
      { file: 'src/f11.ts', lines: 12, code: 12 },
      { file: 'src/f10.ts', lines: 11, code: 11 },
    ]);
    expect(stats.totals.files).toBe(18);
    expect(stats.skipped).toEqual(['public/bundle.min.js']);
  });

  it('prints JSON under code:stats and a report under loc', async () => {
    const json = await runKeel(root, 'code:stats', '--json');
    expect(json.code).toBe(0);
    const stats = json.json<CodeStats>();
    expect(stats.root).toBe(root);
    expect(stats.threshold).toBe(300);

    const text = await runKeel(root, 'loc');
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/directory\s+files\s+lines\s+code\s+comment\s+blank/);
    expect(text.stdout).toMatch(/modules\s+3\s+328\s+325\s+1\s+2/);
    expect(text.stdout).toMatch(/total\s+6\s+332\s+328\s+2\s+2/);
    expect(text.stdout).toContain('Refactoring candidates (over 300 lines): 1');
    expect(text.stdout).toContain('modules/billing/invoice.ts (320)');
    expect(text.stdout).toContain(
      'Tests: 2 files, 3 code lines; source: 4 files, 325 code lines; ratio 0.01',
    );
  });

  it('says so when no file is over the threshold and there is no source', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'keel-loc-empty-'));
    try {
      const result = await runKeel(empty, 'code:stats');
      expect(result.code).toBe(0);
      expect(result.stdout).toContain('no file is over 300 lines');
      expect(result.stdout).toContain('ratio n/a');
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
  });

  it('works on the framework repository itself with --cwd', async () => {
    const result = await runKeel(root, '--cwd', REPO, 'code:stats', '--json');
    expect(result.code).toBe(0);
    const stats = result.json<CodeStats>();
    const src = stats.directories.find((d) => d.directory === 'src');
    expect(src?.files).toBeGreaterThan(50);
    expect(
      stats.directories.some((d) => ['node_modules', 'dist', 'coverage'].includes(d.directory)),
    ).toBe(false);
    expect(stats.tests.files).toBeGreaterThan(10);
  });

  it('fails on a folder that does not exist', async () => {
    const result = await runKeel(root, '--cwd', join(root, 'missing'), 'code:stats');
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('ENOENT');
  });
});
