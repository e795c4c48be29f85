export {
  E_VIEW_INVALID_HELPER,
  E_VIEW_INVALID_NAME,
  E_VIEW_INVALID_NAMESPACE,
  E_VIEW_NOT_FOUND,
  E_VIEW_RENDER_FAILED,
  E_VIEW_UNKNOWN_NAMESPACE,
} from './errors.js';
export { EtaViewEngine } from './eta-view-engine.js';
export { MemoryTemplateCache } from './memory-template-cache.js';
export type {
  CompiledTemplate,
  EtaViewEngineOptions,
  RenderOptions,
  TemplateCache,
  ViewEngine,
} from './view-engine.js';
export { type ParsedViewName, ViewResolver } from './view-resolver.js';
