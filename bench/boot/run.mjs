#!/usr/bin/env node
// Boot benchmark: time from spawning the process to the first HTTP response, for an app with
// 50 modules and 500 routes booted three ways: scanned (development: TypeScript through tsx,
// modules discovered by scanning), compiled (`keel build`: JavaScript + var/cache artifacts)
// and bundled (`keel build --bundle`: one server.mjs). Cold = the first start after a build
// with the TS loader's cache emptied; warm = the median of the following runs.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateApp } from './generate-app.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const repo = join(here, '..', '..');
const keel = join(repo, 'bin', 'keel.js');
const appDir = join(here, 'tmp', 'app');
const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i === -1 ? fallback : Number(args[i + 1]);
};
const warmRuns = opt('runs', 7);
const modules = opt('modules', 50);
const routesPerModule = opt('routes', 10);
const APP_KEY = `base64:${Buffer.alloc(32, 7).toString('base64')}`;

if (!existsSync(join(repo, 'dist', 'cli', 'main.js'))) {
  console.log('building Keel (npm run build)...');
  execFileSync('npm', ['run', 'build'], { cwd: repo, stdio: 'inherit' });
}

let port = 4300;
function bootOnce(command, argv, cwd, env) {
  port += 1;
  const target = port;
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(command, argv, {
      cwd,
      env: {
        ...process.env,
        PORT: String(target),
        HOST: '127.0.0.1',
        LOG_LEVEL: 'warn',
        NO_COLOR: '1',
        ...env,
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    let done = false;
    const deadline = setTimeout(
      () => finish(new Error(`no response within 30 s\n${stderr}`)),
      30_000,
    );
    const finish = (error, ms) => {
      if (done) return;
      done = true;
      clearTimeout(deadline);
      child.kill('SIGKILL');
      child.once('exit', () => (error ? reject(error) : resolve(ms)));
    };
    child.once('exit', (code) => finish(new Error(`exited with ${code}\n${stderr}`)));
    const url = `http://127.0.0.1:${target}/mod${modules - 1}/items${routesPerModule - 1}/42`;
    const poll = async () => {
      while (!done) {
        try {
          const res = await fetch(url);
          if (res.status === 200) {
            await res.arrayBuffer();
            return finish(undefined, Number(process.hrtime.bigint() - started) / 1e6);
          }
          return finish(new Error(`status ${res.status}: ${await res.text()}`));
        } catch {
          await new Promise((r) => setTimeout(r, 2));
        }
      }
    };
    poll();
  });
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function measure(label, command, argv, cwd, env, beforeCold) {
  beforeCold?.();
  const cold = await bootOnce(command, argv, cwd, env);
  const warm = [];
  for (let i = 0; i < warmRuns; i++) warm.push(await bootOnce(command, argv, cwd, env));
  const result = {
    label,
    cold,
    warm: median(warm),
    min: Math.min(...warm),
    max: Math.max(...warm),
  };
  console.log(
    `${label.padEnd(10)} cold ${cold.toFixed(0).padStart(6)} ms   warm ${result.warm.toFixed(0).padStart(6)} ms (min ${result.min.toFixed(0)}, max ${result.max.toFixed(0)})`,
  );
  return result;
}

const clearTsxCache = () => {
  for (const dir of [join(tmpdir(), `tsx-${process.getuid?.() ?? ''}`), join(tmpdir(), 'tsx')])
    rmSync(dir, { recursive: true, force: true });
};

console.log(`generating ${modules} modules × ${routesPerModule} routes in ${appDir}`);
await generateApp(appDir, { modules, routesPerModule });
execFileSync(process.execPath, [keel, 'build', '--bundle'], { cwd: appDir, stdio: 'ignore' });

const results = [];
results.push(
  await measure(
    'scanned',
    process.execPath,
    [keel, 'serve'],
    appDir,
    { APP_ENV: 'development' },
    () => {
      rmSync(join(appDir, 'var', 'cache'), { recursive: true, force: true });
      clearTsxCache();
    },
  ),
);
results.push(
  await measure('compiled', process.execPath, [keel, 'serve'], join(appDir, 'build'), {
    APP_ENV: 'production',
    APP_KEY,
  }),
);
results.push(
  await measure(
    'bundled',
    process.execPath,
    [join(appDir, 'build', 'server.mjs'), 'serve'],
    join(appDir, 'build'),
    {
      APP_ENV: 'production',
      APP_KEY,
    },
  ),
);

const [scanned, compiled, bundled] = results;
const lines = [
  `# Boot benchmark — ${new Date().toISOString()}`,
  '',
  `Node ${process.version}, ${cpus()[0]?.model ?? 'cpu'} × ${cpus().length}. App: ${modules} modules, ${modules * routesPerModule} routes.`,
  `Time from spawn to the first 200 response; warm = median of ${warmRuns} runs.`,
  '',
  '| mode | cold ms | warm ms (min–max) | warm speed-up vs scanned |',
  '|---|---:|---:|---:|',
  ...results.map(
    (r) =>
      `| ${r.label} | ${r.cold.toFixed(0)} | ${r.warm.toFixed(0)} (${r.min.toFixed(0)}–${r.max.toFixed(0)}) | ${(scanned.warm / r.warm).toFixed(2)}× |`,
  ),
  '',
  `Cold speed-up vs scanned: compiled ${(scanned.cold / compiled.cold).toFixed(2)}×, bundled ${(scanned.cold / bundled.cold).toFixed(2)}×.`,
  '',
];
mkdirSync(join(here, 'results'), { recursive: true });
writeFileSync(join(here, 'results', 'latest.md'), lines.join('\n'));
console.log(`\n${lines.join('\n')}`);
