import { existsSync, statSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { rawRequest, startServer, type TestServer } from './__fixtures__/test-server.js';
import type { BodyOptions, MultipartLimits } from './body-options.js';
import { type ParsedBody, parseBody } from './body-parser.js';
import { cleanupUploads } from './uploaded-file.js';

let server: TestServer | undefined;
let tmpDir: string;

beforeEach(async () => {
  tmpDir = await fs.mkdtemp(path.join(os.tmpdir(), 'keel-body-multipart-'));
});

afterEach(async () => {
  await server?.close();
  server = undefined;
  await fs.rm(tmpDir, { recursive: true, force: true });
});

async function serve(
  multipart: Partial<MultipartLimits> = {},
  options: BodyOptions = {},
): Promise<TestServer> {
  server = await startServer((req) =>
    parseBody(req, { ...options, limits: { multipart: { tmpDir, ...multipart } } }),
  );
  return server;
}

interface Answer {
  status: number;
  json: Record<string, unknown>;
}

async function send(form: FormData): Promise<Answer> {
  const response = await fetch(server!.url, { method: 'POST', body: form });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

async function uploaded(): Promise<string[]> {
  return existsSync(tmpDir) ? fs.readdir(tmpDir) : [];
}

/** The multipart body the server parsed for the last request. */
async function parsed(): Promise<Extract<ParsedBody, { kind: 'multipart' }>> {
  const outcome = await server!.next();
  if (!outcome.ok || outcome.body.kind !== 'multipart') throw new Error('expected multipart');
  return outcome.body;
}

const BOUNDARY = 'keel-test-boundary';

function part(name: string, content: string, filename?: string, type?: string): string {
  const disposition = `form-data; name="${name}"${filename === undefined ? '' : `; filename="${filename}"`}`;
  const typeLine = type === undefined ? '' : `Content-Type: ${type}\r\n`;
  return `--${BOUNDARY}\r\nContent-Disposition: ${disposition}\r\n${typeLine}\r\n${content}\r\n`;
}

function rawMultipart(body: string, extraHeaders = ''): string[] {
  return [
    'POST / HTTP/1.1\r\nHost: x\r\n',
    `Content-Type: multipart/form-data; boundary=${BOUNDARY}\r\n${extraHeaders}`,
    `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n`,
    body,
  ];
}

describe('multipart: fields and files', () => {
  it('parses fields with bracket keys and streams files to temp files', async () => {
    await serve();
    const form = new FormData();
    form.append('name', 'Ada');
    form.append('tags[]', 'a');
    form.append('tags[]', 'b');
    form.append('address[city]', 'Paris');
    form.append('avatar', new File(['hello'], 'me.png', { type: 'image/png' }));
    form.append('docs', new File([new Uint8Array([0, 1, 2, 255])], 'a.bin'));
    form.append('docs', new File(['second'], 'résumé.txt', { type: 'text/plain' }));

    const answer = await send(form);
    expect(answer.status).toBe(200);
    expect(answer.json.fields).toEqual({
      name: 'Ada',
      tags: ['a', 'b'],
      address: { city: 'Paris' },
    });

    const body = await parsed();
    expect(
      body.files.map(({ field, filename, mimeType, size }) => ({
        field,
        filename,
        mimeType,
        size,
      })),
    ).toEqual([
      { field: 'avatar', filename: 'me.png', mimeType: 'image/png', size: 5 },
      { field: 'docs', filename: 'a.bin', mimeType: 'application/octet-stream', size: 4 },
      { field: 'docs', filename: 'résumé.txt', mimeType: 'text/plain', size: 6 },
    ]);
    const [avatar, bin] = body.files;
    expect(await fs.readFile(avatar!.path, 'utf8')).toBe('hello');
    expect([...(await fs.readFile(bin!.path))]).toEqual([0, 1, 2, 255]);
    expect(path.dirname(avatar!.path)).toBe(tmpDir);
    expect(statSync(avatar!.path).mode & 0o777).toBe(0o600);
    expect(JSON.stringify(avatar)).toBe(
      '{"field":"avatar","filename":"me.png","mimeType":"image/png","size":5}',
    );
  });

  it('creates the upload directory when it does not exist', async () => {
    await fs.rm(tmpDir, { recursive: true });
    await serve();
    const form = new FormData();
    form.append('f', new File(['x'], 'x.txt'));
    expect((await send(form)).status).toBe(200);
    expect(await uploaded()).toHaveLength(1);
  });

  it('keeps only the base name of a client-sent path', async () => {
    const { port } = await serve();
    const body = `${part('f', 'data', '../../etc/passwd')}--${BOUNDARY}--\r\n`;
    const response = await rawRequest(port, rawMultipart(body));
    expect(response.status).toBe(200);
    const { files } = await parsed();
    expect(files[0]!.filename).toBe('passwd');
    expect(path.dirname(files[0]!.path)).toBe(tmpDir);
  });

  it('drops the empty part a browser sends for an unused file input', async () => {
    const { port } = await serve();
    const body = `${part('name', 'x')}${part('avatar', '', '', 'application/octet-stream')}--${BOUNDARY}--\r\n`;
    expect((await rawRequest(port, rawMultipart(body))).status).toBe(200);
    const { files, fields } = await parsed();
    expect(files).toEqual([]);
    expect({ ...fields }).toEqual({ name: 'x' });
    expect(await uploaded()).toEqual([]);
  });

  it('drops prototype-poisoning field names', async () => {
    await serve();
    const form = new FormData();
    form.append('__proto__[admin]', 'true');
    form.append('constructor[prototype][admin]', 'true');
    form.append('ok', '1');
    const answer = await send(form);
    expect(answer.json.fields).toEqual({ ok: '1' });
    expect(({} as Record<string, unknown>).admin).toBeUndefined();
  });

  it('decompresses a gzip-encoded multipart body', async () => {
    const { port } = await serve();
    const body = `${part('a', '1')}${part('f', 'zipped', 'z.txt')}--${BOUNDARY}--\r\n`;
    const gz = gzipSync(body);
    const response = await rawRequest(port, [
      'POST / HTTP/1.1\r\nHost: x\r\n',
      `Content-Type: multipart/form-data; boundary=${BOUNDARY}\r\nContent-Encoding: gzip\r\n`,
      `Content-Length: ${gz.length}\r\nConnection: close\r\n\r\n`,
      gz,
    ]);
    expect(response.status).toBe(200);
    const { files } = await parsed();
    expect(await fs.readFile(files[0]!.path, 'utf8')).toBe('zipped');
  });
});

describe('multipart: limits', () => {
  it('accepts a file of exactly fileSize bytes and refuses one more', async () => {
    await serve({ fileSize: 8 });
    const exact = new FormData();
    exact.append('f', new File(['12345678'], 'ok.txt'));
    expect((await send(exact)).status).toBe(200);
    await parsed();
    await fs.rm(tmpDir, { recursive: true });

    const over = new FormData();
    over.append('first', new File(['fine'], 'first.txt'));
    over.append('f', new File(['123456789'], 'big.txt'));
    const answer = await send(over);
    expect(answer.status).toBe(413);
    expect(answer.json.code).toBe('E_FILE_TOO_LARGE');
    expect(answer.json.details).toEqual({ field: 'f', limit: 8 });
    expect(await uploaded()).toEqual([]);
  });

  it('refuses more than `files` files and removes those already written', async () => {
    await serve({ files: 2 });
    const form = new FormData();
    for (const name of ['a', 'b', 'c']) form.append('f', new File([name.repeat(1000)], name));
    const answer = await send(form);
    expect(answer.status).toBe(413);
    expect(answer.json.code).toBe('E_TOO_MANY_FILES');
    expect(await uploaded()).toEqual([]);
  });

  it('refuses any file when `files` is 0', async () => {
    await serve({ files: 0 });
    const form = new FormData();
    form.append('f', new File(['x'], 'x'));
    expect((await send(form)).json.code).toBe('E_TOO_MANY_FILES');
  });

  it('refuses more than `fields` fields', async () => {
    await serve({ fields: 2 });
    const form = new FormData();
    for (const name of ['a', 'b', 'c']) form.append(name, 'v');
    const answer = await send(form);
    expect(answer.status).toBe(413);
    expect(answer.json.code).toBe('E_TOO_MANY_FIELDS');
  });

  it('accepts a field of exactly fieldSize bytes and refuses one more', async () => {
    await serve({ fieldSize: 10 });
    const exact = new FormData();
    exact.append('note', '0123456789');
    expect((await send(exact)).json.fields).toEqual({ note: '0123456789' });
    const over = new FormData();
    over.append('note', '0123456789X');
    const answer = await send(over);
    expect(answer.status).toBe(413);
    expect(answer.json.code).toBe('E_FIELD_TOO_LARGE');
    expect(answer.json.details).toEqual({ field: 'note', limit: 10 });
  });

  it('applies the form key limits to field names', async () => {
    await serve({}, { formLimits: { maxDepth: 1 } });
    const form = new FormData();
    form.append('a[b][c]', 'x');
    const answer = await send(form);
    expect(answer.status).toBe(400);
    expect(answer.json.code).toBe('E_QUERY_TOO_DEEP');
  });

  it('refuses a body over totalSize, counting skipped parts too', async () => {
    const { port } = await serve({ totalSize: 2048 });
    const skipped = `--${BOUNDARY}\r\nX-No-Disposition: 1\r\n\r\n${'x'.repeat(4096)}\r\n`;
    const response = await rawRequest(port, rawMultipart(`${skipped}--${BOUNDARY}--\r\n`));
    expect(response.status).toBe(413);
    expect(JSON.parse(response.body)).toMatchObject({
      code: 'E_BODY_TOO_LARGE',
      details: { kind: 'multipart', limit: 2048 },
    });
  });
});

describe('multipart: broken bodies and clients', () => {
  it('answers a truncated form with E_MALFORMED_MULTIPART and removes the partial file', async () => {
    const { port } = await serve();
    const body = `${part('f', 'partial content', 'p.txt')}`; // no closing boundary
    const response = await rawRequest(port, rawMultipart(body));
    expect(response.status).toBe(400);
    expect(JSON.parse(response.body)).toMatchObject({ code: 'E_MALFORMED_MULTIPART' });
    expect(await uploaded()).toEqual([]);
  });

  it('answers a malformed part header with E_MALFORMED_MULTIPART', async () => {
    const { port } = await serve();
    const body = `--${BOUNDARY}\r\nContent-Disposition form-data\r\n\r\nx\r\n--${BOUNDARY}--\r\n`;
    const response = await rawRequest(port, rawMultipart(body));
    expect(response.status).toBe(400);
    expect(JSON.parse(response.body).message).toContain('Malformed part header');
  });

  it('removes temp files when the client disconnects mid-upload', async () => {
    const { port } = await serve();
    const head = `--${BOUNDARY}\r\nContent-Disposition: form-data; name="f"; filename="big.bin"\r\n\r\n`;
    await rawRequest(
      port,
      [
        'POST / HTTP/1.1\r\nHost: x\r\n',
        `Content-Type: multipart/form-data; boundary=${BOUNDARY}\r\n`,
        'Content-Length: 10000000\r\n\r\n',
        head,
        Buffer.alloc(200_000, 120),
      ],
      { destroyAfterWrite: true },
    );
    const outcome = await server!.next();
    expect(outcome.ok).toBe(false);
    if (!outcome.ok) expect(outcome.error.code).toBe('E_BODY_ABORTED');
    expect(await uploaded()).toEqual([]);
  });

  it('removes temp files when the upload stalls past timeoutMs', async () => {
    const { port } = await serve({}, { timeoutMs: 150 });
    const head = `--${BOUNDARY}\r\nContent-Disposition: form-data; name="f"; filename="slow.bin"\r\n\r\n`;
    const response = await rawRequest(port, [
      'POST / HTTP/1.1\r\nHost: x\r\n',
      `Content-Type: multipart/form-data; boundary=${BOUNDARY}\r\n`,
      'Content-Length: 100000\r\n\r\n',
      head,
      'some bytes',
    ]);
    expect(response.status).toBe(408);
    expect(await uploaded()).toEqual([]);
  });

  it('skips files that arrive after the parse has failed', async () => {
    const { port } = await serve({ fieldSize: 5 });
    const body = `${part('note', 'far too long')}${part('f', 'late file', 'late.txt')}--${BOUNDARY}--\r\n`;
    const response = await rawRequest(port, rawMultipart(body));
    expect(response.status).toBe(413);
    expect(JSON.parse(response.body)).toMatchObject({ code: 'E_FIELD_TOO_LARGE' });
    expect(await uploaded()).toEqual([]);
  });

  // procfs exists as a directory but refuses new files, even to root: a stand-in for a
  // full or read-only upload volume.
  it.runIf(existsSync('/proc/self/fd'))(
    'answers E_UPLOAD_FAILED when a file cannot be written',
    async () => {
      server = await startServer((req) =>
        parseBody(req, { limits: { multipart: { tmpDir: '/proc/self' } } }),
      );
      const form = new FormData();
      form.append('f', new File(['x'.repeat(100_000)], 'x.txt'));
      const answer = await send(form);
      expect(answer.status).toBe(500);
      expect(answer.json.code).toBe('E_UPLOAD_FAILED');
      expect(answer.json.message).toContain('/proc/self/upload-');
    },
  );

  it('answers E_UPLOAD_FAILED when the upload directory cannot be created', async () => {
    const blocker = path.join(tmpDir, 'a-file');
    await fs.writeFile(blocker, 'not a directory');
    server = await startServer((req) =>
      parseBody(req, { limits: { multipart: { tmpDir: path.join(blocker, 'uploads') } } }),
    );
    const form = new FormData();
    form.append('f', new File(['x'], 'x.txt'));
    const answer = await send(form);
    expect(answer.status).toBe(500);
    expect(answer.json.code).toBe('E_UPLOAD_FAILED');
  });
});

describe('UploadedFile', () => {
  async function uploadOne(
    content = 'payload',
  ): Promise<Extract<ParsedBody, { kind: 'multipart' }>> {
    const form = new FormData();
    form.append('f', new File([content], 'doc.txt'));
    await send(form);
    return parsed();
  }

  it('moves to a new directory, after which cleanup leaves it alone', async () => {
    await serve();
    const { files } = await uploadOne();
    const file = files[0]!;
    const dest = path.join(tmpDir, 'kept', 'nested', 'doc.txt');
    await file.move(dest);
    expect(file.path).toBe(dest);
    expect(await fs.readFile(dest, 'utf8')).toBe('payload');
    await file.cleanup();
    expect(existsSync(dest)).toBe(true);
    await file.move(path.join(tmpDir, 'again.txt'));
    expect(await fs.readFile(path.join(tmpDir, 'again.txt'), 'utf8')).toBe('payload');
  });

  it('cleans up once and refuses to move a removed file', async () => {
    await serve();
    const { files } = await uploadOne();
    const file = files[0]!;
    await cleanupUploads(files);
    expect(existsSync(file.path)).toBe(false);
    await file.cleanup();
    await expect(file.move(path.join(tmpDir, 'x'))).rejects.toMatchObject({
      code: 'E_UPLOAD_REMOVED',
      status: 500,
    });
  });

  const shm = '/dev/shm';
  const crossDevice = existsSync(shm) && statSync(shm).dev !== statSync(os.tmpdir()).dev;
  it.skipIf(!crossDevice)('moves across file systems by copying', async () => {
    await serve();
    const { files } = await uploadOne('across');
    const source = files[0]!.path;
    const destDir = await fs.mkdtemp(path.join(shm, 'keel-body-move-'));
    try {
      await files[0]!.move(path.join(destDir, 'doc.txt'));
      expect(await fs.readFile(path.join(destDir, 'doc.txt'), 'utf8')).toBe('across');
      expect(existsSync(source)).toBe(false);
    } finally {
      await fs.rm(destDir, { recursive: true, force: true });
    }
  });

  it('passes on file-system errors other than EXDEV', async () => {
    await serve();
    const { files } = await uploadOne();
    const blocker = path.join(tmpDir, 'plain-file');
    await fs.writeFile(blocker, '');
    await expect(files[0]!.move(path.join(blocker, 'doc.txt'))).rejects.toMatchObject({
      code: expect.stringMatching(/^E(EXIST|NOTDIR)$/),
    });
  });
});
