#!/usr/bin/env node
// Checks that a peer answers every benchmarked route the way the others do, so a misconfigured
// peer fails loudly instead of producing a fast, wrong number. The harness calls verifyPeer()
// before measuring each server; run it alone with `node bench/http/verify.mjs [peer...]`.
import { deepStrictEqual } from 'node:assert';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { fileURLToPath } from 'node:url';
import { freePort, startServer, stopServer, waitPortFree } from './lib/server-process.mjs';
import { BODY_LIMIT, ORDER_BODY, SECURITY_HEADERS } from './peers/shared.mjs';

const HERE = fileURLToPath(new URL('./', import.meta.url));
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** One request with node:http (no keep-alive), tolerant of a server that resets after a 413. */
function send(port, { method = 'GET', path, headers = {}, body }) {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : Buffer.from(body);
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method,
        path,
        agent: false,
        headers: payload ? { ...headers, 'content-length': payload.length } : headers,
      },
      (res) => {
        const chunks = [];
        res.on('data', (chunk) => chunks.push(chunk));
        res.on('end', () => finish(res, chunks));
        res.on('error', () => finish(res, chunks));
      },
    );
    let done = false;
    function finish(res, chunks) {
      if (done) return;
      done = true;
      const text = Buffer.concat(chunks).toString('utf8');
      let json;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
      resolve({ status: res.statusCode, headers: res.headers, text, json });
    }
    req.setTimeout(10_000, () => req.destroy(new Error(`${method} ${path} timed out`)));
    // A server may answer 413 and close while we still write; the answer is what counts.
    req.on('error', (error) => {
      if (!done) reject(error);
    });
    req.end(payload);
  });
}

/** The body post.lua sends, so wrk and verify can never drift apart. */
export function luaBody() {
  const lua = readFileSync(`${HERE}post.lua`, 'utf8');
  const match = /wrk\.body\s*=\s*'([^']*)'/.exec(lua);
  if (!match) throw new Error('post.lua has no wrk.body');
  return JSON.parse(match[1]);
}

/** Every check for one running server; returns the list of failures (empty = good). */
export async function verifyPeer(port) {
  const failures = [];
  const check = async (label, fn) => {
    try {
      await fn();
    } catch (error) {
      failures.push(`${label}: ${error.message.split('\n').slice(0, 6).join('\n    ')}`);
    }
  };
  const expectJson = (res, status, body) => {
    if (!status.includes(res.status))
      throw new Error(
        `status ${res.status}, expected ${status.join(' or ')}; body ${res.text.slice(0, 300)}`,
      );
    if (!String(res.headers['content-type']).startsWith('application/json')) {
      throw new Error(`content-type ${res.headers['content-type']}, expected application/json`);
    }
    if (body !== undefined) deepStrictEqual(res.json, body);
  };

  await check('post.lua body equals ORDER_BODY', () => deepStrictEqual(luaBody(), ORDER_BODY));
  await check('GET /hello', async () => {
    expectJson(await send(port, { path: '/hello' }), [200], { hello: 'world' });
  });
  await check('GET /users/42?fields=name,email', async () => {
    const res = await send(port, { path: '/users/42?fields=name,email' });
    expectJson(res, [200], { id: '42', fields: ['name', 'email'] });
  });
  const post = (body, headers = {}) =>
    send(port, {
      method: 'POST',
      path: '/orders',
      body,
      headers: { 'content-type': 'application/json', ...headers },
    });
  await check('POST /orders (valid, X-Request-Id echoed, 6 security headers)', async () => {
    const res = await post(JSON.stringify(ORDER_BODY), { 'x-request-id': 'bench-verify-1' });
    expectJson(res, [200, 201], { ok: true, order: ORDER_BODY });
    if (res.headers['x-request-id'] !== 'bench-verify-1') {
      throw new Error(
        `x-request-id ${res.headers['x-request-id']}, expected the echo bench-verify-1`,
      );
    }
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) {
      if (res.headers[name] !== value)
        throw new Error(`header ${name}: ${res.headers[name]}, expected ${value}`);
    }
  });
  await check('POST /orders without X-Request-Id gets a UUID', async () => {
    const res = await post(JSON.stringify(ORDER_BODY));
    if (!UUID.test(String(res.headers['x-request-id']))) {
      throw new Error(`x-request-id ${res.headers['x-request-id']}, expected a generated UUID`);
    }
  });
  await check('POST /orders invalid body is refused by the Zod schema', async () => {
    const res = await post(
      JSON.stringify({ ...ORDER_BODY, quantity: -1, customer: { email: 'nope' } }),
    );
    if (res.status !== 400 && res.status !== 422)
      throw new Error(`status ${res.status}, expected 400 or 422`);
  });
  await check('POST /orders malformed JSON is a 400', async () => {
    const res = await post('{"sku": ');
    if (res.status !== 400) throw new Error(`status ${res.status}, expected 400`);
  });
  await check('POST /orders over 1 MiB is a 413', async () => {
    const big = JSON.stringify({ ...ORDER_BODY, pad: 'x'.repeat(BODY_LIMIT) });
    const res = await post(big);
    if (res.status !== 413) throw new Error(`status ${res.status}, expected 413`);
  });
  await check('POST /orders just under 1 MiB passes the limit', async () => {
    const padded = JSON.stringify({ ...ORDER_BODY, pad: '' });
    const pad = 'x'.repeat(BODY_LIMIT - Buffer.byteLength(padded) - 16);
    const res = await post(JSON.stringify({ ...ORDER_BODY, pad }));
    // The schema strips unknown keys, so the body is accepted as a valid order.
    if (res.status === 413) throw new Error('a body under 1 MiB was refused as too large');
  });
  return failures;
}

/** All peers present in peers/ (shared.mjs is not a peer). */
export function listPeers() {
  return readdirSync(`${HERE}peers`)
    .filter((file) => file.endsWith('.mjs') && file !== 'shared.mjs')
    .map((file) => file.slice(0, -4));
}

async function main() {
  const wanted = process.argv.slice(2);
  const peers = wanted.length > 0 ? wanted : listPeers();
  let bad = 0;
  for (const name of peers) {
    if (name.startsWith('keel') && !existsSync(`${HERE}../../dist/http/index.js`)) {
      console.log(
        `- keel: skipped (dist/http/index.js missing; run npm run build at the repo root)`,
      );
      continue;
    }
    const port = await freePort();
    let server;
    try {
      server = await startServer(name, { port });
      const failures = await verifyPeer(port);
      if (failures.length === 0) console.log(`✓ ${name}`);
      else {
        bad++;
        console.log(`✗ ${name}\n  ${failures.join('\n  ')}`);
      }
    } catch (error) {
      bad++;
      console.log(`✗ ${name}: ${error.message}`);
    } finally {
      if (server) {
        await stopServer(server.child);
        await waitPortFree(port);
      }
    }
  }
  process.exitCode = bad === 0 ? 0 : 1;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await main();
