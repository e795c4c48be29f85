export { type BuildOptions, type BuildResult, buildApp } from './app-builder.js';
export {
  ARTIFACT_FORMAT,
  ARTIFACT_NAMES,
  type ArtifactMap,
  type ArtifactName,
  type CompiledModule,
  type ConfigArtifact,
  type ContainerArtifact,
  type EventsArtifact,
  type ModulesArtifact,
  readArtifact,
} from './artifacts.js';
export { appSourcesFingerprint, type CompileResult, compileApp } from './compile-app.js';
export { type CompiledBootPlan, type CompiledMode, planCompiledBoot } from './compiled-boot.js';
export * from './errors.js';
export { fingerprintSources } from './source-fingerprint.js';
export { stableStringify, writeIfChanged } from './stable-json.js';
