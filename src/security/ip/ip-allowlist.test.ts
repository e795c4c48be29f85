import { describe, expect, it } from 'vitest';
import type { Application } from '../../kernel/index.js';
import { bootError, securityApps } from '../__fixtures__/security-middleware-app.js';
import { compileIpLists } from './ip-allowlist.js';
import { compileIpMatcher, InvalidIpEntry, isLoopbackIp } from './ip-matcher.js';

const start = securityApps();

describe('compileIpMatcher', () => {
  const office = compileIpMatcher(['10.0.0.0/8', '192.168.1.7', '2001:db8::/32', 'fd00::/8']);

  it('matches IPv4 and IPv6 addresses and CIDR ranges', () => {
    expect(office('10.255.0.1')).toBe(true);
    expect(office('192.168.1.7')).toBe(true);
    expect(office('192.168.1.8')).toBe(false);
    expect(office('11.0.0.1')).toBe(false);
    expect(office('2001:db8:1::42')).toBe(true);
    expect(office('2001:DB8::1')).toBe(true);
    expect(office('2001:db9::1')).toBe(false);
    expect(office('fd12:3456::1')).toBe(true);
  });

  it('matches IPv4-mapped IPv6 addresses against IPv4 ranges, and the other way round', () => {
    expect(office('::ffff:10.1.2.3')).toBe(true);
    expect(office('::ffff:11.1.2.3')).toBe(false);
    const mapped = compileIpMatcher(['::ffff:172.16.0.0/108']);
    expect(mapped('172.16.5.5')).toBe(true);
    expect(mapped('172.32.0.1')).toBe(false);
  });

  it('never matches what is not a strict IP literal', () => {
    const all = compileIpMatcher(['0.0.0.0/1', '128.0.0.0/1', '::/1', '8000::/1']);
    for (const address of [
      '',
      'localhost',
      '0x7f.1',
      '127.1',
      '10.0.0.1:80',
      '[::1]',
      ' 10.0.0.1',
      '999.1.1.1',
    ]) {
      expect(all(address), JSON.stringify(address)).toBe(false);
    }
    expect(all('203.0.113.9')).toBe(true);
    expect(all('2001:db8::9')).toBe(true);
  });

  it('knows loopback in every spelling', () => {
    for (const address of ['127.0.0.1', '127.8.9.10', '::1', '0:0:0:0:0:0:0:1', '::ffff:127.0.0.1'])
      expect(isLoopbackIp(address), address).toBe(true);
    for (const address of ['128.0.0.1', '::2', '::ffff:10.0.0.1', 'localhost'])
      expect(isLoopbackIp(address), address).toBe(false);
  });

  it('refuses an entry it cannot parse, naming it', () => {
    for (const entry of ['10.0.0.0/33', 'office', '2001:db8::/129', '', '10.0.0.0/255.0.255.0']) {
      expect(() => compileIpMatcher([entry]), entry).toThrow(InvalidIpEntry);
    }
    expect(() => compileIpMatcher(['10.0.0.1', 'nope'])).toThrow(/"nope" is not an address/);
  });

  it('compiles named lists, naming the bad key', () => {
    const lists = compileIpLists({ lists: { vpn: ['10.8.0.0/16'] } });
    expect(lists.get('vpn')?.('10.8.1.1')).toBe(true);
    const keyOf = (config: unknown) => {
      try {
        compileIpLists(config);
      } catch (error) {
        return (error as { details: { key: string } }).details.key;
      }
      return undefined;
    };
    expect(keyOf({ lists: { vpn: ['10.8.0.0/40'] } })).toBe('security.ip.lists.vpn');
    expect(keyOf({ lists: { vpn: [] } })).toBe('security.ip.lists.vpn');
    expect(keyOf({ lists: { 'a b': ['10.0.0.1'] } })).toBe('security.ip.lists.a b');
    expect(keyOf({ list: {} })).toBe('security.ip.list');
    expect(keyOf([])).toBe('security.ip');
  });
});

describe('allow_ip middleware', () => {
  const config = `{ ip: { lists: { office: ['10.0.0.0/8', '2001:db8::/32'], vpn: ['172.16.0.0/12'] } } }`;

  async function app(middleware: string): Promise<Application> {
    return start(config, (r) => r.get('/admin', () => ({ ok: true })).middleware(middleware));
  }

  const from = (target: Application, remoteAddress: string, headers: Record<string, string> = {}) =>
    target.make('http').inject({ url: '/admin', remoteAddress, headers });

  it('lets listed IPv4, IPv6 and IPv4-mapped clients in and refuses others with 403 problem+json', async () => {
    const target = await app('allow_ip:office');
    expect((await from(target, '10.1.2.3')).statusCode).toBe(200);
    expect((await from(target, '2001:db8::7')).statusCode).toBe(200);
    expect((await from(target, '::ffff:10.9.9.9')).statusCode).toBe(200);
    const refused = await from(target, '203.0.113.9');
    expect(refused.statusCode).toBe(403);
    expect(refused.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(refused.json()).toMatchObject({ code: 'E_IP_FORBIDDEN', status: 403 });
    expect((await from(target, '2001:db9::7')).statusCode).toBe(403);
    expect((await from(target, '::ffff:11.0.0.1')).statusCode).toBe(403);
  });

  it('judges the forwarded client behind a trusted proxy, and ignores X-Forwarded-For from anyone else', async () => {
    const target = await app('allow_ip:office');
    // The in-process client's peer is 127.0.0.1, a trusted proxy in these apps.
    expect((await from(target, '127.0.0.1', { 'x-forwarded-for': '10.4.4.4' })).statusCode).toBe(
      200,
    );
    expect((await from(target, '127.0.0.1', { 'x-forwarded-for': '203.0.113.9' })).statusCode).toBe(
      403,
    );
    // An untrusted client cannot claim an office address.
    expect((await from(target, '203.0.113.9', { 'x-forwarded-for': '10.4.4.4' })).statusCode).toBe(
      403,
    );
  });

  it('combines list names and literal ranges, IPv6 ones included', async () => {
    const target = await app('allow_ip:vpn,fe80::/10,192.0.2.1');
    expect((await from(target, '172.20.0.1')).statusCode).toBe(200);
    expect((await from(target, 'fe80::1')).statusCode).toBe(200);
    expect((await from(target, '192.0.2.1')).statusCode).toBe(200);
    expect((await from(target, '10.1.2.3')).statusCode).toBe(403);
  });

  it('fails the boot on an unknown list, suggesting the nearest, and on a bad range', async () => {
    const unknown = await bootError(app('allow_ip:ofice'), 'E_SECURITY_CONFIG_INVALID');
    expect(unknown.message).toMatch(/no list "ofice".*did you mean "office"/);
    const bad = await bootError(app('allow_ip:10.0.0.0/99'), 'E_SECURITY_CONFIG_INVALID');
    expect(bad.message).toContain('10.0.0.0/99');
    const empty = await bootError(app('allow_ip'), 'E_SECURITY_CONFIG_INVALID');
    expect(empty.message).toContain('allow_ip');
  });
});
