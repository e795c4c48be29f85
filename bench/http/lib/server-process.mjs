// Starting and stopping one peer server: a process pinned to its core that must say `ready`
// in time, and must be gone (port released) once stopped.
import { spawn } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

const PEERS_DIR = fileURLToPath(new URL('../peers/', import.meta.url));

/** Every child the harness started and has not yet seen exit; killed if the harness dies. */
export const liveChildren = new Set();

/** Track a child so an interrupted harness never leaves a server or wrk behind. */
export function track(child) {
  liveChildren.add(child);
  child.once('exit', () => liveChildren.delete(child));
  return child;
}

/** A TCP port on 127.0.0.1 that nothing listens on right now. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.unref();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

/** True when something accepts connections on 127.0.0.1:port. */
export function isListening(port) {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Prefix a command with `taskset -c <cpu>` when pinning is on. */
export function pinned(cpu, command, args) {
  return cpu === undefined ? [command, args] : ['taskset', ['-c', String(cpu), command, ...args]];
}

/**
 * Start `peers/<name>.mjs` on `port` and resolve once it prints `ready`. Rejects with the
 * tail of its output when it exits first or stays silent past `readyTimeoutMs`.
 */
export async function startServer(
  name,
  { port, cpu, wrap = [], nodeFlags = [], logFile, readyTimeoutMs = 20_000 },
) {
  // `wrap` runs node under another program (valgrind for the cost run), argv first;
  // `nodeFlags` go to node itself (V8 traces that NODE_OPTIONS refuses).
  const node = [...wrap, process.execPath, ...nodeFlags, `${PEERS_DIR}${name}.mjs`];
  const [command, args] = pinned(cpu, node[0], node.slice(1));
  const child = track(
    spawn(command, args, {
      cwd: PEERS_DIR,
      env: { ...process.env, PORT: String(port), NODE_ENV: 'production' },
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
  let output = '';
  const keep = (chunk) => {
    output = (output + chunk).slice(-4000);
  };
  child.stderr.on('data', keep);
  if (logFile) {
    // Everything the server prints, traces included, besides what the harness reads.
    const log = createWriteStream(logFile);
    child.stdout.pipe(log, { end: false });
    child.stderr.pipe(log, { end: false });
    // 'close', not 'exit': the pipes may still deliver output after the process exits.
    child.once('close', () => log.end());
  }

  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      fail(new Error(`${name} did not print "ready" within ${readyTimeoutMs} ms`));
    }, readyTimeoutMs);
    function fail(error) {
      clearTimeout(timer);
      child.stdout.off('data', onData);
      child.off('exit', onExit);
      error.message += output ? `\n--- ${name} output ---\n${output.trimEnd()}` : '';
      stopServer(child).then(() => reject(error), reject);
    }
    function onExit(code, signal) {
      fail(new Error(`${name} exited (${signal ?? `code ${code}`}) before printing "ready"`));
    }
    function onData(chunk) {
      keep(chunk);
      if (/^ready\s*$/m.test(output)) {
        clearTimeout(timer);
        child.stdout.off('data', onData);
        child.off('exit', onExit);
        // Keep draining stdout so a chatty server never blocks on a full pipe.
        child.stdout.resume();
        resolve();
      }
    }
    child.stdout.on('data', onData);
    child.once('exit', onExit);
  });
  return { child, name, port, output: () => output };
}

function exited(child, ms) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.off('exit', onExit);
      resolve(false);
    }, ms);
    function onExit() {
      clearTimeout(timer);
      resolve(true);
    }
    child.once('exit', onExit);
  });
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the process has exited. */
export async function stopServer(child, graceMs = 3000) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  if (await exited(child, graceMs)) return;
  child.kill('SIGKILL');
  await exited(child, 5000);
}

/** Wait until nothing listens on `port` any more (the kernel frees it when the owner exits). */
export async function waitPortFree(port, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs;
  while (await isListening(port)) {
    if (Date.now() > deadline)
      throw new Error(`port ${port} is still in use after the server stopped`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const CLOCK_TICKS = 100; // USER_HZ, 100 on every Linux this runs on

/**
 * CPU seconds (user + system, every thread) a process has used so far, from
 * `/proc/<pid>/stat`; undefined where /proc is missing. Divided by the requests served,
 * it gives a cost per request that a noisy neighbour inflates far less than req/s.
 */
export function cpuSeconds(pid) {
  let stat;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // Fields after the command name, which may itself hold spaces and parentheses.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

/** Kill whatever is still running; used on SIGINT and on exit. */
export function killAll(signal = 'SIGKILL') {
  for (const child of liveChildren) child.kill(signal);
}
