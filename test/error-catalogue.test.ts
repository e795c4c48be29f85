import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain ESM script without types
import { buildErrorsDoc } from '../scripts/errors-doc.mjs';
import { KeelError } from '../src/support/index.js';

const root = fileURLToPath(new URL('..', import.meta.url));

function errorFiles(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) errorFiles(path, out);
    else if (name === 'errors.ts' || name === 'duration.ts') out.push(path);
  }
  return out;
}

interface Entry {
  file: string;
  exportName: string;
  code: string;
  status: number;
  help: string;
}

async function catalogue(): Promise<Entry[]> {
  const entries: Entry[] = [];
  for (const file of errorFiles(join(root, 'src'))) {
    const mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
    // A class may also be exported under a friendly alias (ValidationError); count it once,
    // under the export named after its code.
    const exports = Object.entries(mod).sort(
      ([a], [b]) => Number(b.startsWith('E_')) - Number(a.startsWith('E_')),
    );
    const seen = new Set<unknown>();
    for (const [exportName, value] of exports) {
      if (typeof value !== 'function' || seen.has(value)) continue;
      seen.add(value);
      const cls = value as {
        code?: unknown;
        status?: unknown;
        help?: unknown;
        prototype?: unknown;
      };
      if (typeof cls.code !== 'string' || !(cls.prototype instanceof KeelError)) continue;
      entries.push({
        file: relative(root, file),
        exportName,
        code: cls.code,
        status: Number(cls.status),
        help: String(cls.help),
      });
    }
  }
  return entries;
}

/** docs/errors.md split by error heading: code → its section's text. */
function docSections(): Map<string, string> {
  const doc = readFileSync(join(root, 'docs/errors.md'), 'utf8');
  const sections = new Map<string, string>();
  for (const part of doc.split(/^#+ (?=E_[A-Z0-9_]+$)/m).slice(1)) {
    const code = part.slice(0, part.indexOf('\n'));
    sections.set(code, `${part.split(/^#+ /m)[0]}\n`);
  }
  return sections;
}

describe('error catalogue', () => {
  it('names each export after its code, with E_ prefix and a help line', async () => {
    const entries = await catalogue();
    expect(entries.length).toBeGreaterThan(50);
    for (const entry of entries) {
      expect(entry.exportName, entry.file).toBe(entry.code);
      expect(entry.code).toMatch(/^E_[A-Z0-9_]+$/);
      expect(entry.help.length, `${entry.code} help`).toBeGreaterThan(10);
    }
  });

  it('has unique codes across every subsystem', async () => {
    const seen = new Map<string, string>();
    for (const entry of await catalogue()) {
      const previous = seen.get(entry.code);
      expect(previous, `${entry.code} in ${entry.file} and ${previous}`).toBeUndefined();
      seen.set(entry.code, entry.file);
    }
  });

  it('documents every code in docs/errors.md, which is up to date', async () => {
    const doc = readFileSync(join(root, 'docs/errors.md'), 'utf8');
    expect(doc, 'run node scripts/errors-doc.mjs').toBe(buildErrorsDoc());
    for (const entry of await catalogue()) {
      expect(doc, `${entry.code} (${entry.file}) missing from docs/errors.md`).toMatch(
        new RegExp(`^#+ ${entry.code}$`, 'm'),
      );
    }
  });

  it("gives each code's section its status and its exact help line", async () => {
    const sections = docSections();
    for (const entry of await catalogue()) {
      const section = sections.get(entry.code) ?? '';
      expect(section, `${entry.code}: status`).toContain(`- Status: ${entry.status}\n`);
      expect(section, `${entry.code}: help`).toContain(`- Help: ${entry.help}\n`);
    }
  });

  it('documents no code that does not exist', async () => {
    const codes = new Set((await catalogue()).map((e) => e.code));
    for (const code of docSections().keys())
      expect(codes, `${code} is documented but not defined`).toContain(code);
  });
});
