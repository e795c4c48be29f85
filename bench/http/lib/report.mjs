import { readFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { git, installedVersion, median } from '../../lib/common.mjs';

export { median };

const HTTP_DIR = fileURLToPath(new URL('../', import.meta.url));
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** The framework each peer runs and its installed version, for the report header. */
const PEER_PACKAGES = {
  fastify: ['fastify'],
  express: ['express'],
  hono: ['hono', '@hono/node-server', '@hono/zod-validator'],
  nestjs: ['@nestjs/core', '@nestjs/platform-express'],
  'node-http': [],
  keel: [],
};

/** Versions of what was measured: each peer's packages, zod, pino, and Keel's commit. */
export function peerVersions(servers) {
  const versions = {};
  for (const server of servers) {
    if (server === 'keel' || server === 'keel-observed') {
      // keel-observed is the same build with the observability stack on.
      const dirty = git(['status', '--porcelain', '--', 'src'])
        ? ' (src has uncommitted changes)'
        : '';
      versions[server] =
        `${JSON.parse(readFileSync(`${ROOT}package.json`, 'utf8')).version} @ ${git(['rev-parse', '--short', 'HEAD'])}${dirty}`;
    } else if (server === 'node-http') {
      versions['node-http'] = `node ${process.version}`;
    } else {
      versions[server] = (PEER_PACKAGES[server] ?? [server])
        .map((p) => `${p} ${installedVersion(p, HTTP_DIR)}`)
        .join(', ');
    }
  }
  versions.shared = ['zod', 'pino'].map((p) => `${p} ${installedVersion(p, HTTP_DIR)}`).join(', ');
  return versions;
}

/** The machine the numbers were taken on. */
export function machineInfo() {
  const cpus = os.cpus();
  return {
    node: process.version,
    cpu: cpus[0]?.model?.trim() ?? 'unknown',
    cores: cpus.length,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    os: `${os.type()} ${os.release()} (${os.arch()})`,
  };
}

/** The server every ratio is taken against: Keel, else raw node:http, else the first one. */
export function pickBaseline(servers) {
  if (servers.includes('keel')) return 'keel';
  return servers.includes('node-http') ? 'node-http' : servers[0];
}

/**
 * Per route and server: median req/s, req/s min–max, median p99, and the ratio to the
 * baseline's req/s in the same round (median and min–max across rounds).
 */
export function summarise(samples, servers, routes, baseline) {
  const summary = {};
  for (const route of routes) {
    const rows = [];
    for (const server of servers) {
      const runs = samples[server]?.[route.id] ?? [];
      if (runs.length === 0) continue;
      const base = samples[baseline]?.[route.id] ?? [];
      // Each run against the baseline's run of the same round, when there is one: req/s
      // ratio, and the baseline's CPU per request over this server's (above 1 means this
      // server spends less CPU per request than the baseline).
      const paired = runs.map((run) => {
        const same = base.find((b) => b.round === run.round);
        return {
          fork: run.fork ?? 1,
          ratio: same ? run.rps / same.rps : undefined,
          cpuRatio: same?.cpuUs && run.cpuUs ? same.cpuUs / run.cpuUs : undefined,
        };
      });
      const defined = (values) => values.filter((v) => v !== undefined);
      const ratios = defined(paired.map((p) => p.ratio));
      const cpuRatios = defined(paired.map((p) => p.cpuRatio));
      // Each fork's median ratio: how far apart fresh processes of the same code land.
      const forks = [...new Set(paired.map((p) => p.fork))].sort((a, b) => a - b);
      const forkRatios = forks.map((fork) =>
        median(defined(paired.filter((p) => p.fork === fork).map((p) => p.ratio))),
      );
      const rps = runs.map((r) => r.rps);
      const cpu = defined(runs.map((r) => r.cpuUs));
      const peers = defined(runs.map((r) => r.peersCpuMs));
      rows.push({
        server,
        rounds: runs.length,
        rps: median(rps),
        rpsMin: Math.min(...rps),
        rpsMax: Math.max(...rps),
        p99: median(runs.map((r) => r.p99)),
        ratio: ratios.length ? median(ratios) : undefined,
        ratioMin: ratios.length ? Math.min(...ratios) : undefined,
        ratioMax: ratios.length ? Math.max(...ratios) : undefined,
        forkRatios: ratios.length ? forkRatios : undefined,
        cpuUs: cpu.length ? median(cpu) : undefined,
        cpuRatio: cpuRatios.length ? median(cpuRatios) : undefined,
        cpuRatioMin: cpuRatios.length ? Math.min(...cpuRatios) : undefined,
        cpuRatioMax: cpuRatios.length ? Math.max(...cpuRatios) : undefined,
        peersCpuMs: peers.length ? median(peers) : undefined,
        peersCpuMsMax: peers.length ? Math.max(...peers) : undefined,
        errors: runs.reduce((sum, r) => sum + r.non2xx + r.socketErrors, 0),
      });
    }
    rows.sort((a, b) => b.rps - a.rps);
    summary[route.id] = rows;
  }
  return summary;
}

const int = (n) => Math.round(n).toLocaleString('en-US');
const fixed = (n, digits = 2) => n.toFixed(digits);

/** The Markdown report: settings, machine, one table per route, and the method notes. */
export function toMarkdown({ meta, summary, routes, baseline }) {
  const lines = [];
  const baseName = baseline === 'keel' ? 'Keel' : baseline;
  lines.push(`# HTTP benchmark — ${meta.date}`, '');
  const forks = meta.forks ?? 1;
  lines.push(
    (forks > 1
      ? `${forks} forks (every server started afresh ${forks} times) of ${meta.rounds} alternating round(s)`
      : `${meta.rounds} alternating round(s)`) +
      ` of ${meta.duration} s per route (after a ${meta.warmup} s warm-up that is not counted` +
      (meta.rewarm ? `, and ${meta.rewarm} s more before every measured run` : '') +
      '), ' +
      `${meta.connections} connections, load generator ${meta.loadGenerator}. ` +
      (meta.pinned
        ? `Server pinned to CPU ${meta.serverCpu}, load generator to CPU ${meta.loadCpu} (\`taskset\`).`
        : '**Not pinned** (taskset missing or fewer than 2 CPUs): numbers are noisier.'),
    '',
  );
  lines.push(
    `Machine: ${meta.machine.cpu}, ${meta.machine.cores} cores, ${meta.machine.memoryGiB} GiB, ${meta.machine.os}, ` +
      `Node ${meta.machine.node}; 1-minute load average at start ${meta.loadBefore.toFixed(2)}.`,
    '',
  );
  if (meta.nodeFlags?.length) {
    lines.push(
      `Every server ran with \`node ${meta.nodeFlags.join(' ')}\`: the numbers include what those flags cost.`,
      '',
    );
  }
  if (meta.loadBefore > 0.5) {
    lines.push(
      `**Load average was ${meta.loadBefore.toFixed(2)} when the run started**: other processes shared the cores, so treat these numbers as rough.`,
      '',
    );
  }
  lines.push('Versions:', '');
  for (const [name, version] of Object.entries(meta.versions)) lines.push(`- ${name}: ${version}`);
  lines.push('');
  if (meta.skipped.length) lines.push(`Skipped: ${meta.skipped.join('; ')}.`, '');
  lines.push(
    `Ratio = server req/s ÷ ${baseName} req/s in the same round; median, then min–max across rounds. ` +
      `Above 1 means faster than ${baseName}. ` +
      `CPU µs/req = the server process's user + system CPU time (all threads, /proc/<pid>/stat) over the requests it answered during the measured run; ` +
      `CPU efficiency = ${baseName}'s CPU µs/req ÷ the server's in the same round, above 1 means the server spends less CPU per request than ${baseName}. ` +
      'CPU time is far less sensitive than req/s to other tenants of the machine. ' +
      "Peers' CPU = the CPU time the other, idle servers used during this server's runs (ms per run, median and max, in clock ticks of 10 ms): their timers and garbage collections share the server core." +
      (forks > 1
        ? ` Per fork = the median ratio within each fork, in fork order: two forks of the same code can differ by several percent, so only a difference that holds in every fork is one to trust.`
        : ''),
    '',
  );
  for (const route of routes) {
    const rows = summary[route.id] ?? [];
    lines.push(`## ${route.label}`, '');
    const perFork = forks > 1 ? ` per fork |` : '';
    lines.push(
      `| server | req/s (median) | req/s min–max | p99 ms (median) | vs ${baseName} (min–max) |${perFork} CPU µs/req | CPU efficiency vs ${baseName} (min–max) | peers' CPU ms | errors |`,
    );
    lines.push(`|---|---:|---:|---:|---:|${forks > 1 ? '---:|' : ''}---:|---:|---:|---:|`);
    for (const row of rows) {
      const ratio =
        row.ratio === undefined
          ? 'n/a'
          : `${fixed(row.ratio)} (${fixed(row.ratioMin)}–${fixed(row.ratioMax)})`;
      const cpuRatio =
        row.cpuRatio === undefined
          ? 'n/a'
          : `${fixed(row.cpuRatio)} (${fixed(row.cpuRatioMin)}–${fixed(row.cpuRatioMax)})`;
      const name = row.server === baseline ? `**${row.server}**` : row.server;
      const peersCpu =
        row.peersCpuMs === undefined
          ? 'n/a'
          : `${Math.round(row.peersCpuMs)} (max ${Math.round(row.peersCpuMsMax)})`;
      const byFork =
        forks > 1
          ? ` ${row.forkRatios ? row.forkRatios.map((r) => fixed(r)).join(' / ') : 'n/a'} |`
          : '';
      lines.push(
        `| ${name} | ${int(row.rps)} | ${int(row.rpsMin)}–${int(row.rpsMax)} | ${fixed(row.p99)} | ${ratio} |${byFork} ` +
          `${row.cpuUs === undefined ? 'n/a' : fixed(row.cpuUs, 1)} | ${cpuRatio} | ${peersCpu} | ${row.errors} |`,
      );
    }
    lines.push('');
  }
  lines.push(
    '`errors` counts non-2xx responses plus socket errors over all measured rounds; it should be 0.',
    'Method and peer configuration: see bench/README.md.',
    '',
  );
  return lines.join('\n');
}
