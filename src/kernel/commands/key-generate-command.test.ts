import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  ENV_KEYS,
  makeFixtureApp,
  removeFixtureApp,
  runKeel,
} from '../../modules/commands/__fixtures__/cli-fixture.js';
import { parseAppKey } from '../env/index.js';

const roots: string[] = [];
beforeAll(() => {
  for (const key of ENV_KEYS) vi.stubEnv(key, undefined);
});
afterEach(async () => {
  await Promise.all(roots.splice(0).map(removeFixtureApp));
});

async function app(env: string): Promise<{ root: string; env: () => string }> {
  const root = await makeFixtureApp({ '.env': env });
  roots.push(root);
  return { root, env: () => readFileSync(join(root, '.env'), 'utf8') };
}

const value = (text: string, key: string) => new RegExp(`^${key}=(.*)$`, 'm').exec(text)?.[1];

describe('keel key:generate', () => {
  it('--show prints a valid 32-byte key and writes nothing', async () => {
    const { root, env } = await app('APP_ENV=development\n');
    const result = await runKeel(root, 'key:generate', '--show', '--json');
    expect(result.code).toBe(0);
    const { key } = result.json<{ key: string }>();
    expect(parseAppKey(key)).toHaveLength(32);
    expect(env()).toBe('APP_ENV=development\n');
    const again = await runKeel(root, 'key:generate', '--show', '--json');
    expect(again.json<{ key: string }>().key).not.toBe(key);
  });

  it('fills an empty APP_KEY in .env, readable only by its owner', async () => {
    const { root, env } = await app('APP_ENV=development\nAPP_KEY=\nLOG_LEVEL=warn\n');
    expect((await runKeel(root, 'key:generate')).code).toBe(0);
    expect(parseAppKey(value(env(), 'APP_KEY')!)).toHaveLength(32);
    expect(value(env(), 'LOG_LEVEL')).toBe('warn');
    expect(statSync(join(root, '.env')).mode & 0o777).toBe(0o600);
  });

  it('refuses to replace a key unless told how, and --rotate keeps the old one first in APP_PREVIOUS_KEYS', async () => {
    const old = `base64:${Buffer.alloc(32, 7).toString('base64')}`;
    const older = `base64:${Buffer.alloc(32, 9).toString('base64')}`;
    const { root, env } = await app(`APP_KEY=${old}\nAPP_PREVIOUS_KEYS=${older}\n`);
    const refused = await runKeel(root, 'key:generate');
    expect(refused.code).toBe(1);
    expect(refused.stderr + refused.stdout).toContain('--rotate');
    expect(value(env(), 'APP_KEY')).toBe(old);

    expect((await runKeel(root, 'key:generate', '--rotate')).code).toBe(0);
    const rotated = value(env(), 'APP_KEY')!;
    expect(rotated).not.toBe(old);
    expect(value(env(), 'APP_PREVIOUS_KEYS')).toBe(`${old},${older}`);

    writeFileSync(join(root, '.env'), `APP_KEY=${rotated}\n`);
    expect((await runKeel(root, 'key:generate', '--force')).code).toBe(0);
    expect(value(env(), 'APP_KEY')).not.toBe(rotated);
    expect(value(env(), 'APP_PREVIOUS_KEYS')).toBeUndefined();
  });
});
