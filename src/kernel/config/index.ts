export { defineConfig, loadConfigDir } from './config-loader.js';
export {
  CONFIG_OVERRIDE_PREFIX,
  configOverridesFromEnv,
  parseOverrideValue,
} from './config-overrides.js';
export {
  type ConfigBindings,
  type ConfigBuildOptions,
  type ConfigLayer,
  type ConfigPath,
  ConfigRepository,
  type ConfigValue,
  ENV_LAYER,
  type KnownConfigPath,
  SCHEMA_SOURCE,
} from './config-repository.js';
export {
  type EnvCast,
  type EnvDefaultType,
  type EnvHelper,
  type EnvLookup,
  type EnvRef,
  env,
  isEnvRef,
  resolveEnvRefs,
} from './env-ref.js';
export {
  type ConfigIssue,
  E_CONFIG_FILE_INVALID,
  E_CONFIG_INVALID,
  E_CONFIG_LAYER_INVALID,
  E_CONFIG_NAMESPACE_NOT_FOUND,
  E_CONFIG_OVERRIDE_INVALID,
  E_CONFIG_SCHEMA_ASYNC,
  E_ENV_CAST,
  E_ENV_REF_INVALID,
  type EnvCastFailure,
} from './errors.js';
