import type { CompiledTemplate, TemplateCache } from './view-engine.js';

/**
 * The default {@link TemplateCache}: a map in process memory, unbounded (an application has
 * a fixed, small set of template files).
 *
 * @example
 * ```ts
 * const views = new EtaViewEngine({ root, cache: true, cacheStore: new MemoryTemplateCache() });
 * ```
 */
export class MemoryTemplateCache implements TemplateCache {
  readonly #templates = new Map<string, CompiledTemplate>();

  get(key: string): CompiledTemplate | undefined {
    return this.#templates.get(key);
  }

  set(key: string, template: CompiledTemplate): void {
    this.#templates.set(key, template);
  }

  clear(): void {
    this.#templates.clear();
  }

  /** How many compiled templates are held. */
  get size(): number {
    return this.#templates.size;
  }
}
