import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { KeelError } from '../../support/index.js';
import { get } from './__fixtures__/http-get.js';
import { HttpServer } from './http-server.js';
import {
  createTrustResolver,
  type ForwardedRequest,
  normalizeIp,
  type TrustProxy,
} from './trusted-proxies.js';

function req(
  remoteAddress: string | undefined,
  headers: IncomingHttpHeaders = {},
  encrypted = false,
): ForwardedRequest {
  return { headers, socket: { remoteAddress, encrypted } };
}

function invalid(trust: TrustProxy): KeelError {
  try {
    createTrustResolver(trust);
  } catch (error) {
    if (error instanceof KeelError) return error;
    throw error;
  }
  throw new Error('expected the trust setting to be refused');
}

const spoofed = {
  'x-forwarded-for': '6.6.6.6',
  'x-forwarded-proto': 'https',
  'x-forwarded-host': 'evil.example',
  host: 'app.example',
};

describe('createTrustResolver: untrusted peers', () => {
  it('ignores every X-Forwarded header by default', () => {
    const proxies = createTrustResolver();
    const r = req('203.0.113.9', spoofed);
    expect(proxies.clientIp(r)).toBe('203.0.113.9');
    expect(proxies.protocol(r)).toBe('http');
    expect(proxies.host(r)).toBe('app.example');
  });

  it('ignores headers from a peer outside the trusted ranges', () => {
    const proxies = createTrustResolver(['10.0.0.0/8', 'loopback']);
    const r = req('198.51.100.4', spoofed);
    expect(proxies.clientIp(r)).toBe('198.51.100.4');
    expect(proxies.protocol(r)).toBe('http');
    expect(proxies.host(r)).toBe('app.example');
  });

  it('reports https for a TLS socket whatever the headers say', () => {
    const proxies = createTrustResolver(false);
    expect(proxies.protocol(req('198.51.100.4', { 'x-forwarded-proto': 'http' }, true))).toBe(
      'https',
    );
  });

  it('stops at the first untrusted hop: a client cannot prepend addresses', () => {
    // The client sent "X-Forwarded-For: 1.1.1.1"; the trusted proxy 10.0.0.2 appended the
    // real client, 203.0.113.5. Everything left of that is the client's own claim.
    const proxies = createTrustResolver('10.0.0.0/8');
    const r = req('10.0.0.2', { 'x-forwarded-for': '1.1.1.1, 203.0.113.5' });
    expect(proxies.clientIp(r)).toBe('203.0.113.5');
  });
});

describe('createTrustResolver: trusted peers', () => {
  it('believes a trusted IPv4 proxy', () => {
    const proxies = createTrustResolver('loopback');
    const r = req('127.0.0.1', {
      'x-forwarded-for': '203.0.113.7',
      'x-forwarded-proto': 'HTTPS',
      'x-forwarded-host': 'shop.example:8443',
      host: 'internal:3000',
    });
    expect(proxies.clientIp(r)).toBe('203.0.113.7');
    expect(proxies.protocol(r)).toBe('https');
    expect(proxies.host(r)).toBe('shop.example:8443');
    expect(proxies.hostname(r)).toBe('shop.example');
  });

  it('walks a chain of trusted proxies', () => {
    const proxies = createTrustResolver(['10.0.0.0/8', '172.16.0.0/12']);
    const r = req('10.0.0.1', { 'x-forwarded-for': '203.0.113.1, 172.16.5.4, 10.1.1.1' });
    expect(proxies.clientIp(r)).toBe('203.0.113.1');
  });

  it('returns the last proxy when every hop is trusted and the chain ends in proxies', () => {
    const proxies = createTrustResolver('10.0.0.0/8');
    const r = req('10.0.0.1', { 'x-forwarded-for': '10.2.2.2, 10.3.3.3' });
    expect(proxies.clientIp(r)).toBe('10.2.2.2');
  });

  it('trusts a number of hops', () => {
    const r = req('10.0.0.1', { 'x-forwarded-for': '203.0.113.1, 198.51.100.2, 192.0.2.3' });
    expect(createTrustResolver(0).clientIp(r)).toBe('10.0.0.1');
    expect(createTrustResolver(1).clientIp(r)).toBe('192.0.2.3');
    expect(createTrustResolver(2).clientIp(r)).toBe('198.51.100.2');
    expect(createTrustResolver(9).clientIp(r)).toBe('203.0.113.1');
    expect(createTrustResolver(0).protocol(req('10.0.0.1', spoofed))).toBe('http');
    expect(createTrustResolver(1).protocol(req('10.0.0.1', spoofed))).toBe('https');
  });

  it('trusts everything with true: the leftmost address wins', () => {
    const proxies = createTrustResolver(true);
    const r = req('198.51.100.1', { 'x-forwarded-for': '203.0.113.1, 198.51.100.2' });
    expect(proxies.clientIp(r)).toBe('203.0.113.1');
  });

  it('handles IPv6 peers and ranges', () => {
    const proxies = createTrustResolver(['fd00::/8', '::1']);
    expect(proxies.clientIp(req('fd12:3456::1', { 'x-forwarded-for': '2001:DB8::1' }))).toBe(
      '2001:db8::1',
    );
    expect(proxies.clientIp(req('::1', { 'x-forwarded-for': '203.0.113.4' }))).toBe('203.0.113.4');
    expect(proxies.clientIp(req('2001:db8::9', { 'x-forwarded-for': '203.0.113.4' }))).toBe(
      '2001:db8::9',
    );
    expect(proxies.host(req('::1', { 'x-forwarded-host': '[2001:db8::1]:8080' }))).toBe(
      '[2001:db8::1]:8080',
    );
    expect(proxies.hostname(req('::1', { 'x-forwarded-host': '[2001:db8::1]:8080' }))).toBe(
      '[2001:db8::1]',
    );
  });

  it('matches IPv4-mapped IPv6 peers against IPv4 ranges and reports them as IPv4', () => {
    const proxies = createTrustResolver('127.0.0.0/8');
    const r = req('::ffff:127.0.0.1', { 'x-forwarded-for': '::ffff:203.0.113.8' });
    expect(proxies.clientIp(r)).toBe('203.0.113.8');
    expect(proxies.isTrusted('::ffff:127.0.0.1')).toBe(true);
    expect(createTrustResolver().clientIp(req('::ffff:198.51.100.3'))).toBe('198.51.100.3');
  });

  it('takes the first value of a listed X-Forwarded-Proto and -Host', () => {
    const proxies = createTrustResolver('loopback');
    const r = req('127.0.0.1', {
      'x-forwarded-proto': 'https, http',
      'x-forwarded-host': 'a.example, b.example',
    });
    expect(proxies.protocol(r)).toBe('https');
    expect(proxies.host(r)).toBe('a.example');
  });

  it('ignores an unknown X-Forwarded-Proto and an invalid X-Forwarded-Host', () => {
    const proxies = createTrustResolver('loopback');
    const r = req('127.0.0.1', {
      'x-forwarded-proto': 'javascript',
      'x-forwarded-host': 'evil.example/<script>',
      host: 'app.example',
    });
    expect(proxies.protocol(r)).toBe('http');
    expect(proxies.host(r)).toBe('app.example');
    expect(proxies.host(req('127.0.0.1', { host: 'bad host' }))).toBeUndefined();
    expect(proxies.hostname(req('127.0.0.1'))).toBeUndefined();
    expect(proxies.protocol(req('127.0.0.1'))).toBe('http');
  });

  it('skips X-Forwarded-For entries that are not addresses and strips ports', () => {
    const proxies = createTrustResolver(true);
    expect(proxies.clientIp(req('10.0.0.1', { 'x-forwarded-for': 'unknown, 10.0.0.9' }))).toBe(
      '10.0.0.9',
    );
    expect(proxies.clientIp(req('10.0.0.1', { 'x-forwarded-for': '203.0.113.2:51234' }))).toBe(
      '203.0.113.2',
    );
    expect(proxies.clientIp(req('10.0.0.1', { 'x-forwarded-for': '[2001:db8::2]:443' }))).toBe(
      '2001:db8::2',
    );
    expect(
      proxies.clientIp(req('10.0.0.1', { 'x-forwarded-for': ['203.0.113.3', '10.0.0.2'] })),
    ).toBe('203.0.113.3');
    expect(proxies.clientIp(req('10.0.0.1', { 'x-forwarded-for': ', , ' }))).toBe('10.0.0.1');
  });

  it('returns a socket address that is not an IP as it is', () => {
    expect(
      createTrustResolver(true).clientIp(req('/run/keel.sock', { 'x-forwarded-for': 'x' })),
    ).toBe('/run/keel.sock');
  });

  it('returns an empty address once the socket is gone', () => {
    const proxies = createTrustResolver(true);
    expect(proxies.clientIp(req(undefined, spoofed))).toBe('');
    expect(proxies.protocol(req(undefined, spoofed))).toBe('http');
    expect(proxies.host(req(undefined, spoofed))).toBe('app.example');
  });

  it('accepts a comma-separated string and named ranges', () => {
    const proxies = createTrustResolver(
      'loopback, linklocal, uniquelocal, 192.0.2.0/255.255.255.0',
    );
    expect(proxies.isTrusted('127.0.0.2')).toBe(true);
    expect(proxies.isTrusted('169.254.1.1')).toBe(true);
    expect(proxies.isTrusted('fc00::1')).toBe(true);
    expect(proxies.isTrusted('192.0.2.200')).toBe(true);
    expect(proxies.isTrusted('8.8.8.8')).toBe(false);
    expect(proxies.isTrusted('not an ip')).toBe(false);
  });

  it('types a Node request as a forwarded request', () => {
    expectTypeOf<IncomingMessage>().toMatchTypeOf<ForwardedRequest>();
    expectTypeOf(createTrustResolver().protocol).returns.toEqualTypeOf<'http' | 'https'>();
  });
});

describe('createTrustResolver: invalid settings', () => {
  it.each<[string, TrustProxy, string]>([
    ['a malformed address', '10.0.0.300', 'invalid IP address: 10.0.0.300'],
    ['a prefix too long', '10.0.0.0/33', 'invalid range on address: 10.0.0.0/33'],
    ['an IPv6 prefix too long', ['fd00::/129'], 'invalid range on address'],
    ['an unknown name', ['loopbak'], 'did you mean "loopback"?'],
    ['a host name', 'proxy.internal', 'invalid IP address: proxy.internal'],
    ['an empty array entry', [''], 'expected an address'],
    ['a negative hop count', -1, 'a hop count is a whole number from 0'],
    ['a fractional hop count', 1.5, 'a hop count is a whole number from 0'],
    ['a non-string entry', [42 as unknown as string], 'expected an address'],
    ['an object', {} as unknown as TrustProxy, 'expected a boolean, a number'],
  ])('refuses %s with E_INVALID_TRUSTED_PROXY', (_name, trust, reason) => {
    const error = invalid(trust);
    expect(error.code).toBe('E_INVALID_TRUSTED_PROXY');
    expect(error.message).toContain(reason);
  });

  it('names the bad entry in a list', () => {
    const error = invalid(['10.0.0.0/8', '300.1.1.1', 'loopback']);
    expect(error.message).toMatch(/^Invalid trusted proxy "300\.1\.1\.1"/);
    expect(error.details).toEqual({ entry: '300.1.1.1', reason: 'invalid IP address: 300.1.1.1' });
  });
});

describe('normalizeIp', () => {
  it('normalizes address forms and refuses the rest', () => {
    expect(normalizeIp(' 192.0.2.1 ')).toBe('192.0.2.1');
    expect(normalizeIp('::FFFF:192.0.2.1')).toBe('192.0.2.1');
    expect(normalizeIp('[::1]')).toBe('::1');
    expect(normalizeIp('2001:DB8::A')).toBe('2001:db8::a');
    expect(normalizeIp('unknown')).toBeUndefined();
    expect(normalizeIp('_hidden')).toBeUndefined();
    expect(normalizeIp('999.1.1.1')).toBeUndefined();
  });
});

describe('createTrustResolver on a real request', () => {
  it('reads a Node IncomingMessage', async () => {
    const seen: Array<[string, string, string | undefined]> = [];
    const trusted = createTrustResolver('loopback');
    const untrusted = createTrustResolver(false);
    const server = new HttpServer(
      (req, res) => {
        seen.push([trusted.clientIp(req), trusted.protocol(req), trusted.host(req)]);
        seen.push([untrusted.clientIp(req), untrusted.protocol(req), untrusted.host(req)]);
        res.end();
      },
      { port: 0 },
    );
    const { port } = await server.listen();
    try {
      await get(port, '/', {
        headers: {
          'x-forwarded-for': '203.0.113.50',
          'x-forwarded-proto': 'https',
          'x-forwarded-host': 'shop.example',
        },
      });
    } finally {
      await server.close({ timeout: 0 });
    }
    expect(seen).toEqual([
      ['203.0.113.50', 'https', 'shop.example'],
      ['127.0.0.1', 'http', `127.0.0.1:${port}`],
    ]);
  });
});

describe('createTrustResolver: the peer address of a connection', () => {
  it('normalizes it once per connection and follows a connection whose address changes', () => {
    const resolver = createTrustResolver(false);
    const socket = { remoteAddress: '::ffff:203.0.113.7', encrypted: false };
    const request = { headers: { 'x-forwarded-for': '198.51.100.1' }, socket };
    expect(resolver.clientIp(request as never)).toBe('203.0.113.7');
    expect(resolver.clientIp(request as never)).toBe('203.0.113.7');
    socket.remoteAddress = '2001:DB8::1';
    expect(resolver.clientIp(request as never)).toBe('2001:db8::1');
  });

  it('still reads the forwarded chain from a trusted peer on the same connection', () => {
    const resolver = createTrustResolver('loopback');
    const request = req('127.0.0.1');
    expect(resolver.clientIp(request as never)).toBe('127.0.0.1');
    request.headers['x-forwarded-for'] = '203.0.113.9';
    expect(resolver.clientIp(request as never)).toBe('203.0.113.9');
  });
});
