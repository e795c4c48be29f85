// One measurement of the logging benchmark (run by run.mjs, one process per peer and round):
// CPU per access line, user + system of the whole process (the libuv threads that write the
// file included), written to a real file in a temp folder that is removed at the end.
//
//   node bench/logging/line.mjs --peer keel --lines 200000
//
// Lines go out 50 at a time with a setImmediate between batches, as a server's requests
// would, so the file's writes run while lines are made. The same loop without logging is
// measured first and subtracted: what is left is the logging.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { requestLogInstrument } from '../../dist/observability/index.js';
import { appFileLogger } from '../lib/file-logger.mjs';

const { values } = parseArgs({
  options: { peer: { type: 'string' }, lines: { type: 'string', default: '200000' } },
});
const lines = Number(values.lines);
const dir = mkdtempSync(join(tmpdir(), 'keel-bench-logging-'));
const file = join(dir, 'access.log');

// What each request of the HTTP benchmark's /users/:id route would log: Keel's request
// context (a fake with the fields the access log reads) and the outcome.
const record = { path: '/users/:id', module: 'app' };
const ids = Array.from({ length: 1024 }, () => randomUUID());
const contexts = ids.map((requestId, i) => ({
  requestId,
  method: 'GET',
  path: `/users/${i}`,
  ip: '127.0.0.1',
  route: { record },
}));
const outcome = (i) => ({ status: 200, durationMs: 0.0123 + (i & 63) / 1000, bytes: 29 });

/** `write(i)` logs line i; `close()` flushes and closes the file. */
function peer(name) {
  if (name === 'keel' || name === 'keel-pino') {
    // A redaction path rules out Keel's own formatting of the line: pino writes it.
    const { logger, channels } = appFileLogger(
      dir,
      file,
      name === 'keel-pino' ? { redact: ['body.password'] } : {},
    );
    const instrument = requestLogInstrument(logger);
    return {
      write(i) {
        const ctx = contexts[i & 1023];
        instrument.end(ctx, instrument.begin(ctx), { ...outcome(i), aborted: false });
      },
      close: () => channels.close(),
    };
  }
  if (name === 'pino') {
    // Plain pino, as a Fastify app's logger writes to a file: sonic-boom, asynchronous.
    const destination = pino.destination({ dest: file, sync: false });
    const logger = pino(
      { base: { app: 'bench', env: 'production', version: '1.0.0', pid: process.pid } },
      destination,
    );
    return {
      write(i) {
        const ctx = contexts[i & 1023];
        const out = outcome(i);
        logger.info(
          {
            route: record.path,
            request_id: ctx.requestId,
            method: ctx.method,
            path: ctx.path,
            status: out.status,
            duration_ms: out.durationMs,
            bytes: out.bytes,
            ip: ctx.ip,
          },
          'request completed',
        );
      },
      close: () =>
        new Promise((resolve) => {
          destination.flushSync();
          destination.end();
          destination.once('close', resolve);
        }),
    };
  }
  throw new Error(`unknown peer "${name}"`);
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

/** CPU ns per iteration of the batched loop, `write` run in each. */
async function measure(write) {
  const started = process.cpuUsage();
  for (let i = 0; i < lines; ) {
    for (let j = 0; j < 50; j++, i++) write(i);
    await tick();
  }
  const used = process.cpuUsage(started);
  return { user: (used.user * 1000) / lines, system: (used.system * 1000) / lines };
}

const subject = peer(values.peer);
const empty = await measure(() => {});
// A first pass the JIT and the file's first pages settle in; the second is the measurement.
await measure((i) => subject.write(i));
const logged = await measure((i) => subject.write(i));
await subject.close();
const bytes = statSync(file).size;
rmSync(dir, { recursive: true, force: true });
console.log(
  JSON.stringify({
    peer: values.peer,
    user: logged.user - empty.user,
    system: logged.system - empty.system,
    bytesPerLine: bytes / (2 * lines),
  }),
);
