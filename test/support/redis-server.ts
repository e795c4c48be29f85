import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, constants, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, onTestFinished } from 'vitest';

/** The redis-server binary: `REDIS_SERVER_BIN`, else the distribution's. */
export const REDIS_SERVER_BIN = process.env.REDIS_SERVER_BIN || '/usr/bin/redis-server';

/** A redis-server of this test's own, on 127.0.0.1, without persistence. */
export interface PrivateRedis {
  readonly port: number;
  /** `redis://127.0.0.1:<port>`. */
  readonly url: string;
  /** Whether the process is alive. */
  readonly running: boolean;
  /** End it with `signal` and wait for the exit (a stopped server stays stopped). */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** SIGKILL: the outage without a goodbye (open sockets are reset, not closed by Redis). */
  kill(): Promise<void>;
  /** SIGSTOP: a hung server; connections stay open and commands get no reply. */
  pause(): void;
  /** SIGCONT after pause(). */
  resume(): void;
  /** Start it again on the same port (stopping it first if it runs) and wait for PING. */
  restart(): Promise<void>;
  /** SIGKILL and remove its directory: the end of its life (reaping calls this). */
  dispose(): Promise<void>;
}

// Safety net for a worker that ends without running its hooks: no server outlives it.
const live = new Set<ChildProcess>();
const dirs = new Set<string>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/**
 * Whether redis-server can be started: true when the binary exists; when it does not,
 * locally the suite is skipped with a message, and under `CI=true` this throws so the run
 * fails instead of passing by skipping.
 *
 * @example
 * ```ts
 * describe.runIf(requireRedisServer())('redis outage', () => { ... });
 * ```
 */
export function requireRedisServer(): boolean {
  try {
    accessSync(REDIS_SERVER_BIN, constants.X_OK);
    return true;
  } catch {
    const message = `${REDIS_SERVER_BIN} is missing (set REDIS_SERVER_BIN)`;
    if (process.env.CI === 'true') throw new Error(`${message}; CI=true requires it`);
    console.warn(`skipping private redis-server suites: ${message}`);
    return false;
  }
}

/**
 * A private server for the suite: started before its tests, disposed of after them.
 * Tests that kill it restart it themselves, or leave it down for the next one to restart.
 *
 * @example
 * ```ts
 * const redis = usePrivateRedis();
 * it('...', async () => { const store = await RedisStore.connect({ url: redis().url }); });
 * ```
 */
export function usePrivateRedis(): () => PrivateRedis {
  let server: PrivateRedis | undefined;
  beforeAll(async () => {
    server = await startRedisServer({ reap: false });
  });
  afterAll(async () => {
    await server?.dispose();
  });
  return () => {
    if (!server) throw new Error('usePrivateRedis: the server starts in beforeAll');
    return server;
  };
}

/**
 * Start `redis-server` on a free port of 127.0.0.1 (no RDB, no AOF, a temporary dir) and
 * wait until it answers PING. Called inside a test it is killed when the test finishes;
 * elsewhere pass `reap: false` and stop it yourself (usePrivateRedis does).
 */
export async function startRedisServer(options: { reap?: boolean } = {}): Promise<PrivateRedis> {
  const dir = mkdtempSync(join(tmpdir(), 'keel-redis-'));
  dirs.add(dir);
  let port = 0;
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();

  const launch = async (): Promise<void> => {
    mkdirSync(dir, { recursive: true });
    const proc = spawn(
      REDIS_SERVER_BIN,
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--dir',
        dir,
        '--daemonize',
        'no',
        '--loglevel',
        'warning',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    proc.stdout!.on('data', (d: Buffer) => {
      output += d.toString();
    });
    proc.stderr!.on('data', (d: Buffer) => {
      output += d.toString();
    });
    live.add(proc);
    child = proc;
    exited = new Promise((resolve) => {
      proc.once('exit', () => {
        live.delete(proc);
        resolve();
      });
    });
    if (!(await answersPing(port, proc))) {
      proc.kill('SIGKILL');
      await exited;
      throw new Error(`redis-server on port ${port} did not answer PING:\n${output}`);
    }
  };

  const stop = async (signal: NodeJS.Signals = 'SIGTERM'): Promise<void> => {
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill(signal);
      // A paused server handles no signal but SIGKILL until it runs again.
      if (signal !== 'SIGKILL') child.kill('SIGCONT');
    }
    await exited;
  };

  // The free port is found by binding port 0 and releasing it; another process can take it
  // in between, so a failed start retries on a new port.
  for (let attempt = 1; ; attempt++) {
    port = await freePort();
    try {
      await launch();
      break;
    } catch (error) {
      if (attempt === 3) {
        rmSync(dir, { recursive: true, force: true });
        dirs.delete(dir);
        throw error;
      }
    }
  }

  const server: PrivateRedis = {
    port,
    url: `redis://127.0.0.1:${port}`,
    get running() {
      return child !== undefined && child.exitCode === null && child.signalCode === null;
    },
    stop,
    kill: () => stop('SIGKILL'),
    pause: () => {
      if (server.running) child!.kill('SIGSTOP');
    },
    resume: () => {
      if (server.running) child!.kill('SIGCONT');
    },
    restart: async () => {
      await stop('SIGKILL');
      await launch();
    },
    dispose: async () => {
      await stop('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
      dirs.delete(dir);
    },
  };
  if (options.reap !== false) onTestFinished(() => server.dispose());
  return server;
}

/** A port nothing listens on right now. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(address),
      );
    });
  });
}

/** Poll with PING until +PONG (true), the process exits or 10 s pass (false). */
async function answersPing(port: number, proc: ChildProcess): Promise<boolean> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null || proc.signalCode !== null) return false;
    if (await ping(port)) return true;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return false;
}

function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    let reply = '';
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (d: Buffer) => {
      reply += d.toString();
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
    });
  });
}
