import { defineError } from '../../support/index.js';

/**
 * The request-parsing catalogue: query strings, cookies and bodies. Client mistakes carry
 * 4xx statuses so the server can answer them as problem+json without logging a stack.
 * Messages name the limit, type or key involved and never echo body content.
 */

export const E_QUERY_TOO_DEEP = defineError(
  'E_QUERY_TOO_DEEP',
  (key: string, maxDepth: number) =>
    `Parameter "${key}" is nested more than ${maxDepth} levels deep`,
  {
    status: 400,
    help: 'Flatten the parameter, or raise `maxDepth` where the parser is configured.',
    details: (key, maxDepth) => ({ key, maxDepth }),
  },
);

export const E_QUERY_TOO_MANY_PARAMS = defineError(
  'E_QUERY_TOO_MANY_PARAMS',
  (maxKeys: number) => `More than ${maxKeys} parameters`,
  {
    status: 400,
    help: 'Send fewer parameters (put long lists in one comma-separated value or a JSON body), or raise `maxKeys`.',
    details: (maxKeys) => ({ maxKeys }),
  },
);

export const E_QUERY_ARRAY_TOO_LONG = defineError(
  'E_QUERY_ARRAY_TOO_LONG',
  (key: string, maxArrayLength: number) =>
    `Parameter "${key}" has more than ${maxArrayLength} values`,
  {
    status: 400,
    help: 'Send fewer values or use a JSON body; array indexes must stay below `maxArrayLength`.',
    details: (key, maxArrayLength) => ({ key, maxArrayLength }),
  },
);

export const E_QUERY_TOO_LONG = defineError(
  'E_QUERY_TOO_LONG',
  (length: number, maxLength: number) =>
    `Query string is ${length} characters long, more than the ${maxLength} allowed`,
  {
    status: 414,
    help: 'Move the data into a request body, or raise `maxLength`.',
    details: (length, maxLength) => ({ length, maxLength }),
  },
);

export const E_MALFORMED_QUERY = defineError(
  'E_MALFORMED_QUERY',
  (reason: string) => `Malformed parameters: ${reason}`,
  {
    status: 400,
    help: 'Percent-encode reserved characters (encodeURIComponent / URLSearchParams) and use one shape per key.',
    details: (reason) => ({ reason }),
  },
);

export const E_UNSUPPORTED_MEDIA_TYPE = defineError(
  'E_UNSUPPORTED_MEDIA_TYPE',
  (type: string, accepted: readonly string[]) =>
    `Unsupported Content-Type ${type === '' ? '(none)' : `"${type}"`}; accepted: ${accepted.join(', ')}`,
  {
    status: 415,
    help: 'Send the body with one of the accepted Content-Type headers.',
    details: (type, accepted) => ({ type, accepted: [...accepted] }),
  },
);

export const E_UNSUPPORTED_CHARSET = defineError(
  'E_UNSUPPORTED_CHARSET',
  (charset: string, type: string) => `Unsupported charset "${charset}" for ${type}`,
  {
    status: 415,
    help: 'Encode the body as UTF-8 (text/* also accepts ISO-8859-1 and US-ASCII).',
    details: (charset, type) => ({ charset, type }),
  },
);

export const E_UNSUPPORTED_CONTENT_ENCODING = defineError(
  'E_UNSUPPORTED_CONTENT_ENCODING',
  (encoding: string) => `Unsupported Content-Encoding "${encoding}"`,
  {
    status: 415,
    help: 'Send the body uncompressed or with one of gzip, deflate or br.',
    details: (encoding) => ({ encoding, accepted: ['identity', 'gzip', 'deflate', 'br'] }),
  },
);

export const E_MALFORMED_CONTENT_ENCODING = defineError(
  'E_MALFORMED_CONTENT_ENCODING',
  (encoding: string) => `Body could not be decoded as ${encoding}`,
  {
    status: 400,
    help: 'The compressed body is corrupt or does not match its Content-Encoding header.',
    details: (encoding) => ({ encoding }),
  },
);

export const E_BODY_TOO_LARGE = defineError(
  'E_BODY_TOO_LARGE',
  (kind: string, limit: number) => `Request body (${kind}) is larger than ${limit} bytes`,
  {
    status: 413,
    help: 'Send a smaller body, or raise the body limit for this route.',
    details: (kind, limit) => ({ kind, limit }),
  },
);

export const E_BODY_TIMEOUT = defineError(
  'E_BODY_TIMEOUT',
  (timeoutMs: number, received: number) =>
    `Request body was not received within ${timeoutMs} ms (${received} bytes arrived)`,
  {
    status: 408,
    help: 'Check that Content-Length matches the body sent, or raise `timeoutMs` for slow uploads.',
    details: (timeoutMs, received) => ({ timeoutMs, received }),
  },
);

export const E_BODY_ABORTED = defineError(
  'E_BODY_ABORTED',
  () => 'Client closed the connection before the request body was complete',
  {
    status: 400,
    help: 'Nothing to answer: the client is gone. Frequent occurrences point at client timeouts.',
  },
);

export const E_BODY_CONSUMED = defineError(
  'E_BODY_CONSUMED',
  () => 'Request body was already read by something else',
  {
    status: 500,
    help: 'Read the body once through the request context (BodyReader), not from the raw request stream.',
  },
);

export const E_MALFORMED_JSON = defineError(
  'E_MALFORMED_JSON',
  (position: number, line: number, column: number, reason: string) =>
    `Malformed JSON body at line ${line}, column ${column} (position ${position}): ${reason}`,
  {
    status: 400,
    help: 'Send valid JSON (RFC 8259): double-quoted keys and strings, no trailing commas.',
    details: (position, line, column, reason) => ({ position, line, column, reason }),
  },
);

export const E_PROTOTYPE_POISONING = defineError(
  'E_PROTOTYPE_POISONING',
  () => 'JSON body contains a "__proto__" or "constructor.prototype" key',
  {
    status: 400,
    help: 'Remove "__proto__" and "constructor.prototype" keys; they are refused to prevent prototype poisoning.',
  },
);

export const E_MALFORMED_MULTIPART = defineError(
  'E_MALFORMED_MULTIPART',
  (reason: string) => `Malformed multipart body: ${reason}`,
  {
    status: 400,
    help: 'Let the client library build multipart bodies (FormData); check the boundary in Content-Type.',
    details: (reason) => ({ reason }),
  },
);

export const E_FILE_TOO_LARGE = defineError(
  'E_FILE_TOO_LARGE',
  (field: string, limit: number) =>
    `Uploaded file in field "${field}" is larger than ${limit} bytes`,
  {
    status: 413,
    help: 'Upload a smaller file, or raise `limits.multipart.fileSize` for this route.',
    details: (field, limit) => ({ field, limit }),
  },
);

export const E_TOO_MANY_FILES = defineError(
  'E_TOO_MANY_FILES',
  (limit: number) => `More than ${limit} files uploaded`,
  {
    status: 413,
    help: 'Upload fewer files per request, or raise `limits.multipart.files`.',
    details: (limit) => ({ limit }),
  },
);

export const E_TOO_MANY_FIELDS = defineError(
  'E_TOO_MANY_FIELDS',
  (limit: number) => `More than ${limit} form fields`,
  {
    status: 413,
    help: 'Send fewer fields, or raise `limits.multipart.fields`.',
    details: (limit) => ({ limit }),
  },
);

export const E_FIELD_TOO_LARGE = defineError(
  'E_FIELD_TOO_LARGE',
  (field: string, limit: number) => `Form field "${field}" is larger than ${limit} bytes`,
  {
    status: 413,
    help: 'Send large values as a file part, or raise `limits.multipart.fieldSize`.',
    details: (field, limit) => ({ field, limit }),
  },
);

export const E_UPLOAD_FAILED = defineError(
  'E_UPLOAD_FAILED',
  (path: string, reason: string) => `Could not store uploaded file at ${path}: ${reason}`,
  {
    status: 500,
    help: 'Check that the upload directory (`limits.multipart.tmpDir`) exists, is writable and has free space.',
    details: (path) => ({ path }),
  },
);

export const E_UPLOAD_REMOVED = defineError(
  'E_UPLOAD_REMOVED',
  (filename: string) => `Uploaded file "${filename}" was already cleaned up`,
  {
    status: 500,
    help: 'Move uploaded files before the request ends; temporary files are removed when it finishes.',
  },
);

export const E_INVALID_BODY_OPTIONS = defineError(
  'E_INVALID_BODY_OPTIONS',
  (name: string, value: unknown) =>
    `Body option "${name}" must be a non-negative number, got ${String(value)}`,
  {
    status: 500,
    help: 'Give limits in bytes and timeouts in milliseconds as finite numbers ≥ 0.',
  },
);
