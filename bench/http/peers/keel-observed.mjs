// Keel with its observability stack on, for the overhead ratio against peers/keel.mjs (the
// same app without it): the access log (one JSON line per request through the production
// logger: context mixin, redaction, card-number masking) written by Keel's file channel
// (as `logging.channels.app = { driver: 'file', rotate: 'daily' }` in an app), the HTTP metrics instrument (requests, duration histogram,
// in-flight) and, as in an app with TRACING_ENABLED unset, no tracing instrument at all.
// Every request runs in its execution scope, as in an app. OBS_ONLY=scope|metrics|log keeps
// one part (scope = an empty instrument: the execution scope alone), to see what each costs;
// OBS_ONLY=noscope is an empty instrument that asks for no scope (the kernel's observation
// machinery alone, without AsyncLocalStorage); OBS_ONLY=als adds no instrument at all but
// enables the process's AsyncLocalStorage once at startup, as one database transaction or
// async validation rule does in an app (Node 20's async hooks on, no scope per request);
// OBS_ONLY=logdiscard is the access log formatted in full, each line dropped where the file
// channel would take it (formatting without the writing).
//
//   node bench/http/run.mjs --servers keel,keel-observed
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { executionContext } from '../../../dist/kernel/index.js';
import { FileChannel } from '../../../dist/kernel/logging/index.js';
import {
  HttpMetrics,
  MetricsRegistry,
  requestLogInstrument,
} from '../../../dist/observability/index.js';
import { appFileLogger } from '../../lib/file-logger.mjs';

const dir = mkdtempSync(join(tmpdir(), 'keel-bench-log-'));
// A run writes tens of megabytes of access lines: gone with the server.
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
const { logger } = appFileLogger(dir, join(dir, 'access.log'));
const registry = new MetricsRegistry();
const metrics = new HttpMetrics(registry);

// The plain Keel peer, then the instruments on its kernel.
const { app, serve } = await import('./keel.mjs');
const only = process.env.OBS_ONLY ?? 'all';
if (!['all', 'scope', 'noscope', 'metrics', 'log', 'logdiscard', 'als'].includes(only))
  throw new Error(`OBS_ONLY=${only}?`);
if (only === 'als') executionContext.run({}, () => undefined);
if (only === 'scope') app.kernel.instrument({ name: 'scope', end() {} });
if (only === 'noscope') app.kernel.instrument({ name: 'noscope', scope: false, end() {} });
if (only === 'logdiscard') FileChannel.prototype.write = () => undefined;
if (only === 'all' || only === 'log' || only === 'logdiscard')
  app.kernel.instrument(requestLogInstrument(logger, { skip: ['/healthz', '/_metrics'] }));
if (only === 'all' || only === 'metrics') app.kernel.instrument(metrics.instrument());
await serve();
