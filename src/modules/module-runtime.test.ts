import fs from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, expectTypeOf, it } from 'vitest';
import { makeTempDir, rejection, removeTempDir } from './__fixtures__/module-fixtures.js';
import {
  E_MODULE_ILLEGAL_TRANSITION,
  E_MODULE_NOT_FOUND,
  E_MODULE_RUNTIME_SNAPSHOT_CORRUPT,
} from './errors.js';
import { MODULE_RUNTIME_STATES, ModuleRuntime, type ModuleRuntimeState } from './module-runtime.js';
import {
  ModuleRuntimeRegistry,
  type ModuleRuntimeRegistrySnapshot,
  readModuleRuntimeSnapshot,
} from './module-runtime-registry.js';

const clock = { time: 1_000_000 };
const now = () => clock.time;

function boot(runtime: ModuleRuntime): void {
  for (const state of ['initializing', 'initialized', 'starting', 'running'] as const)
    runtime.transition(state);
}

describe('ModuleRuntime', () => {
  it('walks the lifecycle and records a timestamped history', () => {
    const runtime = new ModuleRuntime('billing', { now });
    expect(runtime.state).toBe('uninitialized');
    clock.time = 1_000_100;
    boot(runtime);
    expect(runtime.state).toBe('running');
    expect(runtime.since).toBe(1_000_100);
    runtime.transition('stopping', 'SIGTERM');
    runtime.transition('stopped');
    expect(runtime.history.map((t) => `${t.from}→${t.to}`)).toEqual([
      'uninitialized→initializing',
      'initializing→initialized',
      'initialized→starting',
      'starting→running',
      'running→stopping',
      'stopping→stopped',
    ]);
    expect(runtime.history[4]).toEqual({
      from: 'running',
      to: 'stopping',
      at: 1_000_100,
      reason: 'SIGTERM',
    });
    expect(runtime.restartCount).toBe(0);
  });

  it('measures uptime from entering running, and 0 otherwise', () => {
    const runtime = new ModuleRuntime('billing', { now });
    expect(runtime.uptime()).toBe(0);
    boot(runtime);
    clock.time += 5_000;
    expect(runtime.uptime()).toBe(5_000);
    runtime.transition('stopping');
    expect(runtime.uptime()).toBe(0);
  });

  it('counts restarts from stopped and from failed', () => {
    const runtime = new ModuleRuntime('billing', { now });
    boot(runtime);
    runtime.transition('stopping');
    runtime.transition('stopped');
    runtime.transition('starting');
    runtime.transition('running');
    runtime.fail(new Error('lost connection'));
    runtime.transition('starting');
    expect(runtime.restartCount).toBe(2);
  });

  it('refuses illegal transitions, naming module, from and to', () => {
    const runtime = new ModuleRuntime('billing');
    expect(() => runtime.transition('running')).toThrow(E_MODULE_ILLEGAL_TRANSITION);
    expect(() => runtime.transition('running')).toThrow(
      'Module "billing" cannot go from "uninitialized" to "running"',
    );
    runtime.transition('failed');
    expect(() => runtime.transition('failed')).toThrow('cannot go from "failed" to "failed"');
    expect(runtime.can('initializing')).toBe(true);
    expect(runtime.history).toHaveLength(1);
  });

  it('allows failing from every state but failed, and the documented exits from failed', () => {
    for (const state of MODULE_RUNTIME_STATES) {
      const runtime = new ModuleRuntime('m');
      const route: Record<ModuleRuntimeState, ModuleRuntimeState[]> = {
        uninitialized: [],
        initializing: ['initializing'],
        initialized: ['initializing', 'initialized'],
        starting: ['initializing', 'initialized', 'starting'],
        running: ['initializing', 'initialized', 'starting', 'running'],
        stopping: ['initializing', 'initialized', 'starting', 'running', 'stopping'],
        stopped: ['initializing', 'initialized', 'starting', 'running', 'stopping', 'stopped'],
        failed: ['failed'],
        disabled: ['disabled'],
      };
      for (const step of route[state]) runtime.transition(step);
      expect(runtime.state).toBe(state);
      expect(runtime.can('failed')).toBe(state !== 'failed');
    }
    const failed = new ModuleRuntime('m');
    failed.transition('failed');
    expect(MODULE_RUNTIME_STATES.filter((s) => failed.can(s))).toEqual([
      'initializing',
      'starting',
      'stopping',
      'stopped',
      'disabled',
    ]);
    const disabled = new ModuleRuntime('m');
    disabled.transition('disabled');
    expect(MODULE_RUNTIME_STATES.filter((s) => disabled.can(s))).toEqual([
      'uninitialized',
      'failed',
    ]);
  });

  it('keeps a bounded history', () => {
    const runtime = new ModuleRuntime('busy', { historyLimit: 5 });
    boot(runtime);
    for (let i = 0; i < 10; i++) {
      runtime.transition('stopping');
      runtime.transition('stopped');
      runtime.transition('starting');
      runtime.transition('running');
    }
    expect(runtime.history).toHaveLength(5);
    expect(runtime.history.at(-1)).toMatchObject({ from: 'starting', to: 'running' });
    expect(runtime.restartCount).toBe(10);
    expect(new ModuleRuntime('x').toJSON().history).toEqual([]);
  });

  it('counts errors per module and keeps the last one', () => {
    const runtime = new ModuleRuntime('billing', { now });
    const other = new ModuleRuntime('customers', { now });
    runtime.recordError(new E_MODULE_NOT_FOUND('x'));
    runtime.recordError(new TypeError('bad'));
    runtime.recordError('plain string');
    expect(runtime.errorCount).toBe(3);
    expect(other.errorCount).toBe(0);
    expect(runtime.lastError).toEqual({ message: 'plain string', at: clock.time });
    runtime.recordError(new TypeError('x'.repeat(5000)));
    expect(runtime.lastError?.name).toBe('TypeError');
    expect(runtime.lastError?.message.length).toBeLessThan(2010);
    runtime.fail(new E_MODULE_NOT_FOUND('ghost'));
    expect(runtime.state).toBe('failed');
    expect(runtime.lastError).toMatchObject({
      code: 'E_MODULE_NOT_FOUND',
      name: 'E_MODULE_NOT_FOUND',
    });
    expect(runtime.history.at(-1)?.reason).toBe('Unknown module "ghost"');
    runtime.fail(new Error('again'));
    expect(runtime.errorCount).toBe(6);
    expect(runtime.state).toBe('failed');
  });

  it('serialises to JSON', () => {
    const runtime = new ModuleRuntime('billing', { now });
    boot(runtime);
    clock.time += 10;
    const json = JSON.parse(JSON.stringify(runtime));
    expect(json).toMatchObject({
      name: 'billing',
      state: 'running',
      uptime: 10,
      restartCount: 0,
      errorCount: 0,
    });
    expect(json.history).toHaveLength(4);
    expect(json.lastError).toBeUndefined();
    expectTypeOf(runtime.state).toEqualTypeOf<ModuleRuntimeState>();
  });
});

describe('ModuleRuntimeRegistry', () => {
  let root: string;
  let file: string;
  beforeEach(async () => {
    root = await makeTempDir();
    file = path.join(root, 'var', 'state', 'module-runtime.json');
  });
  afterEach(async () => {
    await removeTempDir(root);
  });

  it('holds one runtime per module and snapshots them all', () => {
    const registry = new ModuleRuntimeRegistry({ now });
    const billing = registry.register('billing');
    expect(registry.register('billing')).toBe(billing);
    registry.register('customers').transition('disabled');
    boot(billing);
    expect(registry.get('billing')).toBe(billing);
    expect(registry.get('ghost')).toBeUndefined();
    expect(registry.all().map((r) => r.name)).toEqual(['billing', 'customers']);
    expect(registry.inState('disabled')).toEqual(['customers']);
    const snapshot = registry.snapshot();
    expect(snapshot).toMatchObject({ version: 1, pid: process.pid, writtenAt: clock.time });
    expect(snapshot.modules.billing?.state).toBe('running');
    expect(snapshot.modules.customers?.state).toBe('disabled');
  });

  it('writes and reads snapshots across instances (as the CLI does)', async () => {
    const registry = new ModuleRuntimeRegistry({ now });
    boot(registry.register('billing'));
    registry.register('billing').recordError(new Error('timeout'));
    await registry.writeSnapshot(file);
    const read = await ModuleRuntimeRegistry.readSnapshot(file);
    expect(read).toEqual(JSON.parse(JSON.stringify(registry.snapshot())));
    expect(read?.modules.billing?.lastError?.message).toBe('timeout');
    expect(await readModuleRuntimeSnapshot(path.join(root, 'none.json'))).toBeUndefined();
    await expect(registry.writeSnapshot()).rejects.toThrow(/needs a file/);
  });

  it('writes automatically after changes, coalescing bursts, and the last write wins', async () => {
    const registry = new ModuleRuntimeRegistry({ file, writeDelayMs: 0 });
    const runtimes = ['a', 'b', 'c'].map((name) => registry.register(name));
    for (const runtime of runtimes) boot(runtime);
    await registry.flush();
    let snapshot = (await readModuleRuntimeSnapshot(file)) as ModuleRuntimeRegistrySnapshot;
    expect(Object.values(snapshot.modules).map((m) => m.state)).toEqual([
      'running',
      'running',
      'running',
    ]);

    // Changes made while a write is in flight are written after it.
    runtimes[0]!.transition('stopping');
    await new Promise((resolve) => setImmediate(resolve));
    runtimes[0]!.transition('stopped');
    await registry.flush();
    snapshot = (await readModuleRuntimeSnapshot(file)) as ModuleRuntimeRegistrySnapshot;
    expect(snapshot.modules.a?.state).toBe('stopped');
    expect(await fs.readdir(path.dirname(file))).toEqual(['module-runtime.json']);
  });

  it('reports automatic write failures without throwing', async () => {
    const errors: unknown[] = [];
    // A file where the folder should be makes every write fail.
    await fs.writeFile(path.join(root, 'blocker'), '');
    const registry = new ModuleRuntimeRegistry({
      file: path.join(root, 'blocker', 'module-runtime.json'),
      writeDelayMs: 0,
      onWriteError: (error) => errors.push(error),
    });
    registry.register('a').transition('initializing');
    await registry.flush();
    expect(errors).toHaveLength(1);
    expect(String(errors[0])).toMatch(/EEXIST|ENOTDIR/);
  });

  it('refuses a corrupt snapshot, naming the file', async () => {
    const reason = async (content: string) => {
      await fs.mkdir(path.dirname(file), { recursive: true });
      await fs.writeFile(file, content);
      const error = await rejection(readModuleRuntimeSnapshot(file));
      expect(E_MODULE_RUNTIME_SNAPSHOT_CORRUPT.is(error)).toBe(true);
      expect(error.message).toContain(`Module runtime snapshot "${file}" is corrupt: `);
      return error.message.slice(error.message.indexOf('corrupt: ') + 9);
    };
    const base = { version: 1, pid: 1, writtenAt: 1 };
    const entry = {
      state: 'running',
      since: 1,
      uptime: 0,
      restartCount: 0,
      errorCount: 0,
      history: [],
    };
    expect(await reason('not json')).toMatch(/^it is not valid JSON/);
    expect(await reason('null')).toBe('the top level is not an object');
    expect(await reason('{"version":3}')).toBe('unsupported "version" 3');
    expect(await reason(JSON.stringify({ version: 1, pid: 'x', writtenAt: 1, modules: {} }))).toBe(
      '"pid" or "writtenAt" is not a number',
    );
    expect(await reason(JSON.stringify({ ...base, modules: 1 }))).toBe(
      '"modules" is not an object',
    );
    expect(await reason(JSON.stringify({ ...base, modules: { a: [] } }))).toBe(
      'the entry of "a" is not an object',
    );
    expect(
      await reason(JSON.stringify({ ...base, modules: { a: { ...entry, state: 'dancing' } } })),
    ).toBe('"modules.a.state" is not a module state');
    expect(
      await reason(JSON.stringify({ ...base, modules: { a: { ...entry, uptime: -1 } } })),
    ).toBe('"modules.a.uptime" is not a number');
    expect(
      await reason(JSON.stringify({ ...base, modules: { a: { ...entry, history: {} } } })),
    ).toBe('"modules.a.history" is not an array');
  });
});
