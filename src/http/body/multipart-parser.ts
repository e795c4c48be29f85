import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import fs from 'node:fs/promises';
import type { IncomingHttpHeaders } from 'node:http';
import path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import busboy from 'busboy';
import { isKeelError } from '../../support/index.js';
import type { ResolvedMultipartLimits } from './body-options.js';
import {
  E_FIELD_TOO_LARGE,
  E_FILE_TOO_LARGE,
  E_MALFORMED_MULTIPART,
  E_TOO_MANY_FIELDS,
  E_TOO_MANY_FILES,
  E_UPLOAD_FAILED,
} from './errors.js';
import { QueryBuilder, type QueryLimits, type QueryObject } from './query-parser.js';
import { cleanupUploads, TempUploadedFile } from './uploaded-file.js';

/** What a multipart body parses into. */
export interface MultipartResult {
  readonly fields: QueryObject;
  readonly files: TempUploadedFile[];
}

/**
 * Pushes the body's bytes into the parser and settles when they are all written (or
 * rejects with the reason they could not be): the request stream in production, a buffer
 * when the raw bytes were read first.
 */
export type BodyFeed = (sink: Writable) => Promise<void>;

function toKeelError(error: unknown): Error {
  if (isKeelError(error)) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new E_MALFORMED_MULTIPART(message).withCause(error);
}

/**
 * Parse `multipart/form-data` with busboy. Fields go through the query-string key rules
 * (`tags[]`, `address[city]`); files stream to fresh temporary files. Any failure (limit,
 * malformed body, abort, disk error) removes every temporary file before rejecting.
 */
export async function parseMultipart(
  headers: IncomingHttpHeaders,
  limits: ResolvedMultipartLimits,
  formLimits: QueryLimits,
  feed: BodyFeed,
): Promise<MultipartResult> {
  let parser: busboy.Busboy;
  try {
    parser = busboy({
      headers,
      // busboy reports a limit when a value *reaches* it; one byte more makes the limits
      // mean "at most", so a file of exactly `fileSize` bytes is accepted.
      limits: {
        fileSize: limits.fileSize + 1,
        fieldSize: limits.fieldSize + 1,
        files: limits.files,
        fields: limits.fields,
      },
      defParamCharset: 'utf8',
    });
  } catch (error) {
    throw toKeelError(error);
  }

  const builder = new QueryBuilder({ ...formLimits, maxKeys: Number.POSITIVE_INFINITY });
  const files: TempUploadedFile[] = [];
  const writes: Array<Promise<void>> = [];
  let failure: Error | undefined;
  let dirReady: Promise<unknown> | undefined;

  const fail = (error: Error): void => {
    if (failure) return;
    failure = error;
    // Limit events fire from inside busboy's write loop, which keeps using its state after
    // emitting: destroying it there would crash it. Handlers check `failure` meanwhile.
    process.nextTick(() => parser.destroy(error));
  };

  const store = async (source: Readable, file: TempUploadedFile): Promise<void> => {
    let writeError: Error | undefined;
    try {
      dirReady ??= fs.mkdir(limits.tmpDir, { recursive: true, mode: 0o700 });
      await dirReady;
    } catch (error) {
      source.resume();
      fail(new E_UPLOAD_FAILED(limits.tmpDir, (error as Error).message).withCause(error));
      return;
    }
    if (source.destroyed) return;
    // 'wx': a fresh name, never an existing file; 0600: uploads are nobody else's business.
    const out = createWriteStream(file.path, { flags: 'wx', mode: 0o600 });
    // `on`, not `once`, here and below: see collectPlain in body-stream.ts.
    out.on('error', (error) => {
      writeError = error;
    });
    try {
      await pipeline(source, out);
      file.grow(out.bytesWritten);
    } catch (error) {
      // The source fails when the whole parse is being torn down; only our own write
      // failing (disk full, permissions) is a new reason to stop.
      if (writeError) {
        fail(new E_UPLOAD_FAILED(file.path, writeError.message).withCause(error));
      }
    } finally {
      // The file must be closed before it can be removed reliably.
      if (!out.closed) await new Promise<void>((resolve) => out.on('close', () => resolve()));
    }
  };

  parser.on('field', (name, value, info) => {
    if (failure || name === undefined) return;
    if (info.valueTruncated) return fail(new E_FIELD_TOO_LARGE(name, limits.fieldSize));
    try {
      builder.add(name, value);
    } catch (error) {
      fail(error as Error);
    }
  });
  parser.on('file', (name, source, info) => {
    if (failure) {
      source.resume();
      return;
    }
    const tempPath = path.join(limits.tmpDir, `upload-${randomUUID()}`);
    const file = new TempUploadedFile(name ?? '', info.filename ?? '', info.mimeType, tempPath);
    files.push(file);
    // The part can fail (truncated form) before `store` pipes it, while the upload
    // directory is still being created; the parse reports that failure, not the part.
    source.on('error', () => {});
    source.on('limit', () => fail(new E_FILE_TOO_LARGE(file.field, limits.fileSize)));
    writes.push(store(source, file));
  });
  parser.on('filesLimit', () => fail(new E_TOO_MANY_FILES(limits.files)));
  parser.on('fieldsLimit', () => fail(new E_TOO_MANY_FIELDS(limits.fields)));
  // Errors reach us through `feed`; this listener only keeps a late one from crashing.
  parser.on('error', () => {});

  try {
    await feed(parser);
    await Promise.all(writes);
    if (failure) throw failure;
  } catch (error) {
    await Promise.allSettled(writes);
    await cleanupUploads(files);
    throw isKeelError(error) ? error : (failure ?? toKeelError(error));
  }

  // Browsers send an empty file input as a part with filename="" and no bytes.
  const kept: TempUploadedFile[] = [];
  for (const file of files) {
    if (file.filename === '' && file.size === 0) await file.cleanup();
    else kept.push(file);
  }
  return { fields: builder.result(), files: kept };
}
