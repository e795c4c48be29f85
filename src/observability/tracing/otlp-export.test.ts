import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { providerApps } from '../../../test/support/provider-app.js';
import { HttpProvider } from '../../http/index.js';
import { TracingProvider } from './tracing-provider.js';

const apps = providerApps([HttpProvider, TracingProvider]);

interface Received {
  method: string | undefined;
  url: string | undefined;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** A stand-in OTLP/HTTP collector on 127.0.0.1 that records what it is sent. */
async function collector(
  status = 200,
): Promise<{ url: string; received: Received[]; server: Server }> {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      received.push({
        method: req.method,
        url: req.url,
        headers: req.headers,
        body: Buffer.concat(chunks),
      });
      res.writeHead(status, { 'content-type': 'application/x-protobuf' });
      res.end();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  servers.push(server);
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, received, server };
}

interface OtlpAttribute {
  key: string;
  value: { stringValue?: string; intValue?: string | number; boolValue?: boolean };
}
interface OtlpResourceSpans {
  resource: { attributes: OtlpAttribute[] };
  scopeSpans: Array<{ spans: Array<{ name: string; attributes: OtlpAttribute[] }> }>;
}

function attributes(list: OtlpAttribute[]): Record<string, unknown> {
  return Object.fromEntries(
    list.map((a) => [a.key, a.value.stringValue ?? a.value.intValue ?? a.value.boolValue]),
  );
}

const servers: Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    server.close();
  }
});

describe('the otel driver (OTLP/HTTP exporter)', () => {
  it('sends the spans to <endpoint>/v1/traces with the configured headers, all of them by shutdown', async () => {
    const otlp = await collector();
    const app = await apps.create(
      {
        // A long batch delay: nothing leaves before shutdown, which must flush it all.
        'config/tracing.ts': `export default { batch: { scheduledDelayMs: 60000 }, resource: { 'service.namespace': 'erp' } };\n`,
      },
      {
        TRACING_ENABLED: 'true',
        OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url,
        OTEL_EXPORTER_OTLP_HEADERS: 'x-api-key=s3cr%3Dt',
      },
    );
    await app.boot();
    app.make('http').router.get('/items/:id', (ctx) => ({ id: ctx.params.id }));
    await app.start();
    expect(app.make('tracing').driver).toBe('otel');
    for (let i = 1; i <= 20; i++)
      expect((await app.make('http').inject(`/items/${i}`)).statusCode).toBe(200);
    expect(otlp.received).toEqual([]);

    await app.shutdown();
    expect(otlp.received.length).toBeGreaterThan(0);
    for (const request of otlp.received) {
      expect(request.method).toBe('POST');
      expect(request.url).toBe('/v1/traces');
      expect(request.headers['x-api-key']).toBe('s3cr=t');
      expect(request.headers['content-type']).toMatch(/^application\/json/);
    }
    // OTLP/JSON: resource spans, each with its resource and its scopes' spans.
    const exported = otlp.received.flatMap(
      (r) => JSON.parse(r.body.toString()).resourceSpans as OtlpResourceSpans[],
    );
    const resource = attributes(exported[0]!.resource.attributes);
    expect(resource).toMatchObject({ 'service.name': 'fixture', 'service.namespace': 'erp' });
    const spans = exported.flatMap((r) => r.scopeSpans.flatMap((scope) => scope.spans));
    expect(spans).toHaveLength(20);
    expect(new Set(spans.map((span) => span.name))).toEqual(new Set(['GET /items/:id']));
    const paths = spans.map((span) => attributes(span.attributes)['url.path']).sort();
    expect(new Set(paths).size).toBe(20);
    expect(paths).toContain('/items/20');
  });

  it('a collector that refuses the export does not fail requests or the shutdown', async () => {
    const otlp = await collector(400);
    const app = await apps.create({
      'config/tracing.ts': `export default { enabled: true, otlp: { endpoint: '${otlp.url}', timeoutMs: 2000 } };\n`,
    });
    const warn = vi.spyOn(app.logger, 'warn');
    await app.boot();
    app.make('http').router.get('/ping', () => 'pong');
    await app.start();
    expect((await app.make('http').inject('/ping')).body).toBe('pong');
    await app.shutdown();
    expect(app.state).toBe('stopped');
    // The refusal is logged (through OpenTelemetry's diag channel), not thrown.
    expect(warn.mock.calls.some(([, message]) => String(message).startsWith('tracing: '))).toBe(
      true,
    );
    expect(otlp.received.every((r) => r.url === '/v1/traces')).toBe(true);
    expect(otlp.received.length).toBeGreaterThan(0);
  });
});
