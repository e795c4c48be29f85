import { readFileSync } from 'node:fs';
import { Script } from 'node:vm';
import { Eta, type EtaConfig, EtaParseError, type TemplateFunction } from 'eta';
import { isKeelError } from '../support/index.js';
import { E_VIEW_INVALID_HELPER, E_VIEW_NOT_FOUND, E_VIEW_RENDER_FAILED } from './errors.js';
import { MemoryTemplateCache } from './memory-template-cache.js';
import type {
  EtaViewEngineOptions,
  RenderOptions,
  TemplateCache,
  ViewEngine,
} from './view-engine.js';
import { ViewResolver } from './view-resolver.js';

const INLINE = 'inline template';

// Names the compiled template function declares itself (see Eta's compileToString), and
// words that cannot be bound: a helper by one of these names would break every template.
const RESERVED_NAMES = new Set([
  ...['it', 'options', 'include', 'includeAsync', 'layout', 'output', 'capture'],
  ...['captureAsync', 'block', 'blockAsync', '__eta', 'arguments', 'eval', 'undefined'],
  ...['await', 'break', 'case', 'catch', 'class', 'const', 'continue', 'debugger', 'default'],
  ...['delete', 'do', 'else', 'enum', 'export', 'extends', 'false', 'finally', 'for'],
  ...['function', 'if', 'implements', 'import', 'in', 'instanceof', 'interface', 'let', 'new'],
  ...['null', 'package', 'private', 'protected', 'public', 'return', 'static', 'super'],
  ...['switch', 'this', 'throw', 'true', 'try', 'typeof', 'var', 'void', 'while', 'with'],
  'yield',
]);

/** Eta with the helpers that compiled templates destructure from `this` (see functionHeader). */
class KeelEta extends Eta {
  readonly helpers: Readonly<Record<string, unknown>>;

  constructor(config: Partial<EtaConfig>, helpers: Readonly<Record<string, unknown>>) {
    super(config);
    this.helpers = helpers;
  }
}

/**
 * The {@link ViewEngine} on Eta: `.eta` templates compiled to functions, output escaped by
 * default (`<%= %>` escapes, `<%~ %>` writes raw), layouts and partials across namespaces,
 * `await` allowed in views.
 *
 * Keel owns name resolution and the compiled-template cache; Eta only parses, compiles and
 * runs templates. Every `include()`, `includeAsync()` and `layout()` inside a template comes
 * back through the same resolver, so names are checked the same way everywhere.
 *
 * @example
 * ```ts
 * const views = new EtaViewEngine({ root: 'resources/views', helpers: { money } });
 * views.addNamespace('catalog', 'modules/catalog/views');
 * const html = await views.render('catalog::products/index', { products });
 * ```
 */
export class EtaViewEngine implements ViewEngine {
  readonly #eta: KeelEta;
  readonly #resolver: ViewResolver;
  readonly #cache: TemplateCache | undefined;
  readonly #shared = new Map<string, unknown>();

  constructor(options: EtaViewEngineOptions) {
    const cache = options.cache ?? process.env.NODE_ENV === 'production';
    this.#cache = cache ? (options.cacheStore ?? new MemoryTemplateCache()) : undefined;
    this.#resolver = new ViewResolver(options.root, {
      cache,
      ...(options.extension === undefined ? {} : { extension: options.extension }),
    });
    const helpers = { ...(options.helpers ?? {}) };
    const names = Object.keys(helpers);
    for (const name of names) checkHelperName(name);
    this.#eta = new KeelEta(
      {
        autoEscape: true,
        // Debug mode makes compiled code record the line of each tag it runs and route
        // errors through RuntimeErr, which is how a render error names its line. The cost
        // is one assignment per tag.
        debug: true,
        cache: false,
        functionHeader: names.length > 0 ? `const { ${names.join(', ')} } = this.helpers;` : '',
      },
      Object.freeze(helpers),
    );
    // Every include(), includeAsync() and layout() inside a template calls these.
    this.#eta.render = (template, data) => this.#run(template, data, false) as string;
    this.#eta.renderAsync = (template, data) =>
      Promise.resolve().then(() => this.#run(template, data, true));
    this.#eta.RuntimeErr = renderFailed;
  }

  async render(name: string, data: object = {}, options: RenderOptions = {}): Promise<string> {
    const merged = this.#withShared(data);
    const body = await this.#run(name, merged, true);
    if (options.layout === undefined) return body;
    return this.#run(options.layout, { ...merged, body }, true);
  }

  async renderString(template: string, data: object = {}): Promise<string> {
    const compiled = this.#compile(template, INLINE, true);
    return compiled.call(this.#eta, this.#withShared(data), { async: true });
  }

  has(name: string): boolean {
    return this.#resolver.has(name);
  }

  addNamespace(namespace: string, dir: string): void {
    this.#resolver.addNamespace(namespace, dir);
  }

  share(key: string, value: unknown): void {
    this.#shared.set(key, value);
  }

  clearCache(): void {
    this.#cache?.clear();
    this.#resolver.clearCache();
  }

  #withShared(data: object): Record<string, unknown> {
    return { ...Object.fromEntries(this.#shared), ...data };
  }

  // Names always resolve from the views folders, never relative to the including file, so a
  // partial means the same thing wherever it is included from.
  #run(
    template: string | TemplateFunction,
    data: object,
    async: boolean,
  ): string | Promise<string> {
    if (typeof template !== 'string') return template.call(this.#eta, data, { async });
    const file = this.#resolver.resolve(template);
    return this.#load(template, file, async).call(this.#eta, data, { async, filepath: file });
  }

  #load(name: string, file: string, async: boolean): TemplateFunction {
    // A file compiles to a different function for include() (sync) and includeAsync()/render.
    const key = `${async ? 'async' : 'sync'}:${file}`;
    const cached = this.#cache?.get(key);
    if (cached !== undefined) return cached;
    const compiled = this.#compile(readTemplate(name, file), file, async);
    this.#cache?.set(key, compiled);
    return compiled;
  }

  #compile(source: string, file: string, async: boolean): TemplateFunction {
    try {
      return this.#eta.compile(source, { async });
    } catch (error) {
      throw compileFailed(this.#eta, source, file, async, error);
    }
  }
}

function checkHelperName(name: string): void {
  if (!/^[A-Za-z_$][\w$]*$/.test(name)) {
    throw new E_VIEW_INVALID_HELPER(name, 'not a JavaScript identifier');
  }
  if (RESERVED_NAMES.has(name)) {
    throw new E_VIEW_INVALID_HELPER(name, 'reserved by JavaScript or by the template runtime');
  }
}

function readTemplate(name: string, file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    // The file was there when resolved: it was removed in between, or is unreadable.
    if ((error as NodeJS.ErrnoException).code === 'ENOENT')
      throw new E_VIEW_NOT_FOUND(name, [file]);
    throw new E_VIEW_RENDER_FAILED(file, undefined, messageOf(error)).withCause(error);
  }
}

/** Replaces Eta's RuntimeErr, which compiled templates call from their catch block. */
function renderFailed(
  error: unknown,
  source: string,
  line: number,
  file: string | undefined,
): never {
  // An error from a nested include already names its own file and line: keep the innermost.
  // Any other Keel error (a helper's E_* error) keeps its code and status.
  if (isKeelError(error)) throw error;
  const label = file || INLINE;
  throw new E_VIEW_RENDER_FAILED(label, line, messageOf(error), excerpt(source, line)).withCause(
    error,
  );
}

function compileFailed(
  eta: Eta,
  source: string,
  file: string,
  async: boolean,
  error: unknown,
): Error {
  if (!(error instanceof EtaParseError)) {
    return new E_VIEW_RENDER_FAILED(file, undefined, messageOf(error)).withCause(error);
  }
  // Eta's own parser reports "unclosed tag at line 3 col 5:".
  const parse = /^(.*?) at line (\d+) col \d+/.exec(error.message);
  if (parse) {
    const line = Number(parse[2]);
    return new E_VIEW_RENDER_FAILED(file, line, parse[1]!, excerpt(source, line)).withCause(error);
  }
  // Invalid JavaScript inside a tag: new Function() does not say where; vm.Script does, as a
  // line of the generated code, which debug mode prefixes per tag with `__eta.line=<n>`.
  const located = locateSyntaxError(eta, source, async);
  return new E_VIEW_RENDER_FAILED(
    file,
    located?.line,
    located?.reason ?? 'invalid JavaScript in a template tag',
    located?.line === undefined ? undefined : excerpt(source, located.line),
  ).withCause(error);
}

function locateSyntaxError(
  eta: Eta,
  source: string,
  async: boolean,
): { line: number | undefined; reason: string } | undefined {
  const code = eta.compileToString(source, { async });
  try {
    new Script(`(${async ? 'async ' : ''}function (it, options) {\n${code}\n})`, {
      filename: 'template',
    });
    return undefined;
  } catch (error) {
    const generated = Number(/^template:(\d+)/.exec(String((error as Error).stack))?.[1]);
    // Line 1 of the script is the wrapper, so generated line n is code line n - 1.
    const lines = code.split('\n').slice(0, Math.max(0, generated - 1));
    let line: number | undefined;
    for (let i = lines.length - 1; i >= 0 && line === undefined; i--) {
      const marker = /^__eta\.line=(\d+)$/.exec(lines[i]!);
      if (marker) line = Number(marker[1]);
    }
    return { line, reason: messageOf(error) };
  }
}

/** Three lines either side of `line`, numbered, the failing one marked. */
function excerpt(source: string, line: number): string {
  const lines = source.split('\n');
  const start = Math.max(line - 3, 0);
  const end = Math.min(lines.length, line + 2);
  return lines
    .slice(start, end)
    .map((text, i) => `${start + i + 1 === line ? '>' : ' '} ${start + i + 1} | ${text}`)
    .join('\n');
}

function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message || error.name;
  return String(error);
}
