import { describe, expect, it } from 'vitest';
import { moduleFile } from '../../../test/support/fixture-app.js';
import { providerApps } from '../../../test/support/provider-app.js';
import { HttpProvider } from '../../http/index.js';
import { generateAppKey, parseAppKey } from '../../kernel/index.js';
import { appKeys } from '../encryption/index.js';
import { SignedUrlProvider } from './signed-url-provider.js';
import { UrlSigner } from './url-signer.js';

const keys = (current = generateAppKey(), ...previous: string[]) => ({
  current: parseAppKey(current),
  previous: previous.map(parseAppKey),
});

describe('UrlSigner', () => {
  it('signs a path and its query; any change to either is refused', () => {
    const signer = new UrlSigner({ keys: keys() });
    const link = signer.sign('/invoices/42/download?format=pdf');
    expect(link).toMatch(/^\/invoices\/42\/download\?format=pdf&signature=[A-Za-z0-9_-]{43}$/);
    expect(signer.check(link)).toBe('valid');
    for (const forged of [
      link.replace('/42/', '/43/'),
      link.replace('format=pdf', 'format=csv'),
      link.replace('format=pdf&', ''),
      `${link}&admin=1`,
      link.replace('?format=pdf&', '?admin=1&format=pdf&'),
      link.slice(0, -1) + (link.endsWith('A') ? 'B' : 'A'),
      link.replace(/signature=.*/, 'signature='),
      link.replace(/signature=.*/, `signature=${'x'.repeat(5000)}`),
      `${link}&signature=${link.split('signature=')[1]}`,
    ])
      expect(signer.check(forged), forged.slice(0, 120)).toBe('invalid');
    expect(signer.check('/invoices/42/download?format=pdf')).toBe('missing');
    expect(signer.check('/invoices/42/download')).toBe('missing');
  });

  it('expires a link after expiresIn, and an edited expiry breaks the signature', () => {
    let now = 1_800_000_000_000;
    const signer = new UrlSigner({ keys: keys(), now: () => now });
    const link = signer.sign('/unsubscribe/ann', { expiresIn: '1h' });
    expect(link).toMatch(/\?expires=1800003600&signature=/);
    expect(signer.check(link)).toBe('valid');
    expect(signer.check(link.replace('expires=1800003600', 'expires=1900003600'))).toBe('invalid');
    now += 3_600_000;
    expect(signer.check(link)).toBe('expired');
    // Re-signing replaces an old signature and expiry instead of stacking them.
    const again = signer.sign(link, { expiresIn: '1h' });
    expect(again.match(/signature=/g)).toHaveLength(1);
    expect(again.match(/expires=/g)).toHaveLength(1);
    expect(signer.check(again)).toBe('valid');
  });

  it('keeps verifying links of a previous key during a rotation, never those of another app', () => {
    const old = generateAppKey();
    const before = new UrlSigner({ keys: keys(old) }).sign('/files/7');
    const rotated = new UrlSigner({ keys: keys(generateAppKey(), old) });
    expect(rotated.check(before)).toBe('valid');
    expect(rotated.sign('/files/7')).not.toBe(before);
    expect(new UrlSigner({ keys: keys() }).check(before)).toBe('invalid');
  });
});

describe('signed middleware and url.signer', () => {
  const apps = providerApps([HttpProvider, SignedUrlProvider]);
  const ROUTES = `
export default (router) => {
  router.get('/invoices/:id/download', (ctx) => ({ id: ctx.params.id })).name('invoices.download').middleware(['signed']);
};
`;

  it('serves a signed link to a named route, and refuses a forged, unsigned or expired one with 403', async () => {
    const app = await apps.create(
      {
        'modules/shop/module.ts': moduleFile(
          `{ name: 'shop', version: '1.0.0', routes: () => import('./routes.ts') }`,
        ),
        'modules/shop/routes.ts': ROUTES,
      },
      { APP_KEY: generateAppKey() },
    );
    await app.boot();
    await app.start();
    const kernel = app.make('http');
    const urls = app.make('url.signer');
    const link = urls.route('invoices.download', { id: 42 }, { query: { format: 'pdf' } });
    expect(link).toMatch(/^\/invoices\/42\/download\?format=pdf&signature=/);
    expect((await kernel.inject(link)).json()).toEqual({ id: '42' });

    const forged = await kernel.inject(link.replace('/42/', '/43/'));
    expect(forged.statusCode).toBe(403);
    expect(forged.json()).toMatchObject({ code: 'E_URL_SIGNATURE_INVALID' });
    const unsigned = await kernel.inject('/invoices/42/download');
    expect(unsigned.json()).toMatchObject({ code: 'E_URL_SIGNATURE_INVALID' });
    // Issued yesterday for an hour, with the app's own keys.
    const yesterday = new UrlSigner({ keys: appKeys(app), now: () => Date.now() - 86_400_000 });
    const expired = yesterday.sign('/invoices/42/download', { expiresIn: '1h' });
    const late = await kernel.inject(expired);
    expect(late.statusCode).toBe(403);
    expect(late.json()).toMatchObject({ code: 'E_URL_SIGNATURE_EXPIRED' });
  });
});
