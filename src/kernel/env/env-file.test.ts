import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseEnv } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isKeelError } from '../../support/index.js';
import { loadEnvFiles, MAX_ENV_FILE_BYTES, parseEnvContent, readEnvFile } from './env-file.js';
import { E_ENV_FILE_INVALID, type EnvFileProblem } from './errors.js';

function problemsOf(fn: () => unknown): EnvFileProblem[] {
  try {
    fn();
  } catch (error) {
    expect(E_ENV_FILE_INVALID.is(error)).toBe(true);
    return (error as InstanceType<typeof E_ENV_FILE_INVALID>).details?.problems as EnvFileProblem[];
  }
  throw new Error('expected E_ENV_FILE_INVALID');
}

describe('util.parseEnv on its own (why every line is checked first)', () => {
  it('glues a line without "=" to the next key instead of failing', () => {
    expect(parseEnv('A=1\ngarbage line\nB=2')).toEqual({ A: '1', 'garbage line\nB': '2' });
  });

  it('drops the rest of the file after a line with an empty key', () => {
    expect(parseEnv('A=1\n=oops\nB=2')).toEqual({ A: '1' });
  });
});

describe('parseEnvContent', () => {
  it('reads values, comments, export, quotes and multi-line values', () => {
    const content = [
      '# a comment',
      'PORT=3000',
      '  export APP_NAME = "Keel app"  ',
      '',
      'SINGLE=\'a "quoted" word\'',
      'BACKTICK=`it\'s "both"`',
      'ESCAPED="line1\\nline2"',
      'MULTI="first',
      'second" # trailing comment',
      'EMPTY=',
      'HASH=value # comment',
      'QUOTED_HASH="a # b"',
      'EQUALS=a=b=c',
      'PORT=4000',
    ].join('\n');
    expect(parseEnvContent(content)).toEqual({
      PORT: '4000',
      APP_NAME: 'Keel app',
      SINGLE: 'a "quoted" word',
      BACKTICK: 'it\'s "both"',
      ESCAPED: 'line1\nline2',
      MULTI: 'first\nsecond',
      EMPTY: '',
      HASH: 'value',
      QUOTED_HASH: 'a # b',
      EQUALS: 'a=b=c',
    });
  });

  it('accepts CRLF line endings, a BOM, tabs and whitespace-only lines', () => {
    expect(parseEnvContent('\uFEFFA=1\r\n   \r\n\tB=2\r\nC=3')).toEqual({ A: '1', B: '2', C: '3' });
  });

  it('ignores a __proto__ variable instead of touching the prototype', () => {
    const vars = parseEnvContent('__proto__={"polluted":true}\nA=1');
    expect(vars).toEqual({ A: '1' });
    expect(Object.getPrototypeOf(vars)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('reports every malformed line at once, with line numbers and the file', () => {
    const content = [
      'A=1',
      'garbage line',
      '=no-name',
      'MY KEY=2',
      '1ABC=3',
      'B="x" trailing',
      "C='it''s'",
      'export ALONE',
      'D=ok',
    ].join('\n');
    let error: unknown;
    try {
      parseEnvContent(content, '/srv/app/.env');
    } catch (caught) {
      error = caught;
    }
    expect(isKeelError(error, 'E_ENV_FILE_INVALID')).toBe(true);
    const message = (error as Error).message;
    expect(message).toContain('/srv/app/.env');
    expect(message).toContain('line 2: expected KEY=value but found no "="');
    expect(problemsOf(() => parseEnvContent(content))).toEqual([
      { line: 2, message: 'expected KEY=value but found no "="' },
      { line: 3, message: 'missing variable name before "="' },
      { line: 4, message: expect.stringContaining('invalid variable name "MY KEY"') },
      { line: 5, message: expect.stringContaining('invalid variable name "1ABC"') },
      { line: 6, message: 'B has text after its closing " quote; quote the whole value' },
      { line: 7, message: "C has text after its closing ' quote; quote the whole value" },
      { line: 8, message: 'expected KEY=value but found no "="' },
    ]);
  });

  it('reports an unterminated quote', () => {
    expect(problemsOf(() => parseEnvContent('A=1\nB="never closed\nC=3'))).toEqual([
      { line: 2, message: 'B opens a " quote that is never closed' },
    ]);
  });

  it('reports a quote that only another value closes', () => {
    // Node would read B as 'open\nC=3\nD=' and lose C and D.
    const problems = problemsOf(() => parseEnvContent('B="open\nC=3\nD="x"'));
    expect(problems[0]).toEqual({
      line: 1,
      message: expect.stringContaining(
        '(line 3) is followed by more text; is a closing quote missing?',
      ),
    });
  });

  it('rejects binary content and truncates long names in messages', () => {
    expect(problemsOf(() => parseEnvContent('A=1\0\n'))).toEqual([
      { line: 0, message: 'contains NUL bytes (is it a binary file?)' },
    ]);
    const [problem] = problemsOf(() => parseEnvContent(`${'X '.repeat(500)}=1`));
    expect(problem!.message).toContain('…"');
    expect(problem!.message.length).toBeLessThan(130);
  });

  it('never echoes a value in its errors', () => {
    const error = (() => {
      try {
        parseEnvContent('SECRET="s3cr3t-value" oops');
      } catch (caught) {
        return caught as Error;
      }
    })();
    expect(error?.message).not.toContain('s3cr3t');
  });
});

describe('loadEnvFiles', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'keel-env-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('merges .env < .env.local < the real environment', async () => {
    await writeFile(join(dir, '.env'), 'A=env\nB=env\nC=env\n');
    await writeFile(join(dir, '.env.local'), 'B=local\nC=local\n');
    const vars = loadEnvFiles({
      cwd: dir,
      processEnv: { C: 'process', D: 'process', E: undefined },
    });
    expect(vars).toEqual({ A: 'env', B: 'local', C: 'process', D: 'process' });
  });

  it('is fine without any file and defaults to process.env', () => {
    expect(loadEnvFiles({ cwd: dir, processEnv: {} })).toEqual({});
    expect(loadEnvFiles({ cwd: dir }).PATH).toBe(process.env.PATH);
  });

  it('reads only .env.local when .env is missing, and custom file lists', async () => {
    await writeFile(join(dir, '.env.local'), 'ONLY=local');
    await writeFile(join(dir, '.env.test'), 'ONLY=test');
    expect(loadEnvFiles({ cwd: dir, processEnv: {} })).toEqual({ ONLY: 'local' });
    expect(loadEnvFiles({ cwd: dir, processEnv: {}, files: ['.env.test'] })).toEqual({
      ONLY: 'test',
    });
  });

  it('does not modify process.env', async () => {
    await writeFile(join(dir, '.env'), 'KEEL_ENV_FILE_TEST_MARKER=1');
    loadEnvFiles({ cwd: dir });
    expect(process.env.KEEL_ENV_FILE_TEST_MARKER).toBeUndefined();
  });

  it('names the file of a malformed line', async () => {
    await writeFile(join(dir, '.env.local'), 'OK=1\nbroken');
    expect(() => loadEnvFiles({ cwd: dir, processEnv: {} })).toThrow(
      `Cannot parse ${join(dir, '.env.local')}:\n  line 2: expected KEY=value`,
    );
  });

  it('rejects an oversized file and a directory named .env', async () => {
    await writeFile(join(dir, '.env'), `A=${'x'.repeat(MAX_ENV_FILE_BYTES)}`);
    expect(() => readEnvFile(join(dir, '.env'))).toThrow(/larger than the 1048576-byte limit/);
    await rm(join(dir, '.env'));
    await mkdir(join(dir, '.env'));
    expect(() => loadEnvFiles({ cwd: dir, processEnv: {} })).toThrow(/is not a regular file/);
  });

  it('returns undefined for a missing file', () => {
    expect(readEnvFile(join(dir, 'nope'))).toBeUndefined();
  });
});
