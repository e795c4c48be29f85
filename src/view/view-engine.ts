import type { TemplateFunction } from 'eta';

/**
 * A compiled template, as the engine produced it. Caches store it and hand it back; they
 * never look inside, so it can only live in process memory (it is a function).
 */
export type CompiledTemplate = TemplateFunction;

/**
 * Where compiled templates are kept between renders, keyed by the engine (the key holds the
 * template's absolute path and its sync/async flavour). The default is an in-memory map;
 * the cache subsystem backs it with its `views` pool.
 *
 * It is synchronous on purpose: `include()` inside a template is a synchronous call, so
 * the lookup behind it cannot await.
 *
 * @example
 * ```ts
 * const compiled = new Map<string, CompiledTemplate>();
 * const cacheStore: TemplateCache = {
 *   get: (key) => compiled.get(key),
 *   set: (key, template) => void compiled.set(key, template),
 *   clear: () => compiled.clear(),
 * };
 * ```
 */
export interface TemplateCache {
  get(key: string): CompiledTemplate | undefined;
  set(key: string, template: CompiledTemplate): void;
  clear(): void;
}

/** Options of one {@link ViewEngine.render} call. */
export interface RenderOptions {
  /**
   * A layout view wrapped around the rendered view, which receives the view's output as
   * `it.body` along with the same data.
   */
  layout?: string;
}

/**
 * Renders named views (files under the views folder, or `namespace::name` for a module's
 * views) to strings, for web pages and emails.
 *
 * @example
 * ```ts
 * views.addNamespace('catalog', join(moduleDir, 'views'));
 * views.share('appName', 'Acme ERP');
 * const html = await views.render('catalog::products/index', { products }, { layout: 'layouts/app' });
 * ```
 */
export interface ViewEngine {
  /** Render a named view with `data` (merged over the shared data). */
  render(name: string, data?: object, options?: RenderOptions): Promise<string>;
  /** Render a template given as a string; it is compiled each call and never cached. */
  renderString(template: string, data?: object): Promise<string>;
  /** True when the view exists (an invalid name is simply absent). */
  has(name: string): boolean;
  /** Make `namespace::name` views resolve inside `dir` (a module's `views` folder). */
  addNamespace(namespace: string, dir: string): void;
  /** Data merged into every render, under the data passed to `render`. */
  share(key: string, value: unknown): void;
  /** Forget compiled templates and resolved paths (after templates changed on disk). */
  clearCache(): void;
}

/** Options of {@link EtaViewEngine}. */
export interface EtaViewEngineOptions {
  /** The application's views folder: names without a namespace resolve here. */
  root: string;
  /** Keep compiled templates and resolved paths. Defaults to true when NODE_ENV is production. */
  cache?: boolean;
  /** Where compiled templates are kept when caching; defaults to an in-memory map. */
  cacheStore?: TemplateCache;
  /** Values and functions available as variables in every template (`<%= money(it.total) %>`). */
  helpers?: Record<string, unknown>;
  /** Template file extension, appended to names that do not already end with it. Default `.eta`. */
  extension?: string;
}
