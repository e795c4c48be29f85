/**
 * Keel's request-parsing layer: query strings, cookies and bodies (JSON, urlencoded forms,
 * text, raw bytes, multipart uploads), each bounded and each failure a catalogued error.
 * The router, server and context build on this; it knows nothing of them.
 */
export {
  type BodyLimits,
  type BodyLimitsInput,
  type BodyOptions,
  DEFAULT_BODY_TIMEOUT_MS,
  defaultBodyLimits,
  type MultipartLimits,
} from './body-options.js';
export { type ParsedBody, parseBody } from './body-parser.js';
export { BodyReader } from './body-reader.js';
export { hasBody, mustCloseConnection, type ReadBodyOptions, readBody } from './body-stream.js';
export { type BodyKind, type ContentType, parseContentType } from './content-type.js';
export { type CookieMap, parseCookies } from './cookie-parser.js';
export * from './errors.js';
export {
  defaultQueryLimits,
  parseQuery,
  type QueryLimits,
  type QueryObject,
  type QueryValue,
} from './query-parser.js';
export { cleanupUploads, type UploadedFile } from './uploaded-file.js';
