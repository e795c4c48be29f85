import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Container } from '../container/index.js';
import { createNullLogger } from '../kernel/index.js';
import type { HttpContext } from './context.js';
import { createHttpApp, type HttpApp } from './http-app.js';
import { HttpKernel } from './http-kernel.js';
import { safeJoin, signCookieValue, unsignCookieValue } from './response.js';

let app: HttpApp;
let root: string;
let lateHeaderError: string | undefined;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'keel-response-'));
  await writeFile(join(root, 'hello.txt'), 'hello file');
  await writeFile(join(root, 'data.json'), '{"a":1}');
  await mkdir(join(root, 'sub'));
  await writeFile(join(root, 'sub', 'report "q1".csv'), 'a,b\n1,2\n');

  app = await createHttpApp();
  const r = app.router;
  r.get('/json', () => ({ ok: true, list: [1, 2] }));
  r.get('/array', () => [1, 'two']);
  r.get('/text', () => 'plain words');
  r.get('/html', () => '<p>hi</p>');
  r.get('/buffer', () => Buffer.from([0, 1, 2, 255]));
  r.get('/bytes', (ctx: HttpContext) => {
    ctx.setHeader('content-type', 'image/png');
    return new Uint8Array([137, 80, 78, 71]);
  });
  r.get('/undefined', () => undefined);
  r.get('/null', () => null);
  r.get('/status-empty', (ctx: HttpContext) => {
    ctx.status(202);
    return undefined;
  });
  r.get('/created', (ctx: HttpContext) => {
    ctx.status(201).setHeader('x-custom', ['a', 'b']);
    return { id: 7 };
  });
  r.get('/web', () => {
    const headers = new Headers({ 'content-type': 'text/csv', 'x-web': 'yes' });
    headers.append('set-cookie', 'a=1');
    headers.append('set-cookie', 'b=2');
    return new Response('x,y\n', { status: 203, headers });
  });
  r.get('/web-empty', () => new Response(null, { status: 304 }));
  r.get('/readable', () => Readable.from([Buffer.from('chunk1 '), Buffer.from('chunk2')]));
  r.get('/stream', (ctx: HttpContext) => ctx.stream(Readable.from(['<a/>']), 'text/xml', 206));
  r.get('/json-method', (ctx: HttpContext) => ctx.json({ via: 'json' }, 418));
  r.get('/text-method', (ctx: HttpContext) => ctx.status(409).text('conflict'));
  r.get('/html-method', (ctx: HttpContext) => ctx.html('<b>x</b>', 201));
  r.get('/json-undefined', (ctx: HttpContext) => ctx.json(undefined));
  r.get('/success', (ctx: HttpContext) => ctx.success([1], { page: 2 }, 201));
  r.get('/success-plain', (ctx: HttpContext) => ctx.success({ id: 1 }));
  r.get('/no-content', (ctx: HttpContext) => ctx.status(200).noContent());
  r.get('/redirect', (ctx: HttpContext) => ctx.redirect('/target path?q=ä'));
  r.get('/redirect-301', (ctx: HttpContext) => ctx.redirect('https://example.com/%E2%82%AC', 301));
  r.get('/cookies', (ctx: HttpContext) => {
    ctx.cookie('theme', 'dark', { maxAge: 60 }).cookie('lang', 'fr', { httpOnly: false });
    return 'ok';
  });
  r.get('/clear', (ctx: HttpContext) => {
    ctx.clearCookie('session', { path: '/app' });
    return 'ok';
  });
  r.get('/signed-without-key', (ctx: HttpContext) => {
    ctx.cookie('s', 'v', { signed: true });
    return 'unreachable';
  });
  r.get('/sse', (ctx: HttpContext) => {
    const stream = ctx.sse();
    stream.comment('hello\nworld');
    stream.send({ n: 1 }, { event: 'tick', id: '1', retry: 1500.7 });
    stream.send('line one\nline two\r\nline three', { event: 'multi\nline' });
    stream.close();
    expect(stream.closed).toBe(true);
    expect(stream.send('after close')).toBe(false);
    expect(stream.comment('after close')).toBe(false);
    stream.close();
  });
  r.get('/file', (ctx: HttpContext) =>
    ctx.file(String(ctx.query.name ?? ''), { root, maxAge: 300 }),
  );
  r.get('/file-default', (ctx: HttpContext) => ctx.file('package.json'));
  r.get('/download', (ctx: HttpContext) => ctx.download(String(ctx.query.name ?? ''), { root }));
  r.get('/download-named', (ctx: HttpContext) =>
    ctx.download('sub/report "q1".csv', { root, filename: 'ré\r\nport".csv' }),
  );
  r.get('/throw', () => {
    throw new Error('secret detail');
  });
  // Buffered headers: set through the context, then written raw, queried, removed, or
  // overtaken by an error.
  r.get('/raw-after-buffered', (ctx: HttpContext) => {
    ctx.setHeader('x-before', '1');
    const res = ctx.res;
    ctx.setHeader('x-after', '2');
    res.statusCode = 207;
    res.end('raw');
  });
  r.get('/header-queries', (ctx: HttpContext) => {
    ctx.setHeader('X-Mixed-Case', 'v').setHeader('x-gone', 'soon').setHeader('x-num', 5);
    ctx.removeHeader('X-GONE');
    return {
      mixed: ctx.getHeader('x-mixed-case'),
      has: ctx.hasHeader('X-Mixed-Case'),
      gone: ctx.hasHeader('x-gone'),
      num: ctx.getHeader('x-num'),
      missing: ctx.getHeader('x-missing') ?? null,
    };
  });
  r.get('/header-injection', (ctx: HttpContext) => {
    try {
      ctx.setHeader('x-bad', 'a\r\nset-cookie: evil=1');
    } catch (error) {
      return { code: (error as NodeJS.ErrnoException).code };
    }
    return { code: null };
  });
  r.get('/header-value-after-good', (ctx: HttpContext) => {
    // One name, a good value remembered, then values that must still be checked.
    const long = 'v'.repeat(300);
    const codes: unknown[] = [];
    for (const value of ['ok', 'ok', 'bad\r\nx: 1', long, long, `${long}\n`, 'ok', 'bad\0']) {
      try {
        ctx.setHeader('x-remembered', value);
        codes.push(null);
      } catch (error) {
        codes.push((error as NodeJS.ErrnoException).code);
      }
    }
    return { codes };
  });
  r.get('/header-bad-name', (ctx: HttpContext) => {
    const codes: unknown[] = [];
    for (const name of ['x bad', 'x bad', 'X-Good']) {
      try {
        ctx.setHeader(name, 'v');
        codes.push(null);
      } catch (error) {
        codes.push((error as NodeJS.ErrnoException).code);
      }
    }
    return { codes };
  });
  r.get('/header-many-names', (ctx: HttpContext) => {
    // More distinct names than the checked-name cache keeps: the rest are checked each time.
    for (let i = 0; i < 600; i++) ctx.setHeader(`X-Many-${i}`, String(i));
    try {
      ctx.setHeader('x many', 'v');
    } catch (error) {
      return { code: (error as NodeJS.ErrnoException).code };
    }
    return { code: null };
  });
  r.get('/headers-then-throw', (ctx: HttpContext) => {
    ctx.setHeader('x-frame-options', 'DENY');
    throw new Error('boom');
  });
  r.get('/empty-200', (ctx: HttpContext) => ctx.end());
  r.get('/header-after-send', (ctx: HttpContext) => {
    ctx.text('sent');
    try {
      ctx.setHeader('x-late', '1');
    } catch (error) {
      lateHeaderError = (error as NodeJS.ErrnoException).code;
    }
  });
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('handler return values', () => {
  it('serialises objects and arrays as JSON with a charset', async () => {
    const res = await app.inject('/json');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(res.json()).toEqual({ ok: true, list: [1, 2] });
    const arr = await app.inject('/array');
    expect(arr.json()).toEqual([1, 'two']);
  });

  it('sends strings as text/plain, and strings starting with < as HTML, both utf-8', async () => {
    const text = await app.inject('/text');
    expect(text.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(text.payload).toBe('plain words');
    const html = await app.inject('/html');
    expect(html.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(html.payload).toBe('<p>hi</p>');
  });

  it('sends Buffers as octet-stream and keeps a content type the handler set', async () => {
    const res = await app.inject('/buffer');
    expect(res.headers['content-type']).toBe('application/octet-stream');
    expect([...res.rawPayload]).toEqual([0, 1, 2, 255]);
    const png = await app.inject('/bytes');
    expect(png.headers['content-type']).toBe('image/png');
    expect([...png.rawPayload]).toEqual([137, 80, 78, 71]);
  });

  it('answers 204 for undefined and null, and an empty body with a status set', async () => {
    for (const url of ['/undefined', '/null']) {
      const res = await app.inject(url);
      expect(res.statusCode).toBe(204);
      expect(res.payload).toBe('');
    }
    const accepted = await app.inject('/status-empty');
    expect(accepted.statusCode).toBe(202);
    expect(accepted.payload).toBe('');
  });

  it('applies ctx.status() and ctx.setHeader() to a returned value', async () => {
    const res = await app.inject('/created');
    expect(res.statusCode).toBe(201);
    expect(res.headers['x-custom']).toEqual(['a', 'b']);
    expect(res.json()).toEqual({ id: 7 });
  });

  it('copies a returned web Response: status, headers, every Set-Cookie, body', async () => {
    const res = await app.inject('/web');
    expect(res.statusCode).toBe(203);
    expect(res.headers['content-type']).toBe('text/csv');
    expect(res.headers['x-web']).toBe('yes');
    expect(res.headers['set-cookie']).toEqual(['a=1', 'b=2']);
    expect(res.payload).toBe('x,y\n');
    const empty = await app.inject('/web-empty');
    expect(empty.statusCode).toBe(304);
    expect(empty.payload).toBe('');
  });

  it('pipes a returned Readable and ctx.stream() with a charset for text types', async () => {
    const res = await app.inject('/readable');
    expect(res.headers['content-type']).toBe('application/octet-stream');
    expect(res.payload).toBe('chunk1 chunk2');
    const xml = await app.inject('/stream');
    expect(xml.statusCode).toBe(206);
    expect(xml.headers['content-type']).toBe('text/xml; charset=utf-8');
    expect(xml.payload).toBe('<a/>');
  });

  it('never sends X-Powered-By', async () => {
    for (const url of ['/json', '/text', '/web', '/missing', '/throw']) {
      const res = await app.inject(url);
      expect(res.headers['x-powered-by']).toBeUndefined();
    }
  });
});

describe('ResponseBuilder methods', () => {
  it('json(), text() and html() take an explicit status or the one set', async () => {
    const json = await app.inject('/json-method');
    expect(json.statusCode).toBe(418);
    expect(json.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(json.json()).toEqual({ via: 'json' });
    const text = await app.inject('/text-method');
    expect(text.statusCode).toBe(409);
    expect(text.payload).toBe('conflict');
    const html = await app.inject('/html-method');
    expect(html.statusCode).toBe(201);
    expect(html.headers['content-type']).toBe('text/html; charset=utf-8');
  });

  it('json(undefined) sends the JSON literal null', async () => {
    const res = await app.inject('/json-undefined');
    expect(res.payload).toBe('null');
  });

  it('success() wraps data in an envelope, with meta when given', async () => {
    const res = await app.inject('/success');
    expect(res.statusCode).toBe(201);
    expect(res.json()).toEqual({ data: [1], meta: { page: 2 } });
    const plain = await app.inject('/success-plain');
    expect(plain.statusCode).toBe(200);
    expect(plain.json()).toEqual({ data: { id: 1 } });
  });

  it('noContent() answers 204 without a body', async () => {
    const res = await app.inject('/no-content');
    expect(res.statusCode).toBe(204);
    expect(res.payload).toBe('');
  });

  it('redirect() encodes the location and defaults to 302', async () => {
    const res = await app.inject('/redirect');
    expect(res.statusCode).toBe(302);
    expect(res.headers.location).toBe('/target%20path?q=%C3%A4');
    expect(res.payload).toBe('Redirecting to /target path?q=ä');
    const moved = await app.inject('/redirect-301');
    expect(moved.statusCode).toBe(301);
    // Already-encoded input is not double-encoded.
    expect(moved.headers.location).toBe('https://example.com/%E2%82%AC');
  });
});

describe('buffered headers', () => {
  it('hands buffered headers to the raw response when it is read, then writes through', async () => {
    const res = await app.inject('/raw-after-buffered');
    expect(res.statusCode).toBe(207);
    expect(res.headers['x-before']).toBe('1');
    expect(res.headers['x-after']).toBe('2');
    expect(res.payload).toBe('raw');
  });

  it('answers getHeader/hasHeader/removeHeader case-insensitively before sending', async () => {
    const res = await app.inject('/header-queries');
    expect(res.json()).toEqual({ mixed: 'v', has: true, gone: false, num: '5', missing: null });
    expect(res.headers['x-mixed-case']).toBe('v');
    expect(res.headers['x-gone']).toBeUndefined();
  });

  it('refuses a CR/LF in a header value when it is set', async () => {
    const res = await app.inject('/header-injection');
    expect(res.json()).toEqual({ code: 'ERR_INVALID_CHAR' });
    expect(res.headers['set-cookie']).toBeUndefined();
  });

  it('checks a name every time until it passed, and every value even under a checked name', async () => {
    for (let round = 0; round < 2; round++) {
      const bad = await app.inject('/header-bad-name');
      expect(bad.json()).toEqual({
        codes: ['ERR_INVALID_HTTP_TOKEN', 'ERR_INVALID_HTTP_TOKEN', null],
      });
      expect(bad.headers['x-good']).toBe('v');
      // `x-bad` passed its name check on the first round: its CR/LF value is still refused.
      const injected = await app.inject('/header-injection');
      expect(injected.json()).toEqual({ code: 'ERR_INVALID_CHAR' });
      expect(injected.headers['set-cookie']).toBeUndefined();
    }
  });

  it('checks each new value of a header even after an earlier value passed', async () => {
    for (let round = 0; round < 2; round++) {
      const res = await app.inject('/header-value-after-good');
      expect(res.json()).toEqual({
        codes: [
          null,
          null,
          'ERR_INVALID_CHAR',
          null,
          null,
          'ERR_INVALID_CHAR',
          null,
          'ERR_INVALID_CHAR',
        ],
      });
      // The last good value is the one sent.
      expect(res.headers['x-remembered']).toBe('ok');
    }
  });

  it('still sets and checks names once more distinct names were set than it caches', async () => {
    for (let round = 0; round < 2; round++) {
      const res = await app.inject('/header-many-names');
      expect(res.json()).toEqual({ code: 'ERR_INVALID_HTTP_TOKEN' });
      expect(res.headers['x-many-0']).toBe('0');
      expect(res.headers['x-many-599']).toBe('599');
    }
  });

  it('keeps headers set before an error on the problem response', async () => {
    const res = await app.inject('/headers-then-throw');
    expect(res.statusCode).toBe(500);
    expect(res.headers['x-frame-options']).toBe('DENY');
    expect(res.headers['x-request-id']).toEqual(expect.any(String));
    expect(res.headers['content-type']).toBe('application/problem+json; charset=utf-8');
  });

  it('sends an empty 200 with a zero Content-Length, not chunked', async () => {
    const res = await app.inject('/empty-200');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-length']).toBe('0');
    expect(res.headers['transfer-encoding']).toBeUndefined();
  });

  it('throws ERR_HTTP_HEADERS_SENT for a header set after sending', async () => {
    const res = await app.inject('/header-after-send');
    expect(res.payload).toBe('sent');
    expect(lateHeaderError).toBe('ERR_HTTP_HEADERS_SENT');
  });
});

describe('cookies', () => {
  it('appends one Set-Cookie per cookie with safe defaults', async () => {
    const res = await app.inject('/cookies');
    const cookies = res.headers['set-cookie'] as string[];
    expect(cookies).toHaveLength(2);
    expect(cookies[0]).toBe('theme=dark; Max-Age=60; Path=/; HttpOnly; SameSite=Lax');
    expect(cookies[1]).toBe('lang=fr; Path=/; SameSite=Lax');
  });

  it('clearCookie() expires the cookie with its path', async () => {
    const res = await app.inject('/clear');
    const cookie = String(res.headers['set-cookie']);
    expect(cookie).toMatch(/^session=; Max-Age=0; Path=\/app; Expires=Thu, 01 Jan 1970/);
  });

  it('a signed cookie without secrets is a server error, not an unsigned cookie', async () => {
    const res = await app.inject('/signed-without-key');
    expect(res.statusCode).toBe(500);
    expect(res.headers['set-cookie']).toBeUndefined();
  });

  it('signs cookies with the first secret; verification accepts any configured secret', async () => {
    const current = randomBytes(32);
    const previous = randomBytes(32);
    const kernel = new HttpKernel({
      container: new Container(),
      logger: createNullLogger(),
      cookieSecrets: [current, previous],
    });
    kernel.router.get('/login', (ctx: HttpContext) => {
      ctx.cookie('session', 'user-42', { signed: true });
      return 'ok';
    });
    kernel.router.get('/whoami', (ctx: HttpContext) => ({
      user: unsignCookieValue('session', ctx.cookies.session ?? '', [current, previous]) ?? null,
    }));
    const login = await kernel.inject('/login');
    const header = String(login.headers['set-cookie']);
    const value = decodeURIComponent(/^session=([^;]+)/.exec(header)![1]!);
    expect(value).toBe(signCookieValue('session', 'user-42', current));
    expect(value.startsWith('user-42.')).toBe(true);

    const me = await kernel.inject({ url: '/whoami', cookies: { session: value } });
    expect(me.json()).toEqual({ user: 'user-42' });
    // A cookie signed with the previous (rotated) key still verifies.
    const old = signCookieValue('session', 'user-7', previous);
    const again = await kernel.inject({ url: '/whoami', cookies: { session: old } });
    expect(again.json()).toEqual({ user: 'user-7' });
    const forged = await kernel.inject({
      url: '/whoami',
      cookies: { session: value.replace('user-42', 'user-1') },
    });
    expect(forged.json()).toEqual({ user: null });
  });
});

describe('unsignCookieValue', () => {
  const secret = Buffer.from('k'.repeat(32));

  it('returns the value for a matching signature', () => {
    const signed = signCookieValue('cart', 'a.b.c', secret);
    expect(unsignCookieValue('cart', signed, [secret])).toBe('a.b.c');
  });

  it('rejects a tampered value or signature', () => {
    const signed = signCookieValue('cart', 'abc', secret);
    expect(unsignCookieValue('cart', signed.replace('abc', 'abd'), [secret])).toBeUndefined();
    const mac = signed.slice(signed.lastIndexOf('.') + 1);
    const flipped = `${mac.slice(0, -1)}${mac.endsWith('A') ? 'B' : 'A'}`;
    expect(unsignCookieValue('cart', `abc.${flipped}`, [secret])).toBeUndefined();
    // Same length, different bytes: the constant-time comparison runs and says no.
    expect(unsignCookieValue('cart', `abc.${'x'.repeat(mac.length)}`, [secret])).toBeUndefined();
    // A truncated MAC differs in length and is refused before comparing.
    expect(unsignCookieValue('cart', signed.slice(0, -2), [secret])).toBeUndefined();
  });

  it('rejects a value signed for another cookie name (no swapping cookies)', () => {
    const signed = signCookieValue('role', 'admin', secret);
    expect(unsignCookieValue('role', signed, [secret])).toBe('admin');
    expect(unsignCookieValue('session', signed, [secret])).toBeUndefined();
  });

  it('rejects values without a signature and values signed with an unknown secret', () => {
    expect(unsignCookieValue('a', 'plain', [secret])).toBeUndefined();
    expect(unsignCookieValue('a', '.onlymac', [secret])).toBeUndefined();
    expect(unsignCookieValue('a', '', [secret])).toBeUndefined();
    const other = signCookieValue('a', 'v', randomBytes(32));
    expect(unsignCookieValue('a', other, [secret])).toBeUndefined();
    expect(unsignCookieValue('a', signCookieValue('a', 'v', secret), [])).toBeUndefined();
  });
});

describe('server-sent events', () => {
  it('streams events, multi-line data and comments as text/event-stream', async () => {
    const res = await app.inject('/sse');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(res.headers['cache-control']).toBe('no-cache, no-transform');
    expect(res.headers['x-accel-buffering']).toBe('no');
    expect(res.payload).toBe(
      [
        ': hello world',
        '',
        'event: tick',
        'id: 1',
        'retry: 1500',
        'data: {"n":1}',
        '',
        'event: multi line',
        'data: line one',
        'data: line two',
        'data: line three',
        '',
        '',
      ].join('\n'),
    );
  });
});

describe('file() and download()', () => {
  it('serves a file inside the root with type, length, caching and nosniff', async () => {
    const res = await app.inject('/file?name=hello.txt');
    expect(res.statusCode).toBe(200);
    expect(res.payload).toBe('hello file');
    expect(res.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(res.headers['content-length']).toBe('10');
    expect(res.headers['cache-control']).toBe('public, max-age=300');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['last-modified']).toMatch(/GMT$/);
    expect(res.headers['content-disposition']).toBeUndefined();
    const json = await app.inject('/file?name=data.json');
    expect(json.headers['content-type']).toBe('application/json; charset=utf-8');
  });

  it('defaults the root to the working directory', async () => {
    const res = await app.inject('/file-default');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ name: 'keel' });
  });

  it('answers HEAD with the headers and no body', async () => {
    const res = await app.inject({ method: 'HEAD', url: '/file?name=hello.txt' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-length']).toBe('10');
    expect(res.payload).toBe('');
  });

  it('download() sets an attachment with the file name, escaped, and a UTF-8 form', async () => {
    const res = await app.inject('/download?name=hello.txt');
    expect(res.headers['content-disposition']).toBe(
      `attachment; filename="hello.txt"; filename*=UTF-8''hello.txt`,
    );
    expect(res.payload).toBe('hello file');
    const named = await app.inject('/download-named');
    expect(named.headers['content-disposition']).toBe(
      `attachment; filename="ré__port_.csv"; filename*=UTF-8''r%C3%A9%0D%0Aport%22.csv`,
    );
    expect(named.payload).toBe('a,b\n1,2\n');
  });

  it.each([
    ['../', '../hello.txt'],
    ['../ to a sibling', '../../etc/passwd'],
    ['encoded %2e%2e/', '%2e%2e/%2e%2e/etc/passwd'],
    ['encoded %2e%2e%2f', '%2e%2e%2fsecret.txt'],
    ['a nested ../', 'sub/../../secret.txt'],
    ['absolute', '/etc/passwd'],
    ['a Windows drive', 'C:/Windows/win.ini'],
    ['a NUL byte', 'hello.txt\0.png'],
    ['the root itself', '.'],
  ])('refuses %s with 400 E_PATH_TRAVERSAL', async (_label, name) => {
    const res = await app.inject({ url: '/file', query: { name } });
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toBe('application/problem+json; charset=utf-8');
    const problem = res.json();
    expect(problem).toMatchObject({ status: 400, code: 'E_PATH_TRAVERSAL' });
    expect(problem.requestId).toBe(res.headers['x-request-id']);
    const dl = await app.inject({ url: '/download', query: { name } });
    expect(dl.statusCode).toBe(400);
    expect(dl.json().code).toBe('E_PATH_TRAVERSAL');
  });

  it('answers 404 E_FILE_NOT_FOUND for a missing file or a directory', async () => {
    for (const name of ['absent.txt', 'sub']) {
      const res = await app.inject({ url: '/file', query: { name } });
      expect(res.statusCode).toBe(404);
      expect(res.json()).toMatchObject({ status: 404, code: 'E_FILE_NOT_FOUND' });
    }
  });
});

describe('safeJoin', () => {
  it('resolves names inside the root', () => {
    expect(safeJoin('/srv/files', 'a/b.txt')).toBe(resolve('/srv/files/a/b.txt'));
    expect(safeJoin('/srv/files', 'a/../b.txt')).toBe(resolve('/srv/files/b.txt'));
    expect(safeJoin('/srv/files', 'caf%C3%A9.txt')).toBe(resolve('/srv/files/café.txt'));
    // A malformed escape is kept as written rather than throwing URIError.
    expect(safeJoin('/srv/files', '100%.txt')).toBe(resolve('/srv/files/100%.txt'));
  });

  it('refuses everything that leaves the root', () => {
    for (const name of ['..', '../x', 'a/../../x', '%2e%2e/x', '/abs', 'C:\\x', 'x\0', '']) {
      expect(() => safeJoin('/srv/files', name), name).toThrow(
        expect.objectContaining({ code: 'E_PATH_TRAVERSAL', status: 400 }),
      );
    }
  });

  it('names the refused path in the message, truncated', () => {
    expect(() => safeJoin('/srv', `../${'a'.repeat(500)}`)).toThrow(
      /leaves its root folder: "\.\.\/a+"$/,
    );
  });
});
