import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { isPlainObject } from '../support/index.js';

/** State files are small; anything past this is not ours, and is refused rather than parsed. */
export const MAX_STATE_FILE_BYTES = 8 * 1024 * 1024;

/**
 * JSON with object keys sorted at every depth, two-space indented, newline-terminated: the
 * same state always gives the same bytes, so the files diff cleanly and can be committed.
 */
export function stableStringify(value: unknown): string {
  return `${JSON.stringify(sortKeys(value), null, 2)}\n`;
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (!isPlainObject(value)) return value;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) {
    if (value[key] !== undefined) out[key] = sortKeys(value[key]);
  }
  return out;
}

/**
 * Write `data` to `file` atomically: a reader sees the old content or the new, never half of
 * it. The temporary file sits in the same folder so that `rename` stays on one file system
 * (where POSIX guarantees it replaces the target atomically).
 */
export async function writeFileAtomic(file: string, data: string): Promise<void> {
  // State files may hold install history: keep the folder private (as setup:permissions does).
  await fs.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const temp = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    await fs.writeFile(temp, data, { encoding: 'utf8', mode: 0o644 });
    await fs.rename(temp, file);
  } catch (error) {
    await fs.rm(temp, { force: true });
    throw error;
  }
}

/**
 * Read and parse a JSON file. Returns `undefined` when it does not exist; calls `corrupt`
 * (which must throw) when it is oversized or not JSON.
 */
export async function readJsonFile(
  file: string,
  corrupt: (reason: string) => never,
): Promise<unknown> {
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(file, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  let text: string;
  try {
    const { size } = await handle.stat();
    if (size > MAX_STATE_FILE_BYTES)
      corrupt(
        `it is ${size} bytes, more than the ${MAX_STATE_FILE_BYTES} bytes a state file may hold`,
      );
    text = await handle.readFile('utf8');
  } finally {
    await handle.close();
  }
  if (text.trim() === '') corrupt('it is empty');
  try {
    return JSON.parse(text);
  } catch (error) {
    return corrupt(`it is not valid JSON (${(error as Error).message})`);
  }
}

/** The message of anything thrown, without assuming it is an `Error`. */
export function errorMessage(error: unknown): string {
  if (error !== null && typeof error === 'object' && 'message' in error) {
    const { message } = error as { message: unknown };
    if (typeof message === 'string' && message !== '') return message;
  }
  return String(error);
}
