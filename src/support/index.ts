export { parseDuration, E_INVALID_DURATION } from './duration.js';
export { defineError, isKeelError, KeelError, type KeelErrorClass } from './keel-error.js';
export { deepFreeze, deepMerge, getPath, isPlainObject, setPath } from './object.js';
export { editDistance, suggest } from './suggest.js';
export type { Awaitable, Constructor, DotPath, PathValue } from './types.js';
