export {
  APP_ENV_ALIASES,
  APP_ENVS,
  type AppEnv,
  lookupAppEnv,
  normalizeAppEnv,
  parseBooleanString,
} from './app-env.js';
export { APP_KEY_BYTES, generateAppKey, parseAppKey } from './app-key.js';
export { Env, type LoadEnvOptions, loadEnv } from './env.js';
export {
  type LoadEnvFilesOptions,
  loadEnvFiles,
  MAX_ENV_FILE_BYTES,
  parseEnvContent,
  readEnvFile,
} from './env-file.js';
export {
  type BaseEnv,
  baseEnvSchema,
  baseEnvShape,
  defineEnvSchema,
  type EnvOutput,
  type EnvSchema,
  LOG_LEVELS,
  type LogLevel,
  validateEnv,
} from './env-schema.js';
export {
  E_APP_ENV_INVALID,
  E_APP_KEY_INVALID,
  E_ENV_FILE_INVALID,
  E_ENV_INVALID,
  E_ENV_SCHEMA_ASYNC,
  type EnvFileProblem,
  type EnvIssue,
} from './errors.js';
