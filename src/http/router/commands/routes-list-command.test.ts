import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ConsoleUI } from '../../../cli/console-ui.js';
import type { CommandContext } from '../../../kernel/command.js';
import { RouteTable } from '../route-table.js';
import { Router } from '../router.js';
import { filterRoutes, type RoutesListApp, routesListCommand } from './routes-list-command.js';

function capture(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (chunk: Buffer) => {
    text += chunk.toString();
  });
  return { stream, text: () => text };
}

function routes(): RouteTable {
  const catalog = new Router({ module: 'catalog' });
  catalog.group({ prefix: '/api', name: 'api.', middleware: ['auth'] }, (r) => {
    r.apiResource('products', { index: () => [], show: () => ({}) }, { only: ['index', 'show'] });
    r.post('/products', () => ({})).middleware(async function audit(_c, next) {
      await next();
    });
  });
  const sales = new Router({ module: 'sales' });
  sales.get('/orders', () => []).name('orders.index');
  sales.any('/hook', () => null);
  return new RouteTable([...catalog.routes(), ...sales.routes()]);
}

async function run(
  options: Record<string, unknown>,
  make: () => unknown = () => routes(),
): Promise<{ code: number | undefined; out: string; err: string }> {
  const out = capture();
  const err = capture();
  const ui = new ConsoleUI({
    json: options.json === true,
    stdout: out.stream,
    stderr: err.stream,
    colors: false,
  });
  const ctx: CommandContext<RoutesListApp> = {
    app: { make: make as RoutesListApp['make'] },
    cwd: process.cwd(),
    args: {},
    options,
    ui,
    verbose: false,
  };
  const code = await routesListCommand.handle(ctx);
  return { code, out: out.text(), err: err.text() };
}

describe('routes:list', () => {
  it('is a booted command with --json and filters', () => {
    expect(routesListCommand.name).toBe('routes:list');
    expect(routesListCommand.json).toBe(true);
    expect(routesListCommand.needs).toBe('booted');
    expect(routesListCommand.options?.map((o) => o.flags.split(' ')[0])).toEqual([
      '--method',
      '--path',
      '--name',
      '--module',
    ]);
  });

  it('prints a table of method, path, name, module and middleware', async () => {
    const { code, out } = await run({});
    expect(code).toBe(0);
    const lines = out.trimEnd().split('\n');
    expect(lines[0]?.trimEnd()).toMatch(/^method\s+path\s+name\s+module\s+middleware$/);
    expect(lines[1]).toMatch(/^─+/);
    expect(lines.slice(2, -1).map((l) => l.split(/\s{2,}/))).toEqual([
      ['GET', '/api/products', 'api.products.index', 'catalog', 'auth'],
      ['POST', '/api/products', 'catalog', 'auth, audit'],
      ['GET', '/api/products/:id', 'api.products.show', 'catalog', 'auth'],
      ['ANY', '/hook', 'sales'],
      ['GET', '/orders', 'orders.index', 'sales'],
    ]);
    expect(lines.at(-1)).toBe('5 routes');
  });

  it('prints JSON rows with --json', async () => {
    const { code, out } = await run({ json: true });
    expect(code).toBe(0);
    const rows = JSON.parse(out) as Array<Record<string, unknown>>;
    expect(rows).toHaveLength(5);
    expect(rows[0]).toMatchObject({
      method: 'GET',
      path: '/api/products',
      name: 'api.products.index',
      module: 'catalog',
      middleware: ['auth'],
      mount: false,
    });
    expect(rows[0]?.source).toMatch(/routes-list-command\.test\.ts:\d+$/);
  });

  it('filters by method, path, name and module', async () => {
    const json = async (options: Record<string, unknown>) =>
      (
        JSON.parse((await run({ ...options, json: true })).out) as Array<{
          path: string;
          method: string;
        }>
      ).map((r) => `${r.method} ${r.path}`);
    expect(await json({ method: 'post' })).toEqual(['POST /api/products', 'ANY /hook']);
    expect(await json({ method: 'HEAD' })).toEqual([
      'GET /api/products',
      'GET /api/products/:id',
      'ANY /hook',
      'GET /orders',
    ]);
    expect(await json({ path: '/api' })).toHaveLength(3);
    expect(await json({ name: 'products' })).toEqual([
      'GET /api/products',
      'GET /api/products/:id',
    ]);
    expect(await json({ module: 'sales', method: 'GET' })).toEqual(['ANY /hook', 'GET /orders']);
    expect(await json({ module: 'nope' })).toEqual([]);
    const { out } = await run({ module: 'nope' });
    expect(out).toContain('(none)');
    expect(out).toContain('0 routes');
  });

  it('ignores non-string option values', async () => {
    expect(JSON.parse((await run({ json: true, method: true })).out)).toHaveLength(5);
  });

  it('fails clearly when the application has no route table', async () => {
    const { code, err } = await run({}, () => ({}));
    expect(code).toBe(1);
    expect(err).toContain('The application has no route table');
  });

  it('says "1 route" for one', async () => {
    const router = new Router();
    router.get('/', () => 'home');
    const { out } = await run({}, () => new RouteTable(router.routes()));
    expect(out.trimEnd().split('\n').at(-1)).toBe('1 route');
  });
});

describe('filterRoutes', () => {
  it('keeps everything without filters', () => {
    const list = routes().list();
    expect(filterRoutes(list, {})).toEqual(list);
  });
});
