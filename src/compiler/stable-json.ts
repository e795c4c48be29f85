import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * JSON with object keys in insertion order (callers build them deterministically), two-space
 * indentation and a trailing newline: readable in a diff and byte-identical across runs.
 */
export function stableStringify(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

/**
 * Write `content` to `file` only when it differs, atomically (temp file + rename) so a
 * reader never sees half a file. Returns whether the file changed.
 */
export async function writeIfChanged(file: string, content: string): Promise<boolean> {
  const current = await readFile(file, 'utf8').catch(() => undefined);
  if (current === content) return false;
  await mkdir(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, content, 'utf8');
  await rename(tmp, file);
  return true;
}
