// The load generators: wrk (preferred; Debian's package) and autocannon as the fallback.
// Both run in a child process pinned to the load core, for a fixed duration, against
// 127.0.0.1 only, and are killed by a watchdog if they overrun.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ORDER_BODY } from '../peers/shared.mjs';
import { pinned, track } from './server-process.mjs';

const HTTP_DIR = fileURLToPath(new URL('../', import.meta.url));
const POST_LUA = `${HTTP_DIR}post.lua`;
const AUTOCANNON_BIN = `${HTTP_DIR}node_modules/autocannon/autocannon.js`;

/** The benchmarked routes, in the order they run against each server. */
export const ROUTES = Object.freeze([
  { id: 'hello', label: 'GET /hello', method: 'GET', path: '/hello' },
  {
    id: 'users',
    label: 'GET /users/:id?fields=name,email',
    method: 'GET',
    path: '/users/42?fields=name,email',
  },
  { id: 'orders', label: 'POST /orders (4 middlewares + Zod)', method: 'POST', path: '/orders' },
]);

export const INSTALL_WRK = 'apt-get update && apt-get install -y wrk';

function which(command) {
  try {
    return execFileSync('which', [command], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  } catch {
    return '';
  }
}

/** `{ name, version }` of the generator to use, or throws when neither is available. */
export function pickLoadGenerator(preferred) {
  const hasWrk = which('wrk') !== '';
  const hasAutocannon = existsSync(AUTOCANNON_BIN);
  if (preferred === 'wrk' && !hasWrk)
    throw new Error(`wrk is not installed. Install it with: ${INSTALL_WRK}`);
  if (preferred !== 'autocannon' && hasWrk) {
    // wrk prints its version on -v and exits 1; the first line is all we want.
    let version = 'wrk';
    try {
      execFileSync('wrk', ['-v'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (error) {
      const banner = String(error.stdout || error.stderr || 'wrk').split('\n')[0];
      version = banner.split(' [')[0].split(' Copyright')[0].trim();
    }
    return { name: 'wrk', version };
  }
  if (!hasWrk) {
    console.warn(`! wrk not found; falling back to autocannon. For wrk: ${INSTALL_WRK}`);
  }
  if (!hasAutocannon)
    throw new Error('autocannon is missing from bench/http/node_modules (run npm ci there)');
  const { version } = JSON.parse(
    readFileSync(`${HTTP_DIR}node_modules/autocannon/package.json`, 'utf8'),
  );
  return { name: 'autocannon', version: `autocannon ${version}` };
}

const UNIT_MS = { us: 0.001, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

function toMs(text) {
  const match = /^([\d.]+)(us|ms|s|m|h)$/.exec(text);
  if (!match) throw new Error(`unparseable wrk latency "${text}"`);
  return Number(match[1]) * UNIT_MS[match[2]];
}

/** Parse `wrk --latency` output: req/s, p50/p99 from the Latency Distribution, errors. */
export function parseWrk(output) {
  const rps = /^Requests\/sec:\s+([\d.]+)/m.exec(output);
  if (!rps) throw new Error(`wrk printed no Requests/sec line:\n${output}`);
  const percentile = (p) => {
    const line = new RegExp(`^\\s+${p}%\\s+(\\S+)`, 'm').exec(output);
    if (!line) throw new Error(`wrk printed no ${p}% latency (was --latency passed?):\n${output}`);
    return toMs(line[1]);
  };
  const requests = /^\s+(\d+) requests in/m.exec(output);
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(
    output,
  );
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(output);
  return {
    rps: Number(rps[1]),
    p50: percentile(50),
    p99: percentile(99),
    requests: requests ? Number(requests[1]) : 0,
    non2xx: non2xx ? Number(non2xx[1]) : 0,
    socketErrors: socket ? socket.slice(1).reduce((sum, n) => sum + Number(n), 0) : 0,
  };
}

/** Parse `autocannon --json` output into the same shape as {@link parseWrk}. */
export function parseAutocannon(output) {
  const start = output.indexOf('{');
  if (start === -1) throw new Error(`autocannon printed no JSON:\n${output}`);
  const result = JSON.parse(output.slice(start));
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    requests: result.requests.total,
    non2xx: result.non2xx ?? 0,
    socketErrors: (result.errors ?? 0) + (result.timeouts ?? 0),
  };
}

function commandFor(generator, route, { port, connections, seconds, amount }) {
  const url = `http://127.0.0.1:${port}${route.path}`;
  if (generator.name === 'wrk') {
    // One thread: the load core is a single core, and 50 connections multiplex fine on it.
    const args = ['-t1', `-c${connections}`, `-d${seconds}s`, '--latency'];
    if (route.method === 'POST') args.push('-s', POST_LUA);
    return ['wrk', [...args, url]];
  }
  // A fixed number of requests (`amount`, autocannon only) instead of a duration.
  // A counted run is cost.mjs's, under valgrind: a request can take seconds there (a full
  // GC, an optimizing compile), past autocannon's 10-s default timeout.
  const limit =
    amount === undefined ? ['-d', String(seconds)] : ['-a', String(amount), '-t', '120'];
  const args = [AUTOCANNON_BIN, '-c', String(connections), ...limit, '-j', '-n'];
  if (route.method === 'POST') {
    args.push(
      '-m',
      'POST',
      '-H',
      'content-type=application/json',
      '-b',
      JSON.stringify(ORDER_BODY),
    );
  }
  return [process.execPath, [...args, url]];
}

/**
 * Load one route for `seconds` (or, with autocannon, for `amount` requests) and return its
 * numbers. The URL is always 127.0.0.1; the child is SIGKILLed if it runs 20 s past its
 * duration (`seconds` is the time limit when `amount` is given), so a run always ends.
 */
export function runLoad(generator, route, { port, connections, seconds, amount, cpu }) {
  if (amount !== undefined && generator.name !== 'autocannon')
    throw new Error('a request count (amount) needs autocannon');
  const [command, args] = pinned(
    cpu,
    ...commandFor(generator, route, { port, connections, seconds, amount }),
  );
  return new Promise((resolve, reject) => {
    const child = track(spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] }));
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    const watchdog = setTimeout(() => child.kill('SIGKILL'), (seconds + 20) * 1000);
    child.once('error', (error) => {
      clearTimeout(watchdog);
      reject(error);
    });
    child.once('exit', (code, signal) => {
      clearTimeout(watchdog);
      if (code !== 0) {
        reject(
          new Error(`${generator.name} failed (${signal ?? `code ${code}`}):\n${stderr}${stdout}`),
        );
        return;
      }
      try {
        resolve(generator.name === 'wrk' ? parseWrk(stdout) : parseAutocannon(stdout));
      } catch (error) {
        reject(error);
      }
    });
  });
}
