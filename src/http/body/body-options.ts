import os from 'node:os';
import path from 'node:path';
import type { BodyKind } from './content-type.js';
import { E_INVALID_BODY_OPTIONS } from './errors.js';
import type { QueryLimits } from './query-parser.js';

/** Limits for `multipart/form-data` bodies. Sizes in bytes. */
export interface MultipartLimits {
  /** Largest single file. */
  fileSize: number;
  /** Most file parts. */
  files: number;
  /** Most non-file fields. */
  fields: number;
  /** Largest single field value. */
  fieldSize: number;
  /**
   * Largest whole body on the wire. Defaults to the sum of the other limits plus 1 MiB
   * for part headers, which also bounds parts the parser skips (no `name`, no disposition).
   */
  totalSize?: number;
  /** Where uploads are streamed. Default `os.tmpdir()/keel-uploads`. */
  tmpDir?: string;
}

/** Largest body accepted per kind, in bytes (after decompression). */
export interface BodyLimits {
  json: number;
  form: number;
  text: number;
  raw: number;
  multipart: MultipartLimits;
}

/** Limits to override: any subset, multipart limits included. */
export type BodyLimitsInput = Partial<Omit<BodyLimits, 'multipart'>> & {
  multipart?: Partial<MultipartLimits>;
};

/** Options for {@link parseBody} and {@link BodyReader}. */
export interface BodyOptions {
  /** Per-kind size limits; unset ones keep {@link defaultBodyLimits}. */
  limits?: BodyLimitsInput;
  /** Deadline for receiving the whole body, from the first read. Default 30 000 ms. */
  timeoutMs?: number;
  /** Body kinds this route accepts; any other Content-Type is a 415. Default: all. */
  allowed?: readonly BodyKind[];
  /** Limits for urlencoded bodies and multipart field names (as for query strings). */
  formLimits?: QueryLimits;
}

const MiB = 1024 * 1024;

/** Limits used when a route sets none. */
export const defaultBodyLimits: Readonly<BodyLimits> = Object.freeze({
  json: MiB,
  form: MiB,
  text: MiB,
  raw: 5 * MiB,
  multipart: Object.freeze({
    fileSize: 20 * MiB,
    files: 10,
    fields: 200,
    fieldSize: 100 * 1024,
  }),
});

/** Default for {@link BodyOptions.timeoutMs}. */
export const DEFAULT_BODY_TIMEOUT_MS = 30_000;

/** Every kind, in the order 415 responses list them. */
export const ALL_BODY_KINDS: readonly BodyKind[] = Object.freeze([
  'json',
  'form',
  'text',
  'multipart',
  'raw',
]);

/** Multipart limits with every value decided. */
export interface ResolvedMultipartLimits extends MultipartLimits {
  totalSize: number;
  tmpDir: string;
}

/** {@link BodyOptions} with defaults applied and numbers checked. */
export interface ResolvedBodyOptions {
  readonly limits: Omit<BodyLimits, 'multipart'> & { multipart: ResolvedMultipartLimits };
  readonly timeoutMs: number;
  readonly allowed: readonly BodyKind[];
  readonly formLimits: QueryLimits;
  /** How to read a body of each kind, made once with the options rather than per body. */
  readonly reads: Readonly<Record<BodyKind, BodyRead>>;
}

/** How to read one body: its byte limit, its deadline, and its kind (named in errors). */
export interface BodyRead {
  /** Most bytes, on the wire and after decompression (multipart: the whole body). */
  readonly limit: number;
  /** Deadline for the whole body in ms; 0 disables it. */
  readonly timeoutMs: number;
  readonly kind: BodyKind;
}

function checked(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new E_INVALID_BODY_OPTIONS(name, value);
  }
  return value;
}

// Routes share their options object across requests: resolve each one once.
const resolvedCache = new WeakMap<BodyOptions, ResolvedBodyOptions>();
const NO_OPTIONS: BodyOptions = {};

/** Apply defaults to body options; throws `E_INVALID_BODY_OPTIONS` for a bad number. */
export function resolveBodyOptions(options: BodyOptions = NO_OPTIONS): ResolvedBodyOptions {
  const cached = resolvedCache.get(options);
  if (cached) return cached;
  const resolved = resolveUncached(options);
  resolvedCache.set(options, resolved);
  return resolved;
}

function resolveUncached(options: BodyOptions): ResolvedBodyOptions {
  const input = options.limits ?? {};
  const mp = input.multipart ?? {};
  const base = defaultBodyLimits.multipart;
  const fileSize = checked('limits.multipart.fileSize', mp.fileSize, base.fileSize);
  const files = checked('limits.multipart.files', mp.files, base.files);
  const fields = checked('limits.multipart.fields', mp.fields, base.fields);
  const fieldSize = checked('limits.multipart.fieldSize', mp.fieldSize, base.fieldSize);
  const limits = {
    json: checked('limits.json', input.json, defaultBodyLimits.json),
    form: checked('limits.form', input.form, defaultBodyLimits.form),
    text: checked('limits.text', input.text, defaultBodyLimits.text),
    raw: checked('limits.raw', input.raw, defaultBodyLimits.raw),
    multipart: {
      fileSize,
      files,
      fields,
      fieldSize,
      totalSize: checked(
        'limits.multipart.totalSize',
        mp.totalSize,
        files * fileSize + fields * fieldSize + MiB,
      ),
      tmpDir: mp.tmpDir ?? path.join(os.tmpdir(), 'keel-uploads'),
    },
  };
  const timeoutMs = checked('timeoutMs', options.timeoutMs, DEFAULT_BODY_TIMEOUT_MS);
  const read = (kind: BodyKind, limit: number): BodyRead =>
    Object.freeze({ limit, timeoutMs, kind });
  return {
    limits,
    timeoutMs,
    allowed: options.allowed ?? ALL_BODY_KINDS,
    formLimits: options.formLimits ?? {},
    reads: Object.freeze({
      json: read('json', limits.json),
      form: read('form', limits.form),
      text: read('text', limits.text),
      raw: read('raw', limits.raw),
      multipart: read('multipart', limits.multipart.totalSize),
    }),
  };
}
