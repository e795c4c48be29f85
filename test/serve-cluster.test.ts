import { type ChildProcess, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { APP_FILE, createFixtureApp, type FixtureApp, moduleFile } from './support/fixture-app.js';

const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const MAIN = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
const fixtures: FixtureApp[] = [];
const children: ChildProcess[] = [];
afterEach(async () => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
  await Promise.all(fixtures.splice(0).map((f) => f.cleanup()));
});

describe('keel serve --workers (real processes)', () => {
  it('serves from two workers sharing one port and stops on SIGTERM', async () => {
    const fixture = await createFixtureApp({
      'keel.config.ts': APP_FILE,
      'run.mjs': `import { main } from '${MAIN}';\nawait main();\n`,
      'config/http.ts': `export default { port: 0, host: '127.0.0.1' };\n`,
      'modules/ping/module.ts': moduleFile(
        `{ name: 'ping', version: '1.0.0', routes: () => import('./routes.ts') }`,
      ),
      'modules/ping/routes.ts': `export default (router) => { router.get('/pid', () => ({ pid: process.pid })); };\n`,
    });
    fixtures.push(fixture);
    const child = spawn(process.execPath, ['--import', TSX, 'run.mjs', 'serve', '--workers', '2'], {
      cwd: fixture.root,
      env: { ...process.env, VITEST: '', APP_ENV: 'development', NO_COLOR: '1', LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    let output = '';
    child.stdout!.on('data', (d: Buffer) => {
      output += d.toString();
    });
    child.stderr!.on('data', (d: Buffer) => {
      output += d.toString();
    });
    await expect
      .poll(() => (output.match(/HTTP listening on/g) ?? []).length, {
        timeout: 30_000,
        interval: 100,
      })
      .toBe(2);
    const ports = [...output.matchAll(/HTTP listening on http:\/\/[^:]+:(\d+)/g)].map((m) => m[1]);
    // Workers share the primary's listening socket, so both report the same port.
    expect(new Set(ports).size).toBe(1);
    const pids = new Set<number>();
    for (let i = 0; i < 40 && pids.size < 2; i++) {
      const res = await fetch(`http://127.0.0.1:${ports[0]}/pid`, {
        headers: { connection: 'close' },
      });
      pids.add(((await res.json()) as { pid: number }).pid);
    }
    // The primary hands connections to workers round-robin: both answer.
    expect(pids.size).toBe(2);
    expect(pids.has(child.pid!)).toBe(false);
    const exited = new Promise<number | null>((resolve) =>
      child.once('exit', (code) => resolve(code)),
    );
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  }, 60_000);
});
