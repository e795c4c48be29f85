import fs from 'node:fs/promises';
import path from 'node:path';
import { E_UPLOAD_REMOVED } from './errors.js';

/**
 * A file received in a multipart body, already written to a temporary file. `filename`
 * and `mimeType` are what the client claimed: never trust them for paths or type checks.
 */
export interface UploadedFile {
  /** The form field name. */
  readonly field: string;
  /** The client's file name, without directories; `''` when the part named none. */
  readonly filename: string;
  /** The part's declared Content-Type (`application/octet-stream` when absent). */
  readonly mimeType: string;
  /** Bytes received. */
  readonly size: number;
  /** Where the bytes are now: the temporary file, or the destination after {@link move}. */
  readonly path: string;
  /** Move the file to `dest` (parent directories are created); it is then the app's to keep. */
  move(dest: string): Promise<void>;
  /** Delete the temporary file. Does nothing after {@link move} or a previous cleanup. */
  cleanup(): Promise<void>;
}

/** The {@link UploadedFile} Keel creates while parsing; internal to the body layer. */
export class TempUploadedFile implements UploadedFile {
  readonly field: string;
  readonly filename: string;
  readonly mimeType: string;
  #size = 0;
  #path: string;
  #moved = false;
  #removed = false;

  constructor(field: string, filename: string, mimeType: string, tempPath: string) {
    this.field = field;
    this.filename = filename;
    this.mimeType = mimeType;
    this.#path = tempPath;
  }

  get size(): number {
    return this.#size;
  }

  get path(): string {
    return this.#path;
  }

  /** Called by the parser as bytes are written. */
  grow(bytes: number): void {
    this.#size += bytes;
  }

  async move(dest: string): Promise<void> {
    if (this.#removed) throw new E_UPLOAD_REMOVED(this.filename);
    const target = path.resolve(dest);
    await fs.mkdir(path.dirname(target), { recursive: true });
    try {
      await fs.rename(this.#path, target);
    } catch (error) {
      // rename(2) cannot cross file systems, and the temp dir is often a tmpfs.
      if ((error as NodeJS.ErrnoException).code !== 'EXDEV') throw error;
      await fs.copyFile(this.#path, target);
      await fs.rm(this.#path, { force: true });
    }
    this.#path = target;
    this.#moved = true;
  }

  async cleanup(): Promise<void> {
    if (this.#moved || this.#removed) return;
    this.#removed = true;
    await fs.rm(this.#path, { force: true });
  }

  /** Logs and debug output: no temp path, which says nothing to a reader. */
  toJSON(): Record<string, unknown> {
    return { field: this.field, filename: this.filename, mimeType: this.mimeType, size: this.size };
  }
}

/**
 * Delete the temporary files of uploads that were not moved. Call it when the response
 * has finished; `BodyReader.cleanup()` does it for the files it parsed.
 *
 * @example
 * ```ts
 * res.on('close', () => void cleanupUploads(files));
 * ```
 */
export async function cleanupUploads(files: readonly UploadedFile[]): Promise<void> {
  await Promise.allSettled(files.map((file) => file.cleanup()));
}
