export { buildCommand } from './build-command.js';
export { cacheClearCommand, clearCompiled } from './cache-clear-command.js';
export { compileCommand } from './compile-command.js';
