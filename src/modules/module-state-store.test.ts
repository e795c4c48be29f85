import fs from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isKeelError } from '../support/index.js';
import { fakeModule, makeTempDir, removeTempDir } from './__fixtures__/module-fixtures.js';
import { E_MODULE_STATE_CORRUPT } from './errors.js';
import { MAX_STATE_FILE_BYTES } from './json-file.js';
import { diffModuleState, emptyModuleState, ModuleStateStore } from './module-state-store.js';

let root: string;
let file: string;
beforeEach(async () => {
  root = await makeTempDir();
  file = path.join(root, 'var', 'state', 'modules.json');
});
afterEach(async () => {
  await removeTempDir(root);
});

async function corruptReason(content: string): Promise<string> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  await fs.writeFile(file, content);
  try {
    await new ModuleStateStore(file).read();
  } catch (error) {
    expect(E_MODULE_STATE_CORRUPT.is(error)).toBe(true);
    const message = (error as Error).message;
    expect(message).toContain(`Module state file "${file}" is corrupt: `);
    return message.slice(message.indexOf('corrupt: ') + 9);
  }
  throw new Error('expected the read to fail');
}

describe('ModuleStateStore', () => {
  it('reads an empty state when the file does not exist yet', async () => {
    const store = new ModuleStateStore(file);
    expect(await store.read()).toEqual({ version: 1, modules: {} });
    expect(await store.get('billing')).toBeUndefined();
  });

  it('writes pretty JSON with sorted keys, byte-stable whatever the insertion order', async () => {
    const store = new ModuleStateStore(file);
    await store.write({
      version: 1,
      modules: {
        zeta: { updatedAt: '2024-01-02T00:00:00.000Z', installedVersion: '1.0.0', enabled: true },
        alpha: { enabled: false },
      },
    });
    const first = await fs.readFile(file, 'utf8');
    expect(first).toBe(
      [
        '{',
        '  "modules": {',
        '    "alpha": {',
        '      "enabled": false',
        '    },',
        '    "zeta": {',
        '      "enabled": true,',
        '      "installedVersion": "1.0.0",',
        '      "updatedAt": "2024-01-02T00:00:00.000Z"',
        '    }',
        '  },',
        '  "version": 1',
        '}',
        '',
      ].join('\n'),
    );
    await store.write({
      modules: {
        alpha: { enabled: false },
        zeta: { enabled: true, installedVersion: '1.0.0', updatedAt: '2024-01-02T00:00:00.000Z' },
      },
      version: 1,
    });
    expect(await fs.readFile(file, 'utf8')).toBe(first);
    // Atomic writes leave no temporary file behind.
    expect(await fs.readdir(path.dirname(file))).toEqual(['modules.json']);
  });

  it('round-trips entries and merges patches with set()', async () => {
    const store = new ModuleStateStore(file);
    await store.set('billing', {
      enabled: true,
      installedVersion: '1.0.0',
      installedAt: '2024-05-01T10:00:00Z',
    });
    const entry = await store.set('billing', { installedVersion: '1.1.0' });
    expect(entry).toEqual({
      enabled: true,
      installedVersion: '1.1.0',
      installedAt: '2024-05-01T10:00:00Z',
    });
    expect(await new ModuleStateStore(file).get('billing')).toEqual(entry);
    expect(await store.set('new-one', {})).toEqual({ enabled: false });
  });

  it('serialises concurrent updates so none is lost', async () => {
    const store = new ModuleStateStore(file);
    await Promise.all(
      Array.from({ length: 20 }, (_, i) => store.set(`module-${i}`, { enabled: i % 2 === 0 })),
    );
    const state = await store.read();
    expect(Object.keys(state.modules)).toHaveLength(20);
    expect(state.modules['module-4']).toEqual({ enabled: true });
  });

  it('keeps working after a failed update', async () => {
    const store = new ModuleStateStore(file);
    await expect(
      store.update(() => {
        throw new Error('nope');
      }),
    ).rejects.toThrow('nope');
    await store.set('a', { enabled: true });
    expect(await store.get('a')).toEqual({ enabled: true });
  });

  it('refuses to write a state it could not read back', async () => {
    const store = new ModuleStateStore(file);
    await expect(store.set('Bad Name', { enabled: true })).rejects.toThrow(E_MODULE_STATE_CORRUPT);
    await expect(
      store.write({ version: 1, modules: { a: { enabled: true, installedVersion: 'one' } } }),
    ).rejects.toThrow('"modules.a.installedVersion" is not a semantic version');
    await expect(fs.stat(file)).rejects.toThrow(/ENOENT/);
  });

  it('reports a corrupt file, naming it and the way to recover, without resetting it', async () => {
    expect(await corruptReason('{"version": 1, "modules": {')).toMatch(/^it is not valid JSON \(/);
    expect(await fs.readFile(file, 'utf8')).toBe('{"version": 1, "modules": {');
    const error: unknown = await new ModuleStateStore(file).read().catch((e: unknown) => e);
    expect(isKeelError(error) && error.help).toMatch(
      /restore it from a backup.*onInstall hooks run/,
    );
  });

  it('names what is wrong in a malformed file', async () => {
    expect(await corruptReason('')).toBe('it is empty');
    expect(await corruptReason('[]')).toBe('the top level is not an object');
    expect(await corruptReason('{"version":2,"modules":{}}')).toBe(
      'unsupported "version" 2 (expected 1)',
    );
    expect(await corruptReason('{"modules":{}}')).toBe(
      'unsupported "version" undefined (expected 1)',
    );
    expect(await corruptReason('{"version":1,"modules":[]}')).toBe('"modules" is not an object');
    expect(await corruptReason('{"version":1,"modules":{"a":true}}')).toBe(
      'the entry of "a" is not an object',
    );
    expect(await corruptReason('{"version":1,"modules":{"a":{"enabled":"yes"}}}')).toBe(
      '"modules.a.enabled" is not a boolean',
    );
    expect(
      await corruptReason(
        '{"version":1,"modules":{"a":{"enabled":true,"installedVersion":"v1.0.0"}}}',
      ),
    ).toBe('"modules.a.installedVersion" is not a semantic version');
    expect(
      await corruptReason(
        '{"version":1,"modules":{"a":{"enabled":true,"installedAt":"yesterday"}}}',
      ),
    ).toBe('"modules.a.installedAt" is not a date');
  });

  it('refuses prototype-poisoning keys and oversized files', async () => {
    expect(await corruptReason('{"version":1,"modules":{"__proto__":{"enabled":true}}}')).toBe(
      '"__proto__" is not a valid module name',
    );
    const huge = `{"version":1,"modules":{},"pad":"${'x'.repeat(MAX_STATE_FILE_BYTES)}"}`;
    expect(await corruptReason(huge)).toMatch(
      /^it is \d+ bytes, more than the \d+ bytes a state file may hold$/,
    );
  });

  it('lets other file system errors through', async () => {
    await fs.mkdir(file, { recursive: true });
    await expect(new ModuleStateStore(file).read()).rejects.toThrow(/EISDIR/);
  });
});

describe('diff and reconcile', () => {
  const discovered = [
    fakeModule('billing', '1.2.0'),
    fakeModule('customers', '1.0.0'),
    fakeModule('audit', '1.0.0'),
    fakeModule('legacy', '1.0.0'),
    fakeModule('fresh', '0.1.0'),
  ];
  const state = {
    version: 1 as const,
    modules: {
      billing: { enabled: true, installedVersion: '1.1.9' },
      customers: { enabled: true, installedVersion: '1.0.0' },
      legacy: { enabled: false, installedVersion: '2.0.0' },
      fresh: { enabled: true },
      gone: { enabled: true, installedVersion: '1.0.0' },
    },
  };

  it('finds added, removed, upgraded and downgraded modules', () => {
    expect(diffModuleState(state, discovered)).toEqual({
      added: ['audit'],
      removed: ['gone'],
      upgraded: [{ name: 'billing', from: '1.1.9', to: '1.2.0' }],
      downgraded: [{ name: 'legacy', from: '2.0.0', to: '1.0.0' }],
    });
    expect(diffModuleState(emptyModuleState(), [])).toEqual({
      added: [],
      removed: [],
      upgraded: [],
      downgraded: [],
    });
  });

  it('diffs against the file and records new modules as enabled by default', async () => {
    const store = new ModuleStateStore(file);
    await store.write(state);
    expect((await store.diff(discovered)).added).toEqual(['audit']);
    const diff = await store.reconcile(discovered);
    expect(diff.removed).toEqual(['gone']);
    const after = await store.read();
    expect(after.modules.audit).toEqual({ enabled: true });
    expect(after.modules.gone).toBeDefined();
    expect((await store.diff(discovered)).added).toEqual([]);
  });

  it('can record new modules as disabled and prune removed ones', async () => {
    const store = new ModuleStateStore(file);
    await store.write(state);
    await store.reconcile(discovered, { enableNew: false, prune: true });
    const after = await store.read();
    expect(after.modules.audit).toEqual({ enabled: false });
    expect(after.modules.gone).toBeUndefined();
  });
});
