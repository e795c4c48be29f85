import { mkdir, mkdtemp, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from 'vitest';
import { defineError, isKeelError, type KeelError } from '../support/index.js';
import {
  type CompiledTemplate,
  E_VIEW_INVALID_HELPER,
  E_VIEW_INVALID_NAME,
  E_VIEW_NOT_FOUND,
  E_VIEW_RENDER_FAILED,
  E_VIEW_UNKNOWN_NAMESPACE,
  EtaViewEngine,
  MemoryTemplateCache,
  type TemplateCache,
  type ViewEngine,
} from './index.js';

let dir: string;
let root: string;
let catalog: string;

async function put(base: string, name: string, content: string): Promise<string> {
  const file = join(base, name);
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, content);
  return file;
}

async function failure(promise: Promise<unknown>): Promise<KeelError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isKeelError(error)) throw new Error(`expected a Keel error, got ${String(error)}`);
  return error;
}

/** A cache store that counts what the engine puts in it: one `set` per compile. */
class CountingCache implements TemplateCache {
  readonly inner = new MemoryTemplateCache();
  sets: string[] = [];
  hits = 0;
  get(key: string): CompiledTemplate | undefined {
    const found = this.inner.get(key);
    if (found) this.hits++;
    return found;
  }
  set(key: string, template: CompiledTemplate): void {
    this.sets.push(key);
    this.inner.set(key, template);
  }
  clear(): void {
    this.inner.clear();
  }
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'keel-views-'));
  root = join(dir, 'views');
  catalog = join(dir, 'modules', 'catalog', 'views');
  await put(root, 'hello.eta', 'Hello <%= it.name %> from <%= it.app %>');
  await put(root, 'escape.eta', '<p title="<%= it.value %>"><%= it.value %></p><%~ it.html %>');
  await put(root, 'layouts/app.eta', '<main><%~ it.body %></main><footer><%= it.app %></footer>');
  await put(root, 'with-layout.eta', "<% layout('layouts/app') %>page <%= it.title %>");
  await put(root, 'uses-module-partial.eta', "<%~ include('catalog::partials/row', { n: 7 }) %>");
  await put(root, 'async.eta', "<%= await it.load() %>|<%~ await includeAsync('partial') %>");
  await put(root, 'partial.eta', 'part:<%= it.x ?? "none" %>');
  await put(root, 'helper.eta', '<%= money(it.total) %>');
  await put(root, 'emails/welcome.html.eta', '<h1>Welcome <%= it.name %></h1>');
  await put(root, 'escape-include.eta', "<%~ include('../../secret') %>");
  await put(root, 'include-missing.eta', "<%~ include('nowhere') %>");
  await put(root, 'errors/unclosed.eta', 'one\ntwo <%= it.name\nthree');
  await put(root, 'errors/syntax.eta', 'one\ntwo\n<% if ( { %>\nfour');
  await put(root, 'errors/runtime.eta', 'one\ntwo\nthree <%= it.user.name %>');
  await put(root, 'errors/outer.eta', "line1\n<%~ include('errors/runtime') %>");
  await put(root, 'errors/throws-string.eta', "<% throw 'plain string' %>");
  await put(root, 'errors/helper-keel-error.eta', '<%= fail() %>');
  await put(dir, 'secret.eta', 'TOP SECRET');
  await put(
    catalog,
    'products/index.eta',
    "<% layout('layouts/app') %><%~ include('catalog::partials/row', { n: it.count }) %>",
  );
  await put(catalog, 'partials/row.eta', '<tr><%= it.n %></tr>');
  await put(catalog, 'products/overridden.eta', 'module version');
  await put(root, 'vendor/catalog/products/overridden.eta', 'app override');
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const E_TEST_HELPER = defineError('E_TEST_HELPER', () => 'helper refused', {
  status: 403,
  help: 'test only',
});

function engine(options: Partial<ConstructorParameters<typeof EtaViewEngine>[0]> = {}) {
  const views = new EtaViewEngine({
    root,
    helpers: {
      money: (n: number) => `€${n.toFixed(2)}`,
      fail: () => {
        throw new E_TEST_HELPER();
      },
    },
    ...options,
  });
  views.addNamespace('catalog', catalog);
  views.share('app', 'Keel');
  return views;
}

describe('EtaViewEngine', () => {
  it('implements ViewEngine with typed options', () => {
    expectTypeOf<EtaViewEngine>().toMatchTypeOf<ViewEngine>();
    expectTypeOf<ViewEngine['render']>().returns.toEqualTypeOf<Promise<string>>();
    expectTypeOf<ConstructorParameters<typeof EtaViewEngine>[0]>()
      .toHaveProperty('root')
      .toEqualTypeOf<string>();
  });

  it('renders a view with data merged over shared data', async () => {
    const views = engine();
    expect(await views.render('hello', { name: 'Ada' })).toBe('Hello Ada from Keel');
    expect(await views.render('hello', { name: 'Ada', app: 'Mine' })).toBe('Hello Ada from Mine');
    expect(await views.render('emails/welcome.html', { name: 'Bo' })).toBe('<h1>Welcome Bo</h1>');
    expect(await views.render('emails/welcome.html.eta', { name: 'Bo' })).toBe(
      '<h1>Welcome Bo</h1>',
    );
  });

  it('escapes interpolated user input in text and attributes; <%~ %> is the raw opt-out', async () => {
    const out = await engine().render('escape', {
      value: `<script>alert(1)</script>"'&`,
      html: '<b>trusted</b>',
    });
    expect(out).toBe(
      '<p title="&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;&amp;">' +
        '&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;&amp;</p><b>trusted</b>',
    );
    expect(out).not.toContain('<script>');
  });

  it('renders module views, with layouts and partials across namespaces', async () => {
    const views = engine();
    expect(await views.render('catalog::products/index', { count: 3 })).toBe(
      '<main><tr>3</tr></main><footer>Keel</footer>',
    );
    expect(await views.render('uses-module-partial')).toBe('<tr>7</tr>');
    expect(await views.render('with-layout', { title: 'T' })).toBe(
      '<main>page T</main><footer>Keel</footer>',
    );
  });

  it('lets the application override a module view under vendor/<namespace>/', async () => {
    expect(await engine().render('catalog::products/overridden')).toBe('app override');
  });

  it('wraps a view in a layout passed as an option', async () => {
    const out = await engine().render('hello', { name: 'Ada' }, { layout: 'layouts/app' });
    expect(out).toBe('<main>Hello Ada from Keel</main><footer>Keel</footer>');
  });

  it('awaits async data and async partials, and exposes helpers as variables', async () => {
    const views = engine();
    expect(await views.render('async', { load: async () => '<loaded>' })).toBe(
      '&lt;loaded&gt;|part:none',
    );
    expect(await views.render('helper', { total: 12.5 })).toBe('€12.50');
  });

  it('renders a template string with shared data and escaping', async () => {
    const views = engine();
    expect(await views.renderString('<%= it.app %>:<%= it.x %>', { x: '<i>' })).toBe(
      'Keel:&lt;i&gt;',
    );
    expect(await views.renderString("<%~ include('partial', { x: 2 }) %>")).toBe('part:2');
  });

  it('reports an unknown view with the folders searched and a suggestion', async () => {
    const views = engine();
    const error = await failure(views.render('helo'));
    expect(E_VIEW_NOT_FOUND.is(error)).toBe(true);
    expect(error.message).toContain(join(root, 'helo.eta'));
    expect(error.message).toContain('Did you mean "hello"?');

    const moduleError = await failure(views.render('catalog::products/indx'));
    expect(moduleError.message).toContain(join(root, 'vendor', 'catalog', 'products/indx.eta'));
    expect(moduleError.message).toContain(join(catalog, 'products/indx.eta'));
    expect(moduleError.details).toMatchObject({ suggestion: 'catalog::products/index' });
  });

  it('reports a missing partial as E_VIEW_NOT_FOUND, not as a render failure', async () => {
    const error = await failure(engine().render('include-missing'));
    expect(E_VIEW_NOT_FOUND.is(error)).toBe(true);
    expect(error.message).toContain('"nowhere"');
  });

  it('reports an unknown namespace with a suggestion', async () => {
    const error = await failure(engine().render('catalgo::products/index'));
    expect(E_VIEW_UNKNOWN_NAMESPACE.is(error)).toBe(true);
    expect(error.message).toContain('Did you mean "catalog"?');
  });

  it.each([
    '../../etc/passwd',
    '../secret',
    '/etc/passwd',
    'catalog::../../secret',
    'C:/Windows/win.ini',
    'a\\..\\..\\secret',
    'hello\0.eta',
    'products//index',
    './hello',
    '',
  ])('refuses the view name %j', async (name) => {
    const views = engine();
    const error = await failure(views.render(name));
    expect(E_VIEW_INVALID_NAME.is(error)).toBe(true);
    expect(views.has(name)).toBe(false);
  });

  it('refuses path traversal from an include inside a template', async () => {
    const error = await failure(engine().render('escape-include'));
    expect(E_VIEW_INVALID_NAME.is(error)).toBe(true);
    expect(error.message).not.toContain('TOP SECRET');
  });

  it('names the file and line of an unclosed tag', async () => {
    const error = await failure(engine().render('errors/unclosed'));
    expect(E_VIEW_RENDER_FAILED.is(error)).toBe(true);
    expect(error.message).toBe(
      `Failed to render ${join(root, 'errors/unclosed.eta')} at line 2: unclosed tag`,
    );
    expect(error.details).toMatchObject({ line: 2 });
  });

  it('names the file and line of invalid JavaScript in a tag', async () => {
    const error = await failure(engine().render('errors/syntax'));
    expect(E_VIEW_RENDER_FAILED.is(error)).toBe(true);
    expect(error.message).toContain(`${join(root, 'errors/syntax.eta')} at line 3`);
    expect(String(error.details?.excerpt)).toContain('> 3 | <% if ( { %>');
  });

  it('names the file and line of a runtime error, innermost template first', async () => {
    const views = engine();
    const direct = await failure(views.render('errors/runtime', { user: undefined }));
    expect(E_VIEW_RENDER_FAILED.is(direct)).toBe(true);
    expect(direct.message).toContain(`${join(root, 'errors/runtime.eta')} at line 3`);
    expect(direct.cause).toBeInstanceOf(TypeError);

    const nested = await failure(views.render('errors/outer'));
    expect(nested.message).toContain(`${join(root, 'errors/runtime.eta')} at line 3`);

    const thrown = await failure(views.render('errors/throws-string'));
    expect(thrown.message).toContain('plain string');
  });

  it('names an inline template in renderString errors', async () => {
    const views = engine();
    const runtime = await failure(views.renderString('a\n<%= it.x.y %>'));
    expect(runtime.message).toMatch(/^Failed to render inline template at line 2: /);
    const syntax = await failure(views.renderString('<%= it.x'));
    expect(syntax.message).toBe('Failed to render inline template at line 1: unclosed tag');
  });

  it("keeps a helper's own Keel error, with its status", async () => {
    const error = await failure(engine().render('errors/helper-keel-error'));
    expect(error.code).toBe('E_TEST_HELPER');
    expect(error.status).toBe(403);
  });

  it('refuses helpers that cannot be template variables', () => {
    for (const name of ['it', 'include', 'layout', 'class', 'not-valid', '1x']) {
      expect(() => new EtaViewEngine({ root, helpers: { [name]: 1 } })).toThrow(
        E_VIEW_INVALID_HELPER,
      );
    }
  });

  it('knows which views exist', () => {
    const views = engine();
    expect(views.has('hello')).toBe(true);
    expect(views.has('catalog::partials/row')).toBe(true);
    expect(views.has('missing')).toBe(false);
    expect(views.has('nope::x')).toBe(false);
  });
});

describe('EtaViewEngine compiled template cache', () => {
  it('compiles each template once and reuses it from the cache store', async () => {
    const store = new CountingCache();
    const views = engine({ cache: true, cacheStore: store });
    await views.render('catalog::products/index', { count: 1 });
    await views.render('catalog::products/index', { count: 2 });
    expect(await views.render('catalog::products/index', { count: 3 })).toContain('<tr>3</tr>');
    expect(store.sets.sort()).toEqual(
      [
        `async:${join(catalog, 'products/index.eta')}`,
        `async:${join(root, 'layouts/app.eta')}`,
        `sync:${join(catalog, 'partials/row.eta')}`,
      ].sort(),
    );
    expect(store.hits).toBe(6);
  });

  it('compiles again after clearCache', async () => {
    const store = new CountingCache();
    const views = engine({ cache: true, cacheStore: store });
    await views.render('hello', { name: 'a' });
    views.clearCache();
    await views.render('hello', { name: 'b' });
    expect(store.sets).toHaveLength(2);
  });

  it('defaults to an in-memory cache and picks up file changes when caching is off', async () => {
    const file = await put(root, 'changing.eta', 'v1');
    const cached = engine({ cache: true });
    const fresh = engine({ cache: false, cacheStore: new CountingCache() });
    expect(await cached.render('changing')).toBe('v1');
    expect(await fresh.render('changing')).toBe('v1');
    await writeFile(file, 'v2');
    expect(await cached.render('changing')).toBe('v1');
    expect(await fresh.render('changing')).toBe('v2');
    cached.clearCache();
    expect(await cached.render('changing')).toBe('v2');
  });

  it('does not use the store when caching is off', async () => {
    const store = new CountingCache();
    await engine({ cache: false, cacheStore: store }).render('hello');
    expect(store.sets).toEqual([]);
  });

  it('caches by default in production', async () => {
    const previous = process.env.NODE_ENV;
    process.env.NODE_ENV = 'production';
    try {
      const store = new CountingCache();
      const views = engine({ cacheStore: store });
      await views.render('hello');
      await views.render('hello');
      expect(store.sets).toHaveLength(1);
    } finally {
      process.env.NODE_ENV = previous;
    }
  });

  it('reports a template removed after it was resolved as not found', async () => {
    const file = await put(root, 'vanishing.eta', 'here');
    const store = new CountingCache();
    const views = engine({ cache: true, cacheStore: store });
    expect(await views.render('vanishing')).toBe('here');
    store.clear(); // compiled template gone, resolved path still cached
    await unlink(file);
    const error = await failure(views.render('vanishing'));
    expect(E_VIEW_NOT_FOUND.is(error)).toBe(true);
  });

  it('reports an unreadable template as a render failure naming the file', async () => {
    await mkdir(join(root, 'folder.eta'), { recursive: true });
    const views = engine({ cache: true });
    // A folder named like a template is not a template.
    expect(views.has('folder')).toBe(false);
    const error = await failure(views.render('folder'));
    expect(E_VIEW_NOT_FOUND.is(error)).toBe(true);
  });
});
