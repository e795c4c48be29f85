import { describe, expect, it } from 'vitest';
import { moduleFile } from '../../../test/support/fixture-app.js';
import { providerApps } from '../../../test/support/provider-app.js';
import { HttpProvider } from '../../http/index.js';
import { E_APP_KEY_INVALID, generateAppKey } from '../../kernel/index.js';
import { Encrypter } from './encrypter.js';
import { EncryptionProvider } from './encryption-provider.js';
import { E_ENCRYPTION_CONFIG_INVALID, E_ENCRYPTION_KEY_MISSING } from './errors.js';
import { readAppKeys } from './key-ring.js';
import { Signer } from './signer.js';

const apps = providerApps([EncryptionProvider]);

describe('EncryptionProvider', () => {
  it('binds encryption and signer from APP_KEY', async () => {
    const app = await apps.create({}, { APP_KEY: generateAppKey() });
    await app.boot();
    const encryption = app.make('encryption');
    expect(encryption).toBeInstanceOf(Encrypter);
    expect(app.make('signer')).toBeInstanceOf(Signer);
    expect(encryption.decrypt(encryption.encrypt('v'))).toBe('v');
  });

  it('keeps old values readable through APP_PREVIOUS_KEYS and app.previous_keys', async () => {
    const oldKey = generateAppKey();
    const before = await apps.create({}, { APP_KEY: oldKey });
    await before.boot();
    const token = before.make('encryption').encrypt('kept', { purpose: 'p' });
    const signed = before.make('signer').sign('kept');

    const viaEnv = await apps.create(
      {},
      { APP_KEY: generateAppKey(), APP_PREVIOUS_KEYS: ` ${generateAppKey()} , ${oldKey}` },
    );
    await viaEnv.boot();
    expect(viaEnv.make('encryption').decrypt(token, { purpose: 'p' })).toBe('kept');
    expect(viaEnv.make('signer').unsign(signed)).toBe('kept');

    const viaConfig = await apps.create(
      { 'config/app.ts': `export default { previous_keys: [${JSON.stringify(oldKey)}] }` },
      { APP_KEY: generateAppKey() },
    );
    await viaConfig.boot();
    expect(viaConfig.make('encryption').decrypt(token, { purpose: 'p' })).toBe('kept');
  });

  it('fails the boot on a malformed previous key, naming its position and not its value', async () => {
    const app = await apps.create(
      {},
      { APP_KEY: generateAppKey(), APP_PREVIOUS_KEYS: 'base64:nope' },
    );
    const failure = await app.boot().then(
      () => undefined,
      (error: unknown) => error,
    );
    const cause = rootCause(failure);
    expect(E_ENCRYPTION_CONFIG_INVALID.is(cause)).toBe(true);
    expect((cause as Error).message).toContain('APP_PREVIOUS_KEYS[0]');
    expect((cause as Error).message).not.toContain('nope');
  });

  it('says APP_KEY is missing when encryption is used without one', async () => {
    const app = await apps.create({}, {});
    await app.boot();
    expect(() => app.make('encryption')).toThrow(E_ENCRYPTION_KEY_MISSING);
    expect(() => app.make('signer')).toThrow(E_ENCRYPTION_KEY_MISSING);
  });

  it('makes signed cookies verify with previous keys', async () => {
    const oldKey = generateAppKey();
    const old = await apps.create(
      { 'modules/shop/module.ts': MODULE, 'modules/shop/routes.ts': ROUTES },
      { APP_KEY: oldKey },
      [HttpProvider, EncryptionProvider],
    );
    await old.boot();
    await old.start();
    const issued = await old.make('http').inject('/issue');
    const cookie = String(issued.headers['set-cookie']).split(';')[0] as string;

    const rotated = await apps.create(
      { 'modules/shop/module.ts': MODULE, 'modules/shop/routes.ts': ROUTES },
      { APP_KEY: generateAppKey(), APP_PREVIOUS_KEYS: oldKey },
      [HttpProvider, EncryptionProvider],
    );
    await rotated.boot();
    await rotated.start();
    const read = await rotated.make('http').inject({ url: '/read', headers: { cookie } });
    expect(read.json()).toEqual({ value: 'hello' });
    const stranger = await apps.create(
      { 'modules/shop/module.ts': MODULE, 'modules/shop/routes.ts': ROUTES },
      { APP_KEY: generateAppKey() },
      [HttpProvider, EncryptionProvider],
    );
    await stranger.boot();
    await stranger.start();
    const refused = await stranger.make('http').inject({ url: '/read', headers: { cookie } });
    expect(refused.json()).toEqual({});
  });
});

function rootCause(error: unknown): unknown {
  let current = error;
  while (current instanceof Error && current.cause !== undefined) current = current.cause;
  return current;
}

const MODULE = moduleFile(
  `{ name: 'shop', version: '1.0.0', routes: () => import('./routes.ts') }`,
);

const ROUTES = `
export default (router) => {
  router.get('/issue', (ctx) => { ctx.cookie('c', 'hello', { signed: true }); return { ok: true }; });
  router.get('/read', (ctx) => ({ value: ctx.signedCookie('c') }));
};
`;

describe('readAppKeys', () => {
  it('needs APP_KEY, skips blanks and duplicates, and rejects non-strings', () => {
    const current = generateAppKey();
    const prev = generateAppKey();
    expect(() => readAppKeys({ appKey: undefined })).toThrow(E_ENCRYPTION_KEY_MISSING);
    expect(() => readAppKeys({ appKey: '  ' })).toThrow(E_ENCRYPTION_KEY_MISSING);
    expect(() => readAppKeys({ appKey: 'base64:short' })).toThrow(E_APP_KEY_INVALID);
    const keys = readAppKeys({ appKey: current, envPrevious: `${prev},,${prev},${current}` });
    expect(keys.previous).toHaveLength(1);
    expect(() => readAppKeys({ appKey: current, configPrevious: [prev, 42] })).toThrow(
      /app\.previous_keys\[1\]/,
    );
    expect(() => readAppKeys({ appKey: current, configPrevious: { a: 1 } })).toThrow(
      E_ENCRYPTION_CONFIG_INVALID,
    );
  });
});
