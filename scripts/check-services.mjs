#!/usr/bin/env node
// Checks that the services the test suites use answer on their ports. Locally an
// unreachable service is a warning (its suites skip, saying so); under CI=true it fails the
// run, so a CI machine that lost PostgreSQL cannot pass by skipping its tests.
import { createConnection } from 'node:net';
import { fileURLToPath } from 'node:url';

export const SERVICES = [
  { name: 'PostgreSQL', host: '127.0.0.1', port: 5432 },
  { name: 'MariaDB', host: '127.0.0.1', port: 3306 },
  { name: 'Redis', host: '127.0.0.1', port: 6379 },
];

/** Whether a TCP service answers on host:port within the timeout. */
export function reachable({ host, port }, timeoutMs = 2000) {
  return new Promise((resolve) => {
    const socket = createConnection({ host, port });
    const done = (ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

async function main() {
  const ci = process.env.CI === 'true';
  let missing = 0;
  for (const service of SERVICES) {
    const ok = await reachable(service);
    console.log(
      `${ok ? '✔' : '✖'} ${service.name} ${service.host}:${service.port}${ok ? '' : ' unreachable'}`,
    );
    if (!ok) missing++;
  }
  if (missing > 0 && ci) {
    console.error(
      `${missing} required service(s) unreachable under CI=true: failing (see .ci/run for start commands)`,
    );
    process.exit(1);
  }
  if (missing > 0) console.warn('suites needing the missing services will be skipped');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await main();
