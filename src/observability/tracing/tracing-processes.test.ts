import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { TSX } from '../../../test/support/keel-process.js';
import { providerApps } from '../../../test/support/provider-app.js';
import { DatabaseProvider, db } from '../../db/index.js';
import { appMigrations, appMigrator } from '../../db/migrations/index.js';
import { QueueProvider } from '../../queue/queue-provider.js';

/**
 * The truth about propagation: a real `serve` process answers a real socket request and
 * dispatches a job, a separate `work` process runs it, both export over OTLP/HTTP to a
 * collector in this process, and their spans form one trace continuing the caller's.
 */

const SCRIPT = fileURLToPath(new URL('./__fixtures__/traced-process.ts', import.meta.url));
const apps = providerApps([DatabaseProvider, QueueProvider]);

interface OtlpAttribute {
  key: string;
  value: { stringValue?: string; intValue?: string | number };
}
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes: OtlpAttribute[];
}
interface Exported {
  pid: unknown;
  span: OtlpSpan;
}

const attribute = (list: OtlpAttribute[], key: string): unknown => {
  const value = list.find((a) => a.key === key)?.value;
  return value?.stringValue ?? (value?.intValue === undefined ? undefined : Number(value.intValue));
};

const children: ChildProcess[] = [];
const servers: Server[] = [];
afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    server.close();
  }
});

async function collector(): Promise<{ url: string; spans: Exported[] }> {
  const spans: Exported[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      if (req.url === '/v1/traces') {
        const body = JSON.parse(Buffer.concat(chunks).toString()) as {
          resourceSpans: Array<{
            resource: { attributes: OtlpAttribute[] };
            scopeSpans: Array<{ spans: OtlpSpan[] }>;
          }>;
        };
        for (const r of body.resourceSpans) {
          const pid = attribute(r.resource.attributes, 'process.pid');
          for (const scope of r.scopeSpans)
            for (const span of scope.spans) spans.push({ pid, span });
        }
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    });
  });
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, spans };
}

async function freePort(): Promise<number> {
  const probe = createServer();
  probe.listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

/** Start the fixture; resolves once it printed `line` (or rejects with its output). */
function start(args: string[], env: Record<string, string>, line: string) {
  const child = spawn(process.execPath, ['--import', TSX, SCRIPT, ...args], {
    env: { ...process.env, VITEST: '', APP_ENV: 'development', NO_COLOR: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let out = '';
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr!.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const seen = new Promise<string>((resolve, reject) => {
    const check = () => {
      const found = out.split('\n').find((l) => l.startsWith(line));
      if (found !== undefined) resolve(found);
    };
    child.stdout!.on('data', check);
    child.once('exit', (code) => {
      check();
      reject(new Error(`${args[0]} exited with ${code} before "${line}":\n${out}`));
    });
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  return { child, seen, exited, output: () => out };
}

describe('tracing across processes', () => {
  it('one trace from the caller through the serving process to the worker process', async () => {
    const fixture = await apps.fixture({
      'config/database.ts': `export default { connections: { default: { driver: 'sqlite', filename: 'var/data/app.sqlite' } } };\n`,
      // The job must run in the worker process, not in the serving one.
      'config/queue.ts': `export default { default: 'database', inProcess: false };\n`,
      'config/tracing.ts': `export default { enabled: true, batch: { scheduledDelayMs: 60000 } };\n`,
    });
    const setup = await apps.create(fixture.root);
    await setup.boot();
    const manager = setup.make('db');
    await appMigrator(
      setup,
      manager,
      await appMigrations(setup, manager),
      manager.defaultName,
    ).migrate();
    await db()
      .schema.createTable('orders')
      .addColumn('id', 'integer', (c) => c.primaryKey())
      .addColumn('shipped', 'integer', (c) => c.defaultTo(0))
      .execute();
    await db()
      .insertInto('orders' as never)
      .values({ id: 7 } as never)
      .execute();
    await setup.shutdown();

    const otlp = await collector();
    const port = await freePort();
    const env = { OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url, PORT: String(port) };
    const serve = start(['serve', fixture.root], env, 'READY');
    await serve.seen;
    const caller = { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331' };
    const res = await fetch(`http://127.0.0.1:${port}/orders/7/ship`, {
      method: 'POST',
      headers: { traceparent: `00-${caller.traceId}-${caller.spanId}-01` },
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ queued: true });
    serve.child.kill('SIGTERM');
    expect(await serve.exited).toBe(0);

    const work = start(['work', fixture.root], env, 'SUMMARY ');
    const summary = JSON.parse((await work.seen).slice('SUMMARY '.length)) as { processed: number };
    expect(summary.processed).toBe(1);
    await work.exited;

    const spans = otlp.spans;
    const request = spans.find((e) => e.span.name === 'POST /orders/:id/ship');
    const job = spans.find((e) => e.span.name === 'process orders:ship');
    expect(request, serve.output()).toBeDefined();
    expect(job, work.output()).toBeDefined();
    // Every span of both processes belongs to the caller's trace.
    expect(new Set(spans.map((e) => e.span.traceId))).toEqual(new Set([caller.traceId]));
    expect(request!.span.parentSpanId).toBe(caller.spanId);
    expect(job!.span.parentSpanId).toBe(request!.span.spanId);
    expect(job!.pid).not.toBe(request!.pid);
    const select = spans.find(
      (e) => attribute(e.span.attributes, 'db.operation.name') === 'SELECT',
    );
    expect(select?.span.parentSpanId).toBe(request!.span.spanId);
    const update = spans.find(
      (e) => attribute(e.span.attributes, 'db.operation.name') === 'UPDATE',
    );
    expect(update?.span.parentSpanId).toBe(job!.span.spanId);
    expect(update?.pid).toBe(job!.pid);
  }, 60_000);
});
