import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from './__fixtures__/test-server.js';
import type { BodyOptions } from './body-options.js';
import type { ParsedBody } from './body-parser.js';
import { BodyReader } from './body-reader.js';

let server: TestServer | undefined;
const dirs: string[] = [];

afterEach(async () => {
  await server?.close();
  server = undefined;
  for (const dir of dirs.splice(0)) await fs.rm(dir, { recursive: true, force: true });
});

async function tempDir(): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'keel-body-reader-'));
  dirs.push(dir);
  return dir;
}

/** Run `use` against a BodyReader on the server; resolve with what it returned or threw. */
async function withReader<T>(
  use: (reader: BodyReader) => Promise<T>,
  request: RequestInit,
  options?: BodyOptions,
): Promise<{ value?: T; error?: unknown; response: Response }> {
  let settle!: (result: { value?: T; error?: unknown }) => void;
  const settled = new Promise<{ value?: T; error?: unknown }>((resolve) => {
    settle = resolve;
  });
  server = await startServer(async (req) => {
    const reader = new BodyReader(req, options);
    try {
      const value = await use(reader);
      settle({ value });
    } catch (error) {
      settle({ error });
      throw error;
    }
    return { kind: 'none' } satisfies ParsedBody;
  });
  const response = await fetch(server.url, { method: 'POST', ...request });
  return { ...(await settled), response };
}

const jsonRequest = (body: string): RequestInit => ({
  body,
  headers: { 'content-type': 'application/json' },
});

describe('BodyReader', () => {
  it('returns the same promise from every parse() call', async () => {
    const { value } = await withReader(async (reader) => {
      const first = reader.parse();
      const second = reader.parse();
      return { same: first === second, body: await second, again: await reader.parse() };
    }, jsonRequest('{"a":1}'));
    expect(value?.same).toBe(true);
    expect(value?.body).toEqual({ kind: 'json', data: { a: 1 } });
    expect(value?.again).toBe(value?.body);
  });

  it('parses the bytes raw() already read', async () => {
    const { value } = await withReader(async (reader) => {
      const bytes = await reader.raw();
      const again = reader.raw();
      return {
        text: bytes.toString(),
        body: await reader.parse(),
        same: again === reader.raw(),
      };
    }, jsonRequest('{"signed":true}'));
    expect(value).toEqual({
      text: '{"signed":true}',
      body: { kind: 'json', data: { signed: true } },
      same: true,
    });
  });

  it('answers raw() after parse() with the bytes parse() read', async () => {
    const { value } = await withReader(async (reader) => {
      const body = await reader.parse();
      return { body, text: (await reader.raw()).toString() };
    }, jsonRequest('{"late":1}'));
    expect(value).toEqual({ body: { kind: 'json', data: { late: 1 } }, text: '{"late":1}' });
  });

  it('shares one read between concurrent raw() and parse()', async () => {
    const { value } = await withReader(
      async (reader) => {
        const [body, bytes] = await Promise.all([reader.parse(), reader.raw()]);
        return { body, bytes: [...bytes] };
      },
      { body: new Uint8Array([1, 2, 3]), headers: { 'content-type': 'application/octet-stream' } },
    );
    expect(value?.bytes).toEqual([1, 2, 3]);
    expect(value?.body.kind).toBe('raw');
  });

  it('bounds raw() by the limit of the Content-Type, or the raw limit', async () => {
    const json = await withReader((reader) => reader.raw(), jsonRequest('"more than ten"'), {
      limits: { json: 10 },
    });
    expect(json.response.status).toBe(413);
    expect(json.error).toMatchObject({ code: 'E_BODY_TOO_LARGE', details: { kind: 'json' } });
    await server!.close();

    const xml = await withReader(
      (reader) => reader.raw(),
      { body: '<a>more than ten</a>', headers: { 'content-type': 'application/xml' } },
      { limits: { raw: 10 } },
    );
    expect(xml.error).toMatchObject({ code: 'E_BODY_TOO_LARGE', details: { kind: 'raw' } });
  });

  it('refuses an unsupported type on parse() even after raw()', async () => {
    const { value, error } = await withReader(
      async (reader) => {
        const bytes = await reader.raw();
        return { bytes: bytes.length, body: await reader.parse() };
      },
      { body: '<a/>', headers: { 'content-type': 'application/xml' } },
    );
    expect(value).toBeUndefined();
    expect(error).toMatchObject({ code: 'E_UNSUPPORTED_MEDIA_TYPE' });
  });

  it('gives kind "none" and empty bytes for a request without a body', async () => {
    const { value } = await withReader(async (reader) => {
      const bytes = await reader.raw();
      return { length: bytes.length, body: await reader.parse() };
    }, {});
    expect(value).toEqual({ length: 0, body: { kind: 'none' } });
  });

  it('streams multipart in parse(), after which raw() is refused', async () => {
    const tmpDir = await tempDir();
    const form = new FormData();
    form.append('f', new File(['streamed'], 'a.txt'));
    const { value } = await withReader(
      async (reader) => {
        const body = await reader.parse();
        const raw = await reader.raw().catch((error: unknown) => error);
        const files = reader.files.map((file) => file.path);
        const existed = files.map((file) => existsSync(file));
        await reader.cleanup();
        return { kind: body.kind, raw, existed, after: files.map((file) => existsSync(file)) };
      },
      { body: form },
      { limits: { multipart: { tmpDir } } },
    );
    expect(value?.kind).toBe('multipart');
    expect(value?.raw).toMatchObject({ code: 'E_BODY_CONSUMED', status: 500 });
    expect(value?.existed).toEqual([true]);
    expect(value?.after).toEqual([false]);
  });

  it('parses multipart from bytes raw() read first', async () => {
    const tmpDir = await tempDir();
    const form = new FormData();
    form.append('note', 'hi');
    form.append('f', new File(['from bytes'], 'b.txt'));
    const { value } = await withReader(
      async (reader) => {
        await reader.raw();
        const body = await reader.parse();
        if (body.kind !== 'multipart') throw new Error('expected multipart');
        const content = await fs.readFile(body.files[0]!.path, 'utf8');
        await reader.cleanup();
        return { fields: { ...body.fields }, content, left: await fs.readdir(tmpDir) };
      },
      { body: form },
      { limits: { multipart: { tmpDir } } },
    );
    expect(value).toEqual({ fields: { note: 'hi' }, content: 'from bytes', left: [] });
  });

  it('reports multipart limits when parsing from bytes', async () => {
    const tmpDir = await tempDir();
    const form = new FormData();
    form.append('f', new File(['too large'], 'b.txt'));
    const { error } = await withReader(
      async (reader) => {
        await reader.raw();
        return reader.parse();
      },
      { body: form },
      { limits: { multipart: { tmpDir, fileSize: 3 } } },
    );
    expect(error).toMatchObject({ code: 'E_FILE_TOO_LARGE' });
    expect(await fs.readdir(tmpDir)).toEqual([]);
  });

  it('cleans up quietly after a failed parse', async () => {
    const { value } = await withReader(async (reader) => {
      const failed = await reader.parse().catch((error: unknown) => error);
      await reader.cleanup();
      return { failed, files: reader.files.length };
    }, jsonRequest('{oops'));
    expect(value?.failed).toMatchObject({ code: 'E_MALFORMED_JSON' });
    expect(value?.files).toBe(0);
  });

  describe('read(then)', () => {
    it('hands the decoded value to its callback, and parse(), value() and raw() reuse the read', async () => {
      const { value } = await withReader(async (reader) => {
        const seen = await reader.read((body) => ({ body }));
        return {
          seen,
          parsed: await reader.parse(),
          value: await reader.value(),
          raw: (await reader.raw()).toString(),
          settled: reader.settledValue,
        };
      }, jsonRequest('{"a":1}'));
      expect(value).toEqual({
        seen: { body: { a: 1 } },
        parsed: { kind: 'json', data: { a: 1 } },
        value: { a: 1 },
        raw: '{"a":1}',
        settled: { a: 1 },
      });
    });

    it('keeps the body for parse() and raw() when its callback throws', async () => {
      const { value } = await withReader(async (reader) => {
        const failed = await reader
          .read(() => {
            throw new Error('handler failed');
          })
          .catch((error: Error) => error.message);
        return { failed, parsed: await reader.parse(), raw: (await reader.raw()).toString() };
      }, jsonRequest('[1]'));
      expect(value).toEqual({
        failed: 'handler failed',
        parsed: { kind: 'json', data: [1] },
        raw: '[1]',
      });
    });

    it('rejects a malformed body without calling back, while raw() still has the bytes', async () => {
      let called = false;
      const { value } = await withReader(async (reader) => {
        const failed = await reader
          .read(() => {
            called = true;
          })
          .catch((error: unknown) => error);
        const parsed = await reader.parse().catch((error: unknown) => error);
        return { failed, parsed, raw: (await reader.raw()).toString() };
      }, jsonRequest('{oops'));
      expect(called).toBe(false);
      expect(value?.failed).toMatchObject({ code: 'E_MALFORMED_JSON' });
      expect(value?.parsed).toBe(value?.failed);
      expect(value?.raw).toBe('{oops');
    });

    it('calls back with undefined for a request without a body', async () => {
      server = await startServer(async (req) => {
        const reader = new BodyReader(req);
        await reader.read((body) => {
          seen.push(body);
        });
        return reader.parse();
      });
      const seen: unknown[] = [];
      const response = await fetch(server.url, { method: 'POST' });
      expect(response.ok).toBe(true);
      expect(seen).toEqual([undefined]);
    });

    it('refuses an unsupported type before reading, and waits on an earlier parse()', async () => {
      const refused = await withReader(
        (reader) => reader.read((body) => body),
        { body: 'x', headers: { 'content-type': 'text/plain' } },
        { allowed: ['json'] },
      );
      expect(refused.error).toMatchObject({ code: 'E_UNSUPPORTED_MEDIA_TYPE' });
      const { value } = await withReader(async (reader) => {
        const first = reader.parse();
        return { read: await reader.read((body) => body), first: await first };
      }, jsonRequest('2'));
      expect(value).toEqual({ read: 2, first: { kind: 'json', data: 2 } });
    });

    it('streams multipart through parse()', async () => {
      const form = new FormData();
      form.append('name', 'chair');
      const { value } = await withReader((reader) => reader.read((body) => body), {
        body: form,
      });
      expect(value).toEqual({ name: 'chair' });
    });
  });

  it('throws E_INVALID_BODY_OPTIONS from the constructor', () => {
    expect(() => new BodyReader({} as IncomingMessage, { timeoutMs: -5 })).toThrow(
      expect.objectContaining({ code: 'E_INVALID_BODY_OPTIONS' }),
    );
  });
});
