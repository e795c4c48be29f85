import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { HttpContext } from '../context.js';
import type { MiddlewareFn } from '../types.js';
import {
  Controller,
  controllerMetadata,
  Delete,
  discoverControllers,
  Get,
  Head,
  isController,
  Meta,
  Middleware,
  Name,
  Options,
  Patch,
  Post,
  Put,
  registerControllers,
  Validate,
} from './decorators.js';
import { E_CONTROLLER_IMPORT_FAILED, E_INVALID_ROUTE, E_NOT_A_CONTROLLER } from './errors.js';
import { RouteTable } from './route-table.js';
import { Router } from './router.js';

const ctx = { params: { id: '7' } } as unknown as HttpContext;
const schema = {
  '~standard': { version: 1, vendor: 'test', validate: () => ({ value: {} }) },
} as const;
const audit: MiddlewareFn = async (_c, next) => next();

@Controller('/products', { name: 'products.', middleware: ['auth'], groups: ['api'] })
@Middleware('tenant', audit)
@Middleware('log')
class ProductController {
  readonly label = 'products';

  @Get()
  @Name('index')
  index() {
    return `${this.label}:index`;
  }

  @Get('/:id(^\\d+$)')
  @Name('show')
  @Middleware('cache:60')
  @Middleware('etag')
  @Meta({ summary: 'One product' })
  show(c: HttpContext) {
    return `${this.label}:${c.params.id}`;
  }

  @Post('/')
  @Validate({ body: schema })
  @Validate({ query: schema })
  store() {
    return 'stored';
  }

  @Put('/:id')
  @Patch('/:id')
  update() {}

  @Delete('/:id')
  destroy() {}

  @Head('/ping')
  @Options('/ping')
  ping() {}

  helper() {
    return 'not a route';
  }
}

@Controller()
class RootController {
  @Get('/health')
  health() {
    return 'up';
  }
}

class BaseController {
  @Get('/base')
  base() {
    return 'base';
  }

  @Get('/hidden')
  hidden() {
    return 'base hidden';
  }
}

@Controller('/child')
class ChildController extends BaseController {
  override hidden() {
    return 'override without decorator';
  }
}

describe('decorator metadata', () => {
  it('records the controller, its middleware in reading order, and its actions', () => {
    expect(isController(ProductController)).toBe(true);
    expect(isController(class {})).toBe(false);
    expect(isController('x')).toBe(false);
    const meta = controllerMetadata(ProductController)!;
    expect(meta).toMatchObject({
      prefix: '/products',
      name: 'products.',
      groups: ['api'],
      middleware: ['auth', 'tenant', audit, 'log'],
    });
    expect(meta.source).toMatch(/decorators\.test\.ts:\d+$/);
    const show = meta.actions.find((a) => a.method === 'show')!;
    expect(show).toMatchObject({
      name: 'show',
      middleware: ['cache:60', 'etag'],
      meta: { summary: 'One product' },
      routes: [{ methods: ['GET'], path: '/:id(^\\d+$)' }],
    });
    const update = meta.actions.find((a) => a.method === 'update')!;
    expect(update.routes.map((r) => r.methods[0])).toEqual(['PUT', 'PATCH']);
    expect(meta.actions.map((a) => a.method)).not.toContain('helper');
    expect(controllerMetadata(class {})).toBeUndefined();
  });

  it('inherits decorated base methods unless overridden without decorators', () => {
    const meta = controllerMetadata(ChildController)!;
    expect(meta.actions.map((a) => a.method)).toEqual(['base']);
    expect(isController(BaseController)).toBe(false);
  });

  it('refuses route decorators on static or private methods and bad paths', () => {
    expect(() => {
      // biome-ignore lint/complexity/noStaticOnlyClass: the static method is the point
      class Bad {
        @Get('/x')
        static list() {}
      }
      return Bad;
    }).toThrow(E_INVALID_ROUTE);
    expect(() => {
      class Bad {
        @Get('/x')
        // biome-ignore lint/correctness/noUnusedPrivateClassMembers: the private method is the point
        #hidden() {}
      }
      return Bad;
    }).toThrow('route decorators go on public instance methods');
    expect(() => Get('no-slash')).toThrow('must start with "/"');
    expect(() => Controller('bad prefix')).toThrow(E_INVALID_ROUTE);
    expect(() => Middleware(42 as never)).toThrow('middleware #1 is number');
  });
});

describe('registerControllers', () => {
  it('declares the routes of decorated controllers', () => {
    const router = new Router({ module: 'catalog' });
    const builders = registerControllers(router, [
      ProductController,
      RootController,
      ChildController,
    ]);
    expect(builders).toHaveLength(router.routes().length);
    const rows = router.routes().map((r) => [r.methods.join('|'), r.path, r.name ?? '']);
    expect(rows).toEqual([
      ['GET', '/products', 'products.index'],
      ['GET', '/products/:id(^\\d+$)', 'products.show'],
      ['POST', '/products', ''],
      ['PUT', '/products/:id', ''],
      ['PATCH', '/products/:id', ''],
      ['DELETE', '/products/:id', ''],
      ['HEAD', '/products/ping', ''],
      ['OPTIONS', '/products/ping', ''],
      ['GET', '/health', ''],
      ['GET', '/child/base', ''],
    ]);
    const show = router.routes()[1]!;
    expect(show.middleware).toEqual(['auth', 'tenant', audit, 'log', 'cache:60', 'etag']);
    expect(show.groups).toEqual(['api']);
    expect(show.meta).toEqual({ summary: 'One product' });
    expect(show.module).toBe('catalog');
    expect(show.source).toMatch(/decorators\.test\.ts:\d+$/);
    expect(Object.keys(router.routes()[2]!.schemas ?? {}).sort()).toEqual(['body', 'query']);
    expect(show.handler(ctx)).toBe('products:7');
    expect(router.routes()[0]!.handler(ctx)).toBe('products:index');
    expect(router.routes().at(-1)!.handler(ctx)).toBe('base');
  });

  it('builds instances through the given factory, once per class', () => {
    const factory = vi.fn((C: new () => object) => new C());
    const router = new Router({ controllerFactory: () => ({}) });
    registerControllers(router, [ProductController], factory as never);
    const [index, show] = router.routes();
    expect(index!.handler(ctx)).toBe('products:index');
    expect(show!.handler(ctx)).toBe('products:7');
    expect(factory).toHaveBeenCalledTimes(1);
  });

  it('uses the router factory otherwise', () => {
    const factory = vi.fn((C: new () => object) => new C());
    const router = new Router({ controllerFactory: factory as never });
    registerControllers(router, [RootController]);
    expect(router.routes()[0]!.handler(ctx)).toBe('up');
    expect(factory).toHaveBeenCalledOnce();
  });

  it('makes a route table whose duplicates point at the decorated methods', () => {
    @Controller('/health')
    class Other {
      @Get()
      check() {}
    }
    const router = new Router();
    registerControllers(router, [RootController, Other]);
    expect(() => new RouteTable(router.routes())).toThrow(/GET \/health is declared twice/);
  });

  it('refuses classes without @Controller', () => {
    expect(() => registerControllers(new Router(), [BaseController])).toThrow(E_NOT_A_CONTROLLER);
    expect(() => registerControllers(new Router(), [BaseController])).toThrow(
      'Class BaseController is not a controller',
    );
    expect(() => registerControllers(new Router(), ['x' as never])).toThrow(
      'x is not a controller',
    );
  });
});

describe('discoverControllers', () => {
  const decorators = fileURLToPath(new URL('./decorators.ts', import.meta.url));
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'keel-controllers-'));
    const controllers = join(dir, 'controllers');
    await mkdir(join(controllers, 'admin'), { recursive: true });
    await mkdir(join(controllers, '__fixtures__'), { recursive: true });
    const header = `import { Controller, Get, Name } from ${JSON.stringify(decorators)};\n`;
    await writeFile(
      join(controllers, 'orders-controller.ts'),
      `${header}
@Controller('/orders', { name: 'orders.' })
export class OrdersController {
  @Get() @Name('index') index() { return 'orders'; }
}
export class NotAController {}
export const value = 42;
export default OrdersController;
`,
    );
    await writeFile(
      join(controllers, 'admin', 'users-controller.ts'),
      `${header}
@Controller('/admin/users')
export class UsersController {
  @Get('/:id') show() { return 'user'; }
}
`,
    );
    await writeFile(join(controllers, 'helpers.js'), 'export const helper = () => 1;\n');
    await writeFile(
      join(controllers, 'orders-controller.test.ts'),
      'throw new Error("not imported");\n',
    );
    await writeFile(join(controllers, 'types.d.ts'), 'export type X = 1;\n');
    await writeFile(join(controllers, 'README.md'), '# not code\n');
    await writeFile(
      join(controllers, '__fixtures__', 'broken.ts'),
      'throw new Error("not imported");\n',
    );
    await mkdir(join(dir, 'broken'));
    await writeFile(
      join(dir, 'broken', 'bad-controller.ts'),
      'throw new Error("boom at import");\n',
    );
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('imports every controller file and returns the exported controllers once', async () => {
    const found = await discoverControllers(join(dir, 'controllers'));
    expect(found.map((c) => c.name)).toEqual(['UsersController', 'OrdersController']);
    const router = new Router();
    registerControllers(router, found);
    expect(router.routes().map((r) => `${r.methods[0]} ${r.path} ${r.name ?? ''}`)).toEqual([
      'GET /admin/users/:id ',
      'GET /orders orders.index',
    ]);
    expect(router.routes()[1]!.handler(ctx)).toBe('orders');
    expect(router.routes()[1]!.source).toMatch(/orders-controller\.ts:\d+$/);
  });

  it('returns nothing for a missing folder', async () => {
    expect(await discoverControllers(join(dir, 'nope'))).toEqual([]);
  });

  it('throws for a path that is not a folder', async () => {
    await expect(discoverControllers(join(dir, 'controllers', 'helpers.js'))).rejects.toMatchObject(
      {
        code: 'ENOTDIR',
      },
    );
  });

  it('names the file that failed to import', async () => {
    const error = await discoverControllers(join(dir, 'broken')).catch((e: unknown) => e);
    expect(E_CONTROLLER_IMPORT_FAILED.is(error)).toBe(true);
    expect((error as Error).message).toContain('bad-controller.ts: boom at import');
    expect((error as Error).cause).toBeInstanceOf(Error);
  });
});
