import { describe, expect, expectTypeOf, it, vi } from 'vitest';
import type { Handler, MiddlewareFn, RouteRecord } from '../types.js';
import {
  E_DUPLICATE_ROUTE,
  E_DUPLICATE_ROUTE_NAME,
  E_INVALID_ROUTE,
  E_ROUTE_NAME_NOT_FOUND,
  E_ROUTE_PARAM_INVALID,
  E_ROUTE_PARAM_MISSING,
} from './errors.js';
import { type RouteMatch, RouteTable, type RouteTableOptions } from './route-table.js';
import { Router } from './router.js';

const ok: Handler = () => 'ok';

function table(
  declare: (router: Router) => void,
  options: RouteTableOptions<string> = {},
): RouteTable<string> {
  const router = new Router({ module: 'test' });
  declare(router);
  return new RouteTable(router.routes(), {
    compile: (record) => `${record.methods.join('|')} ${record.path}`,
    ...options,
  });
}

/** The payload and params of a found route, or the miss kind. */
function hit(
  match: RouteMatch<string>,
): { payload: string; params: Record<string, string> } | string {
  if (match.kind !== 'found') return match.kind;
  return { payload: match.payload, params: { ...match.params } };
}

function thrown(fn: () => unknown): Error & { code: string; details?: Record<string, unknown> } {
  try {
    fn();
  } catch (error) {
    return error as Error & { code: string };
  }
  throw new Error('expected an error');
}

describe('RouteTable.lookup', () => {
  const routes = table((r) => {
    r.get('/', ok);
    r.get('/products', ok);
    r.get('/products/:id', ok);
    r.get('/products/:id/reviews/:rid', ok);
    r.get('/numbers/:n(^\\d+$)', ok);
    r.get('/numbers/:word', ok);
    r.get('/at/:lat-:lng', ok);
    r.get('/files/*', ok);
    r.get('/posts/:slug?', ok);
    r.match(['PUT', 'PATCH'], '/products/:id', ok);
    r.post('/products', ok);
  });

  it('finds static, parametric, constrained, multi-parameter and wildcard routes', () => {
    expect(hit(routes.lookup('GET', '/'))).toEqual({ payload: 'GET /', params: {} });
    expect(hit(routes.lookup('GET', '/products'))).toEqual({
      payload: 'GET /products',
      params: {},
    });
    expect(hit(routes.lookup('GET', '/products/42'))).toEqual({
      payload: 'GET /products/:id',
      params: { id: '42' },
    });
    expect(hit(routes.lookup('GET', '/products/4/reviews/9'))).toMatchObject({
      params: { id: '4', rid: '9' },
    });
    expect(hit(routes.lookup('GET', '/numbers/12'))).toEqual({
      payload: 'GET /numbers/:n(^\\d+$)',
      params: { n: '12' },
    });
    expect(hit(routes.lookup('GET', '/numbers/twelve'))).toEqual({
      payload: 'GET /numbers/:word',
      params: { word: 'twelve' },
    });
    expect(hit(routes.lookup('GET', '/at/48.8-2.3'))).toMatchObject({
      params: { lat: '48.8', lng: '2.3' },
    });
    expect(hit(routes.lookup('GET', '/files/a/b/c.css'))).toMatchObject({
      params: { '*': 'a/b/c.css' },
    });
    expect(hit(routes.lookup('GET', '/files/'))).toMatchObject({ params: { '*': '' } });
    expect(hit(routes.lookup('PATCH', '/products/1'))).toMatchObject({
      payload: 'PUT|PATCH /products/:id',
    });
    expect(hit(routes.lookup('PUT', '/products/1'))).toMatchObject({
      payload: 'PUT|PATCH /products/:id',
    });
  });

  it('matches an optional parameter with and without it', () => {
    expect(hit(routes.lookup('GET', '/posts/hello'))).toMatchObject({ params: { slug: 'hello' } });
    expect(hit(routes.lookup('GET', '/posts'))).toEqual({
      payload: 'GET /posts/:slug?',
      params: {},
    });
  });

  it('returns the record and the same payload object for every method and path of a route', () => {
    const match = routes.lookup('GET', '/products/7');
    expect(match.kind).toBe('found');
    if (match.kind === 'found') expect(match.route.path).toBe('/products/:id');
  });

  it('falls back from HEAD to GET', () => {
    expect(hit(routes.lookup('HEAD', '/products/7'))).toEqual({
      payload: 'GET /products/:id',
      params: { id: '7' },
    });
  });

  it('prefers an explicit HEAD route, declared before or after the GET', () => {
    const t = table((r) => {
      r.head('/a', ok);
      r.get('/a', ok);
      r.get('/b', ok);
      r.head('/b', ok);
    });
    expect(hit(t.lookup('HEAD', '/a'))).toMatchObject({ payload: 'HEAD /a' });
    expect(hit(t.lookup('HEAD', '/b'))).toMatchObject({ payload: 'HEAD /b' });
    expect(hit(t.lookup('GET', '/b'))).toMatchObject({ payload: 'GET /b' });
  });

  it('answers 405 with an Allow list (HEAD with GET, OPTIONS always)', () => {
    expect(routes.lookup('DELETE', '/products')).toEqual({
      kind: 'method-not-allowed',
      allow: ['GET', 'HEAD', 'POST', 'OPTIONS'],
    });
    expect(routes.lookup('POST', '/products/1')).toEqual({
      kind: 'method-not-allowed',
      allow: ['GET', 'HEAD', 'PUT', 'PATCH', 'OPTIONS'],
    });
    expect(routes.lookup('PROPFIND', '/products')).toMatchObject({ kind: 'method-not-allowed' });
    expect(routes.lookup('OPTIONS', '/products')).toEqual({
      kind: 'method-not-allowed',
      allow: ['GET', 'HEAD', 'POST', 'OPTIONS'],
    });
    expect(routes.lookup('DELETE', '/products/')).toEqual({
      kind: 'method-not-allowed',
      allow: ['GET', 'HEAD', 'POST', 'OPTIONS'],
    });
  });

  it('finds an explicit OPTIONS route and lists it once', () => {
    const t = table((r) => {
      r.options('/x', ok);
      r.post('/x', ok);
    });
    expect(hit(t.lookup('OPTIONS', '/x'))).toMatchObject({ payload: 'OPTIONS /x' });
    expect(t.lookup('GET', '/x')).toEqual({
      kind: 'method-not-allowed',
      allow: ['POST', 'OPTIONS'],
    });
  });

  it('answers not-found with one shared result', () => {
    const first = routes.lookup('GET', '/nothing');
    expect(first).toEqual({ kind: 'not-found' });
    expect(routes.lookup('GET', '/other')).toBe(first);
    expect(new RouteTable([]).lookup('GET', '/')).toEqual({ kind: 'not-found' });
  });

  it('tolerates a query string and an absolute-form target', () => {
    expect(hit(routes.lookup('GET', '/products/3?x=1'))).toMatchObject({ params: { id: '3' } });
    expect(hit(routes.lookup('GET', 'http://shop.test/products/3'))).toMatchObject({
      params: { id: '3' },
    });
    expect(routes.lookup('GET', '')).toEqual({ kind: 'not-found' });
    expect(routes.lookup('GET', 'products')).toEqual({ kind: 'not-found' });
  });

  it('types the payload', () => {
    const match = routes.lookup('GET', '/');
    if (match.kind === 'found') {
      expectTypeOf(match.payload).toEqualTypeOf<string>();
      expectTypeOf(match.params).toEqualTypeOf<Record<string, string>>();
    }
    expectTypeOf(new RouteTable([])).toEqualTypeOf<RouteTable<undefined>>();
  });
});

describe('trailing slashes and case', () => {
  it('ignores one trailing slash by default, both in requests and declarations', () => {
    const t = table((r) => {
      r.get('/a', ok);
      r.get('/b/', ok);
      r.get('/users', ok);
      r.get('/users/:id', ok);
    });
    expect(hit(t.lookup('GET', '/a/'))).toMatchObject({ payload: 'GET /a' });
    expect(hit(t.lookup('GET', '/b'))).toMatchObject({ payload: 'GET /b/' });
    expect(hit(t.lookup('GET', '/b/'))).toMatchObject({ payload: 'GET /b/' });
    // `/users/` is the index, not `show` with an empty id.
    expect(hit(t.lookup('GET', '/users/'))).toMatchObject({ payload: 'GET /users' });
    expect(t.lookup('GET', '/a//')).toEqual({ kind: 'not-found' });
  });

  it('matches trailing slashes exactly when told to', () => {
    const t = table(
      (r) => {
        r.get('/a', ok);
        r.get('/b/', ok);
      },
      { ignoreTrailingSlash: false },
    );
    expect(t.lookup('GET', '/a/')).toEqual({ kind: 'not-found' });
    expect(t.lookup('GET', '/b')).toEqual({ kind: 'not-found' });
    expect(hit(t.lookup('GET', '/b/'))).toMatchObject({ payload: 'GET /b/' });
  });

  it('is case-sensitive by default and can be told otherwise', () => {
    const declare = (r: Router) => r.get('/Products/:id', ok);
    expect(table(declare).lookup('GET', '/products/1')).toEqual({ kind: 'not-found' });
    expect(
      hit(table(declare, { caseSensitive: false }).lookup('GET', '/PRODUCTS/AbC')),
    ).toMatchObject({
      params: { id: 'AbC' },
    });
  });
});

describe('hostile paths', () => {
  const t = table((r) => {
    r.get('/users/:id', ok);
    r.get('/users/:id/posts', ok);
    r.get('/files/*', ok);
    r.get('/admin/secret', ok);
    r.get('/public/:name', ok);
    r.post('/users/:id', ok);
  });

  it('decodes parameters; an encoded slash stays inside its parameter', () => {
    expect(hit(t.lookup('GET', '/users/a%2Fb'))).toMatchObject({ params: { id: 'a/b' } });
    expect(hit(t.lookup('GET', '/users/a%2fb/posts'))).toMatchObject({
      payload: 'GET /users/:id/posts',
      params: { id: 'a/b' },
    });
    expect(hit(t.lookup('GET', '/users/caf%C3%A9'))).toMatchObject({ params: { id: 'café' } });
    expect(hit(t.lookup('GET', '/users/a%20b%25c%3Fd'))).toMatchObject({
      params: { id: 'a b%c?d' },
    });
    expect(hit(t.lookup('GET', '/files/a%2Fb/c'))).toMatchObject({ params: { '*': 'a/b/c' } });
  });

  it('does not let an encoded slash reach a static route', () => {
    expect(t.lookup('GET', '/admin%2Fsecret')).toEqual({ kind: 'not-found' });
    expect(t.lookup('GET', '/admin%2fsecret')).toEqual({ kind: 'not-found' });
  });

  it('matches NUL bytes in parameters nowhere', () => {
    expect(t.lookup('GET', '/users/%00')).toEqual({ kind: 'not-found' });
    expect(t.lookup('GET', '/users/a%00b/posts')).toEqual({ kind: 'not-found' });
    expect(t.lookup('GET', '/files/x/%00.png')).toEqual({ kind: 'not-found' });
    expect(t.lookup('POST', '/users/%00')).toEqual({ kind: 'not-found' });
  });

  it('answers malformed percent-encoding with not-found', () => {
    expect(t.lookup('GET', '/users/%zz')).toEqual({ kind: 'not-found' });
    expect(t.lookup('GET', '/users/%E0%A4%A')).toEqual({ kind: 'not-found' });
    expect(t.lookup('GET', '/users/%')).toEqual({ kind: 'not-found' });
  });

  it('takes dot segments literally: no route is reached through ..', () => {
    expect(t.lookup('GET', '/public/../admin/secret')).toEqual({ kind: 'not-found' });
    expect(t.lookup('GET', '/public/%2e%2e/admin/secret')).toEqual({ kind: 'not-found' });
    expect(hit(t.lookup('GET', '/public/%2e%2e'))).toMatchObject({ params: { name: '..' } });
    expect(hit(t.lookup('GET', '/files/../../etc/passwd'))).toMatchObject({
      params: { '*': '../../etc/passwd' },
    });
  });

  it('gives an empty parameter for a doubled slash inside the path', () => {
    expect(hit(t.lookup('GET', '/users//posts'))).toMatchObject({ params: { id: '' } });
  });

  it('refuses parameters longer than maxParamLength and survives very long paths', () => {
    expect(hit(t.lookup('GET', `/users/${'a'.repeat(500)}`))).toMatchObject({
      params: { id: 'a'.repeat(500) },
    });
    expect(t.lookup('GET', `/users/${'a'.repeat(501)}`)).toEqual({ kind: 'not-found' });
    expect(t.lookup('GET', `/${'x/'.repeat(50_000)}`)).toEqual({ kind: 'not-found' });
    expect(t.lookup('GET', `/users/${'%41'.repeat(20_000)}`)).toEqual({ kind: 'not-found' });
    const short = table((r) => r.get('/u/:id', ok), { maxParamLength: 3 });
    expect(short.lookup('GET', '/u/abcd')).toEqual({ kind: 'not-found' });
    expect(hit(short.lookup('GET', '/u/abc'))).toMatchObject({ params: { id: 'abc' } });
  });

  it('keeps constrained parameters safe from oversized input', () => {
    const numeric = table((r) => r.get('/n/:id(^\\d+$)', ok));
    expect(numeric.lookup('GET', `/n/${'1'.repeat(10_000)}`)).toEqual({ kind: 'not-found' });
  });
});

describe('payloads', () => {
  it('compiles each record once and shares the payload with HEAD', () => {
    const router = new Router();
    router.get('/a', ok);
    router.match(['PUT', 'PATCH'], '/b/:id?', ok);
    const compile = vi.fn((record: RouteRecord) => ({ path: record.path }));
    const t = new RouteTable(router.routes(), { compile });
    expect(compile).toHaveBeenCalledTimes(2);
    const get = t.lookup('GET', '/a');
    const head = t.lookup('HEAD', '/a');
    expect(get.kind === 'found' && head.kind === 'found' && get.payload === head.payload).toBe(
      true,
    );
  });

  it('attach() replaces every payload and retypes the table', () => {
    const router = new Router();
    router.get('/a', ok);
    const plain = new RouteTable(router.routes());
    const before = plain.lookup('GET', '/a');
    expect(before.kind === 'found' && before.payload).toBeUndefined();
    const typed = plain.attach((record) => record.path.length);
    expectTypeOf(typed).toEqualTypeOf<RouteTable<number>>();
    const after = typed.lookup('GET', '/a');
    expect(after.kind === 'found' && after.payload).toBe(2);
    expect(typed.size).toBe(1);
    expect(typed.records).toHaveLength(1);
  });
});

describe('constraints', () => {
  it('routes by host when the headers are passed', () => {
    const t = table((r) => {
      r.get('/', ok).constraints({ host: 'admin.example.com' }).meta({ which: 'admin' });
      r.get('/', ok);
    });
    const admin = t.lookup('GET', '/', { host: 'admin.example.com' });
    expect(admin.kind === 'found' && admin.route.meta).toEqual({ which: 'admin' });
    const other = t.lookup('GET', '/', { host: 'www.example.com' });
    expect(other.kind === 'found' && other.route.meta).toEqual({});
    const none = t.lookup('GET', '/');
    expect(none.kind === 'found' && none.route.meta).toEqual({});
  });

  it('rejects unknown constraint strategies as invalid routes', () => {
    const error = thrown(() => table((r) => r.get('/', ok).constraints({ planet: 'mars' })));
    expect(error.code).toBe('E_INVALID_ROUTE');
    expect(error.message).toContain('No strategy registered for constraint key planet');
    expect(error.cause).toBeInstanceOf(Error);
  });
});

describe('duplicates', () => {
  it('names both declarations of the same method and path', () => {
    const catalog = new Router({ module: 'catalog' });
    catalog.get('/products', ok);
    const sales = new Router({ module: 'sales' });
    sales.get('/products/', ok);
    const error = thrown(() => new RouteTable([...catalog.routes(), ...sales.routes()]));
    expect(E_DUPLICATE_ROUTE.is(error)).toBe(true);
    expect(error.message).toMatch(
      /^Route GET \/products is declared twice: in module "catalog" at src\/http\/router\/route-table\.test\.ts:\d+, and again in module "sales" at src\/http\/router\/route-table\.test\.ts:\d+$/,
    );
    const [first, second] = [catalog.routes()[0]!.source, sales.routes()[0]!.source];
    expect(first).not.toBe(second);
    expect(error.details).toMatchObject({ method: 'GET', path: '/products' });
  });

  it('treats differently named parameters as the same path', () => {
    const error = thrown(() =>
      table((r) => {
        r.put('/users/:id', ok);
        r.put('/users/:userId', ok);
      }),
    );
    expect(error.code).toBe('E_DUPLICATE_ROUTE');
    expect(error.message).toContain('PUT /users/:userId');
  });

  it('compares paths the way the table matches them', () => {
    expect(
      thrown(() => table((r) => [r.get('/A', ok), r.get('/a', ok)], { caseSensitive: false })).code,
    ).toBe('E_DUPLICATE_ROUTE');
    expect(() => table((r) => [r.get('/A', ok), r.get('/a', ok)])).not.toThrow();
    expect(() =>
      table((r) => [r.get('/a', ok), r.get('/a/', ok)], { ignoreTrailingSlash: false }),
    ).not.toThrow();
    expect(thrown(() => table((r) => [r.get('/p/:x?', ok), r.get('/p', ok)])).code).toBe(
      'E_DUPLICATE_ROUTE',
    );
    expect(
      thrown(() => table((r) => [r.mount('/legacy', fetch), r.post('/legacy', ok)])).code,
    ).toBe('E_DUPLICATE_ROUTE');
  });

  it('allows the same path with other methods or other constraints', () => {
    expect(() =>
      table((r) => {
        r.get('/x', ok);
        r.post('/x', ok);
        r.head('/x', ok);
        r.get('/x', ok).constraints({ host: 'a.example.com' });
      }),
    ).not.toThrow();
  });

  it('names both routes sharing a name', () => {
    const a = new Router({ module: 'a' });
    a.get('/one', ok).name('home');
    const b = new Router({ module: 'b' });
    b.post('/two', ok).name('home');
    const error = thrown(() => new RouteTable([...a.routes(), ...b.routes()]));
    expect(E_DUPLICATE_ROUTE_NAME.is(error)).toBe(true);
    expect(error.message).toMatch(
      /^Route name "home" is used twice: GET \/one in module "a" at .+:\d+, and again POST \/two in module "b" at .+:\d+$/,
    );
  });

  it('says so when a record has no module or source', () => {
    const record: RouteRecord = {
      methods: ['GET'],
      path: '/x',
      handler: ok,
      middleware: [],
      groups: [],
      meta: {},
    };
    const error = thrown(() => new RouteTable([record, { ...record }]));
    expect(error.message).toContain('(declared at an unknown place)');
  });
});

describe('invalid records', () => {
  const base: RouteRecord = {
    methods: ['GET'],
    path: '/x',
    handler: ok,
    middleware: [],
    groups: [],
    meta: {},
  };

  it.each([
    [{ methods: [] }, 'the route has no methods'],
    [{ methods: ['BREW'] }, 'unknown method "BREW"'],
    [{ handler: 'x' }, 'the handler is not a function'],
    [{ path: 'x' }, 'must start with "/"'],
    [{ path: '/a/:x((a+)+)' }, 'is not safe'],
  ])('refuses %j', (patch, message) => {
    const error = thrown(() => new RouteTable([{ ...base, ...patch } as RouteRecord]));
    expect(E_INVALID_ROUTE.is(error)).toBe(true);
    expect(error.message).toContain(message);
    // The same record after others (find-my-way's trees exist then) fails the same way.
    const after = thrown(
      () => new RouteTable([{ ...base, path: '/a/:y' }, { ...base, ...patch } as RouteRecord]),
    );
    expect(after.code).toBe('E_INVALID_ROUTE');
    expect(E_INVALID_ROUTE.is(error)).toBe(true);
    expect(error.message).toContain(message);
  });
});

describe('RouteTable.url', () => {
  const t = table((r) => {
    r.get('/products/:id', ok).name('products.show');
    r.get('/products/:id/reviews/:rid', ok).name('reviews.show');
    r.get('/n/:id(^\\d+$)', ok).name('numbers.show');
    r.get('/files/*', ok).name('files');
    r.get('/posts/:slug?', ok).name('posts');
    r.get('/café/time::now', ok).name('static');
    r.get('/', ok).name('home');
    r.get('/at/:lat-:lng', ok).name('at');
  });

  it('builds URLs with encoded parameters and a query string', () => {
    expect(t.url('home')).toBe('/');
    expect(t.url('products.show', { id: 42 })).toBe('/products/42');
    expect(t.url('products.show', { id: 'a/b c?' })).toBe('/products/a%2Fb%20c%3F');
    expect(t.url('reviews.show', { id: 1, rid: 2n, extra: 'ignored' })).toBe(
      '/products/1/reviews/2',
    );
    expect(
      t.url(
        'products.show',
        { id: 7 },
        { tab: 'stock', tags: ['a', 'b'], off: null, no: undefined },
      ),
    ).toBe('/products/7?tab=stock&tags=a&tags=b');
    expect(t.url('products.show', { id: 7 }, { skipped: undefined })).toBe('/products/7');
    expect(t.url('static')).toBe('/caf%C3%A9/time:now');
    expect(t.url('at', { lat: 1.5, lng: -2 })).toBe('/at/1.5--2');
  });

  it('keeps the wildcard slashes and encodes its segments', () => {
    expect(t.url('files', { '*': 'css/a b.css' })).toBe('/files/css/a%20b.css');
    expect(t.url('files')).toBe('/files/');
  });

  it('handles optional parameters', () => {
    expect(t.url('posts', { slug: 'hello' })).toBe('/posts/hello');
    expect(t.url('posts')).toBe('/posts');
  });

  it('encodes dot segments so clients do not resolve them away', () => {
    expect(t.url('products.show', { id: '..' })).toBe('/products/%2E%2E');
    expect(t.url('files', { '*': 'a/../b' })).toBe('/files/a/%2E%2E/b');
  });

  it('round-trips hostile values through lookup', () => {
    for (const id of ['a/b', '..', '.', 'café', '100%', 'a?b#c', ' ', '%2F', 'x&y=z']) {
      const match = t.lookup('GET', t.url('products.show', { id }));
      expect(match.kind === 'found' && match.params.id, id).toBe(id);
    }
  });

  it('refuses missing, empty and non-matching parameters', () => {
    const missing = thrown(() => t.url('reviews.show', { id: 1 }));
    expect(E_ROUTE_PARAM_MISSING.is(missing)).toBe(true);
    expect(missing.message).toBe(
      'Route "reviews.show" (/products/:id/reviews/:rid) needs parameter "rid" to build its URL',
    );
    expect(() => t.url('products.show', { id: '' })).toThrow(E_ROUTE_PARAM_MISSING);
    expect(() => t.url('products.show', { id: null })).toThrow(E_ROUTE_PARAM_MISSING);
    expect(() => t.url('products.show', Object.create({ id: 1 }))).toThrow(E_ROUTE_PARAM_MISSING);
    const invalid = thrown(() => t.url('numbers.show', { id: 'abc' }));
    expect(E_ROUTE_PARAM_INVALID.is(invalid)).toBe(true);
    expect(invalid.message).toContain('/^\\d+$/');
    expect(t.url('numbers.show', { id: 12 })).toBe('/n/12');
  });

  it('suggests a name for an unknown one', () => {
    const error = thrown(() => t.url('product.show'));
    expect(E_ROUTE_NAME_NOT_FOUND.is(error)).toBe(true);
    expect(error.message).toBe('No route is named "product.show" (did you mean "products.show"?)');
    expect(thrown(() => t.url('zzzzzzzzzzzz')).message).toBe('No route is named "zzzzzzzzzzzz"');
  });

  it('exposes named routes', () => {
    expect(t.has('home')).toBe(true);
    expect(t.has('nope')).toBe(false);
    expect(t.route('files')?.path).toBe('/files/*');
    expect(t.route('nope')).toBeUndefined();
  });
});

describe('RouteTable.list', () => {
  it('lists routes sorted by path then method, serialisable, with middleware names', () => {
    class AuditMiddleware {
      handle: MiddlewareFn = async (_c, next) => next();
      terminate() {}
    }
    async function namedMiddleware(_c: unknown, next: () => Promise<void>) {
      await next();
    }
    const router = new Router({ module: 'shop' });
    router.post('/b', ok);
    router
      .get('/b', ok)
      .name('b')
      .middleware([
        'auth:admin',
        namedMiddleware,
        async (_c, next) => next(),
        new AuditMiddleware(),
        {
          handle: async function logging(_c, next) {
            await next();
          },
          terminate() {},
        },
        { handle: async (_c, next) => next(), terminate() {} },
      ]);
    router.any('/a', ok);
    router.mount('/legacy', fetch);
    const anonymous = new Router();
    anonymous.group({ groups: ['api'] }, (r) => r.delete('/b', ok));
    const t = new RouteTable([...router.routes(), ...anonymous.routes()]);
    const rows = t.list();
    expect(rows.map((r) => `${r.method} ${r.path}`)).toEqual([
      'ANY /a',
      'GET /b',
      'POST /b',
      'DELETE /b',
      'ANY /legacy/*',
    ]);
    expect(rows[1]).toEqual({
      method: 'GET',
      path: '/b',
      name: 'b',
      module: 'shop',
      middleware: [
        'auth:admin',
        'namedMiddleware',
        '<anonymous>',
        'AuditMiddleware',
        'logging',
        '<anonymous>',
      ],
      groups: [],
      source: expect.stringMatching(/route-table\.test\.ts:\d+$/),
      mount: false,
    });
    expect(rows[3]).toMatchObject({ name: null, module: null, groups: ['api'] });
    expect(rows[4]?.mount).toBe(true);
    expect(JSON.parse(JSON.stringify(rows))).toEqual(rows);
  });
});
