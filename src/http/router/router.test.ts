import { describe, expect, expectTypeOf, it, vi } from 'vitest';
import type { HttpContext } from '../context.js';
import type { MiddlewareFn, RouteRecord } from '../types.js';
import { HTTP_METHODS } from '../types.js';
import { E_CONTROLLER_METHOD_MISSING, E_INVALID_ROUTE } from './errors.js';
import { RouteBuilder } from './route-builder.js';
import { type RouteHandler, Router } from './router.js';

const ctx = {} as HttpContext;
const handler = () => 'ok';
const THIS_FILE = 'src/http/router/router.test.ts';

function only(router: Router): RouteRecord {
  const routes = router.routes();
  expect(routes).toHaveLength(1);
  return routes[0]!;
}

describe('Router verbs', () => {
  it.each([
    ['get', 'GET'],
    ['post', 'POST'],
    ['put', 'PUT'],
    ['patch', 'PATCH'],
    ['delete', 'DELETE'],
    ['head', 'HEAD'],
    ['options', 'OPTIONS'],
  ] as const)('%s() declares a %s route', (verb, method) => {
    const router = new Router({ module: 'catalog' });
    const builder = router[verb]('/products', handler);
    expect(builder).toBeInstanceOf(RouteBuilder);
    expect(only(router)).toMatchObject({
      methods: [method],
      path: '/products',
      handler,
      middleware: [],
      groups: [],
      meta: {},
      module: 'catalog',
    });
  });

  it('records where each route was declared', () => {
    const router = new Router();
    router.get('/a', handler);
    expect(only(router).source).toMatch(new RegExp(`^${THIS_FILE}:\\d+$`));
    expect(only(router).module).toBeUndefined();
  });

  it('any() serves every method, match() the listed ones (case-insensitive, once each)', () => {
    const router = new Router();
    router.any('/all', handler);
    router.match(['get', 'POST', 'GET'], '/some', handler);
    const [all, some] = router.routes();
    expect(all?.methods).toEqual([...HTTP_METHODS]);
    expect(some?.methods).toEqual(['GET', 'POST']);
  });

  it('match() refuses no methods and unknown ones', () => {
    const router = new Router();
    expect(() => router.match([], '/x', handler)).toThrow('at least one method');
    expect(() => router.match(['BREW' as never], '/x', handler)).toThrow('unknown method "BREW"');
  });

  it('refuses invalid paths and handlers with E_INVALID_ROUTE naming the path', () => {
    const router = new Router();
    expect(() => router.get('products', handler)).toThrow(E_INVALID_ROUTE);
    expect(() => router.get('/a b', handler)).toThrow('Invalid route "/a b"');
    expect(() => router.get(7 as never, handler)).toThrow('must be a string');
    expect(() => router.get('/x', 'nope' as never)).toThrow(
      'must be a function or [Controller, "method"]',
    );
    expect(() => router.get('/x', [class {}, 1] as never)).toThrow(E_INVALID_ROUTE);
    expect(router.routes()).toEqual([]);
  });

  it('routes() returns a copy of the list', () => {
    const router = new Router();
    router.get('/a', handler);
    router.routes().pop();
    expect(router.routes()).toHaveLength(1);
  });
});

describe('RouteBuilder', () => {
  it('sets name, middleware, groups, schemas, body, meta, pattern and constraints', () => {
    const router = new Router();
    const auth: MiddlewareFn = async (_c, next) => next();
    const schema = {
      '~standard': { version: 1, vendor: 'x', validate: () => ({ value: 1 }) },
    } as const;
    router
      .get('/products/:id', handler)
      .name('products.show')
      .middleware('auth')
      .middleware([auth, { handle: auth, terminate: () => undefined }])
      .groups('api')
      .groups(['api', 'web'])
      .validate({ query: schema })
      .validate({ params: schema })
      .body({ limits: { json: 1024 } })
      .meta({ summary: 'Show' })
      .meta({ tags: ['products'] })
      .where('id', /^\d+$/)
      .constraints({ host: 'shop.example.com' })
      .constraints({ version: '1.0.0' });
    const record = only(router);
    expect(record.name).toBe('products.show');
    expect(record.middleware).toHaveLength(3);
    expect(record.middleware[0]).toBe('auth');
    expect(record.groups).toEqual(['api', 'web']);
    expect(Object.keys(record.schemas ?? {})).toEqual(['query', 'params']);
    expect(record.body).toEqual({ limits: { json: 1024 } });
    expect(record.meta).toEqual({ summary: 'Show', tags: ['products'] });
    expect(record.path).toBe('/products/:id(^\\d+$)');
    expect(record.constraints).toEqual({ host: 'shop.example.com', version: '1.0.0' });
  });

  it('refuses bad names and middleware at declaration', () => {
    const router = new Router();
    const builder = router.get('/x', handler);
    expect(() => builder.name('')).toThrow('is empty, too long or has spaces');
    expect(() => builder.name('a b')).toThrow(E_INVALID_ROUTE);
    expect(() => builder.name('x'.repeat(201))).toThrow(E_INVALID_ROUTE);
    expect(() => builder.middleware([42 as never])).toThrow('middleware #1 is number');
    expect(() => builder.middleware(['auth', null as never])).toThrow('middleware #2 is null');
    expect(() => builder.middleware(['  '])).toThrow(E_INVALID_ROUTE);
    expect(() => builder.middleware([{ handle: 1 } as never])).toThrow('middleware #1 is object');
    expect(() => builder.where('nope', /x/)).toThrow('no parameter ":nope"');
  });
});

describe('Router groups', () => {
  it('nest prefixes, names, middleware, groups, constraints and meta', () => {
    const router = new Router({ module: 'api', groups: ['web'] });
    router.group(
      { prefix: '/api', name: 'api.', middleware: ['cors'], groups: ['api'], meta: { a: 1 } },
      (api) => {
        api.get('/', handler).name('home');
        api.group(
          {
            prefix: '/v1/',
            name: 'v1.',
            middleware: ['auth'],
            groups: ['api', 'v1'],
            constraints: { host: 'api.example.com' },
            meta: { b: 2 },
          },
          (v1) => {
            v1.get('/users', handler).name('users.index').middleware('throttle');
          },
        );
        api.get('/after', handler);
      },
    );
    router.get('/outside', handler);
    const [home, users, after, outside] = router.routes();
    expect(home).toMatchObject({
      path: '/api',
      name: 'api.home',
      middleware: ['cors'],
      groups: ['web', 'api'],
    });
    expect(users).toMatchObject({
      path: '/api/v1/users',
      name: 'api.v1.users.index',
      middleware: ['cors', 'auth', 'throttle'],
      groups: ['web', 'api', 'v1'],
      constraints: { host: 'api.example.com' },
      meta: { a: 1, b: 2 },
      module: 'api',
    });
    expect(after).toMatchObject({ path: '/api/after', middleware: ['cors'] });
    expect(after?.constraints).toBeUndefined();
    expect(outside).toMatchObject({ path: '/outside', middleware: [], groups: ['web'] });
    expect(outside?.name).toBeUndefined();
  });

  it('returns the callback result, so async groups can be awaited', async () => {
    const router = new Router();
    const result = await router.group({ prefix: '/later' }, async (r) => {
      await Promise.resolve();
      r.get('/x', handler);
      return 'done';
    });
    expect(result).toBe('done');
    expect(only(router).path).toBe('/later/x');
  });

  it('accepts "/" and no prefix, refuses an invalid prefix or middleware', () => {
    const router = new Router();
    router.group({ prefix: '/' }, (r) => r.get('/a', handler));
    router.group({}, (r) => r.get('/b', handler));
    expect(router.routes().map((r) => r.path)).toEqual(['/a', '/b']);
    expect(() => router.group({ prefix: 'api' }, () => undefined)).toThrow('must start with "/"');
    expect(() => router.group({ middleware: [3 as never] }, () => undefined)).toThrow(
      'middleware #1',
    );
  });

  it('supports parameters in a prefix', () => {
    const router = new Router();
    router.group({ prefix: '/tenants/:tenant' }, (r) => r.get('/users/:id', handler));
    expect(only(router).path).toBe('/tenants/:tenant/users/:id');
    expect(() => router.group({ prefix: '/t/:id' }, (r) => r.get('/:id', handler))).toThrow(
      'appears twice',
    );
  });
});

class ProductController {
  readonly created = Math.random();
  index() {
    return ['all', this.created];
  }
  create() {}
  store() {}
  show(c: HttpContext) {
    return c;
  }
  edit() {}
  update() {}
  destroy() {}
}

describe('controller actions', () => {
  it('calls the method on an instance made lazily, once, by the factory', () => {
    const factory = vi.fn((C: new () => object) => new C());
    const router = new Router({ controllerFactory: factory as never });
    router.get('/p', [ProductController, 'index']);
    router.get('/p/:id', [ProductController, 'show']);
    expect(factory).not.toHaveBeenCalled();
    const [index, show] = router.routes();
    const first = index!.handler(ctx) as [string, number];
    expect(first[0]).toBe('all');
    expect(show!.handler(ctx)).toBe(ctx);
    expect(index!.handler(ctx)).toEqual(first);
    expect(factory).toHaveBeenCalledTimes(1);
    expect(index!.handler.name).toBe('ProductController.index');
  });

  it('uses new Controller() by default', () => {
    const router = new Router();
    router.get('/p', [ProductController, 'index']);
    expect((only(router).handler(ctx) as unknown[])[0]).toBe('all');
  });

  it('fails at declaration when the method does not exist', () => {
    const router = new Router();
    expect(() => router.get('/p', [ProductController, 'nope' as never])).toThrow(
      E_CONTROLLER_METHOD_MISSING,
    );
    expect(() => router.get('/p', [ProductController, 'nope' as never])).toThrow(
      'Controller ProductController has no method "nope" for route GET /p',
    );
  });

  it('fails at call time when the factory returns an object without the method', () => {
    const router = new Router({ controllerFactory: () => ({}) });
    router.get('/p', [ProductController, 'index']);
    expect(() => only(router).handler(ctx)).toThrow(E_CONTROLLER_METHOD_MISSING);
  });

  it('types the method name against the controller', () => {
    const router = new Router();
    router.get('/ok', [ProductController, 'show']);
    // @ts-expect-error: not a method of ProductController
    expect(() => router.get('/bad', [ProductController, 'missing'])).toThrow();
    // @ts-expect-error: a property, not a method
    expect(() => router.get('/bad', [ProductController, 'created'])).toThrow();
    expectTypeOf<RouteHandler>().toMatchTypeOf<unknown>();
    expectTypeOf(router.get).returns.toEqualTypeOf<RouteBuilder>();
  });
});

describe('resources', () => {
  it('declares the seven conventional routes with names', () => {
    const router = new Router();
    const resource = router.resource('products', ProductController);
    const rows = router.routes().map((r) => [r.methods.join('|'), r.path, r.name]);
    expect(rows).toEqual([
      ['GET', '/products', 'products.index'],
      ['GET', '/products/create', 'products.create'],
      ['POST', '/products', 'products.store'],
      ['GET', '/products/:id', 'products.show'],
      ['GET', '/products/:id/edit', 'products.edit'],
      ['PUT|PATCH', '/products/:id', 'products.update'],
      ['DELETE', '/products/:id', 'products.destroy'],
    ]);
    expect(Object.keys(resource.actions)).toHaveLength(7);
    expect(resource.action('show').record.path).toBe('/products/:id');
  });

  it('apiResource leaves out create and edit; only and except filter', () => {
    const api = new Router();
    api.apiResource('products', ProductController);
    expect(api.routes().map((r) => r.name)).toEqual([
      'products.index',
      'products.store',
      'products.show',
      'products.update',
      'products.destroy',
    ]);
    const some = new Router();
    some.resource('products', ProductController, {
      only: ['index', 'show', 'destroy'],
      except: ['destroy'],
    });
    expect(some.routes().map((r) => r.name)).toEqual(['products.index', 'products.show']);
  });

  it('names unknown actions with a suggestion', () => {
    const router = new Router();
    expect(() =>
      router.resource('products', ProductController, { except: ['destory' as never] }),
    ).toThrow('unknown resource action "destory" (did you mean "destroy"?)');
    expect(() =>
      router.resource('products', ProductController, { only: ['zzz' as never] }),
    ).toThrow('actions are index, create, store, show, edit, update, destroy');
  });

  it('nests with dotted names, under groups, with custom parameter names', () => {
    const router = new Router();
    router.group({ prefix: '/admin', name: 'admin.' }, (r) => {
      r.apiResource('categories.purchase-orders', ProductController, { only: ['show'] });
      r.apiResource('posts.comments', ProductController, {
        only: ['index'],
        params: { posts: 'slug' },
      });
      r.apiResource('boxes', ProductController, { only: ['show'], params: { boxes: 'code' } });
    });
    expect(router.routes().map((r) => [r.path, r.name])).toEqual([
      [
        '/admin/categories/:category_id/purchase-orders/:id',
        'admin.categories.purchase-orders.show',
      ],
      ['/admin/posts/:slug/comments', 'admin.posts.comments.index'],
      ['/admin/boxes/:code', 'admin.boxes.show'],
    ]);
  });

  it('accepts an object of handlers and reports a missing one', () => {
    const index = () => 'list';
    const router = new Router();
    router.apiResource('tags', { index, show: handler }, { only: ['index', 'show'] });
    expect(router.routes()[0]?.handler).toBe(index);
    expect(() => router.apiResource('notes', { index })).toThrow(
      'Controller { handlers } of resource "notes" has no method "store" for route POST /notes',
    );
  });

  it('reports a controller class missing an action, pointing at except', () => {
    class Partial {
      index() {}
    }
    const router = new Router();
    let error: unknown;
    try {
      router.resource('things', Partial);
    } catch (caught) {
      error = caught;
    }
    expect(E_CONTROLLER_METHOD_MISSING.is(error)).toBe(true);
    expect((error as Error).message).toContain(
      'Partial has no method "create" for route GET /things/create',
    );
    expect((error as { help: string }).help).toContain('except');
  });

  it('refuses bad resource names and controllers', () => {
    const router = new Router();
    expect(() => router.resource('', ProductController)).toThrow(E_INVALID_ROUTE);
    expect(() => router.resource('a b', ProductController)).toThrow('dot-separated segments');
    expect(() => router.resource('a..b', ProductController)).toThrow(E_INVALID_ROUTE);
    expect(() => router.resource('x', null as never)).toThrow(
      'controller class or an object of handlers',
    );
  });

  it('adds middleware to all or some actions; action() refuses excluded ones', () => {
    const router = new Router();
    const resource = router
      .apiResource('products', ProductController, { middleware: ['auth'] })
      .middleware('audit', { except: ['index', 'show'] })
      .middleware(['log']);
    expect(resource.action('index').record.middleware).toEqual(['auth', 'log']);
    expect(resource.action('store').record.middleware).toEqual(['auth', 'audit', 'log']);
    expect(() => resource.action('edit')).toThrow('has no "edit" action');
    expect(() => resource.middleware('x', { only: ['nope' as never] })).toThrow(
      'unknown resource action',
    );
  });
});

describe('mount', () => {
  it('declares one record under prefix/* for every method, serving the fetch handler', async () => {
    const seen: string[] = [];
    const app = async (request: Request) => {
      seen.push(`${request.method} ${new URL(request.url).pathname}${new URL(request.url).search}`);
      return new Response('mounted');
    };
    const router = new Router({ module: 'legacy' });
    router.group({ prefix: '/v0' }, (r) => r.mount('/legacy', app).middleware('auth'));
    const record = only(router);
    expect(record).toMatchObject({
      path: '/v0/legacy/*',
      methods: [...HTTP_METHODS],
      middleware: ['auth'],
    });
    expect(record.mount).toBe(app);
    const fake = {
      method: 'GET',
      path: '/v0/legacy/reports/1',
      search: 'page=2',
      headers: { host: 'erp.test' },
      header: (name: string) => (name === 'host' ? 'erp.test' : undefined),
    } as unknown as HttpContext;
    const response = (await record.handler(fake)) as Response;
    expect(await response.text()).toBe('mounted');
    expect(seen).toEqual(['GET /reports/1?page=2']);
  });

  it('mounts at the root and refuses a non-function', () => {
    const router = new Router();
    router.mount('/', async () => new Response(''));
    expect(only(router).path).toBe('/*');
    expect(() => router.mount('/x', {} as never)).toThrow('needs a fetch handler');
  });
});
