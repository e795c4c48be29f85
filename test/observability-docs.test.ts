import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * The operator-facing files of docs/observability are code too: the alert rules and every
 * dashboard query must parse as PromQL (promtool, Debian's prometheus package), and every
 * metric they name must be one Keel exports (the catalogue in docs/observability/metrics.md).
 */
const root = fileURLToPath(new URL('..', import.meta.url));
const PROMTOOL = '/usr/bin/promtool';
const hasPromtool = existsSync(PROMTOOL);
if (!hasPromtool) {
  if (process.env.CI === 'true')
    throw new Error(`promtool is required under CI=true (${PROMTOOL})`);
  console.warn(`promtool not found at ${PROMTOOL}: the PromQL checks are skipped`);
}

const alerts = readFileSync(join(root, 'docs/observability/alerts.yml'), 'utf8');
const dashboard = JSON.parse(
  readFileSync(join(root, 'docs/observability/grafana-dashboard.json'), 'utf8'),
) as { panels: Array<{ type: string; title: string; targets?: Array<{ expr: string }> }> };
const catalogue = readFileSync(join(root, 'docs/observability/metrics.md'), 'utf8');

const queries = dashboard.panels.flatMap((panel) =>
  (panel.targets ?? []).map((target) => ({ panel: panel.title, expr: target.expr })),
);

/** Grafana's variables replaced by what Prometheus would see. */
function concrete(expr: string): string {
  return expr
    .replaceAll('$__rate_interval', '5m')
    .replaceAll('$__range', '1h')
    .replaceAll('$job', '.*');
}

/** The metric families a query names (histogram series folded into their family). */
function metricNames(expr: string): string[] {
  return [...expr.matchAll(/\b(keel_[a-z0-9_]+)/g)].map((m) =>
    (m[1] as string).replace(/_(bucket|sum|count)$/, ''),
  );
}

function promtool(
  args: string[],
  file: string,
  text: string,
): { status: number | null; out: string } {
  const dir = mkdtempSync(join(tmpdir(), 'keel-promql-'));
  try {
    const path = join(dir, file);
    writeFileSync(path, text);
    const result = spawnSync(PROMTOOL, [...args, path], { encoding: 'utf8' });
    return { status: result.status, out: `${result.stdout}${result.stderr}` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('docs/observability', () => {
  it('has a dashboard with a panel for each area the issue names', () => {
    const rows = dashboard.panels.filter((p) => p.type === 'row').map((p) => p.title);
    expect(rows).toEqual(
      expect.arrayContaining([
        'Executive summary',
        'API performance',
        'Errors',
        'Dependencies',
        'Queue',
        'Security signals',
      ]),
    );
    expect(queries.length).toBeGreaterThan(20);
  });

  it('names only metrics of the catalogue, in the dashboard and the alert rules', () => {
    const documented = new Set(
      [...catalogue.matchAll(/^\| `(keel_[a-z0-9_]+)`/gm)].map((m) => m[1] as string),
    );
    expect(documented.size).toBeGreaterThan(20);
    const named = new Set([...queries.flatMap((q) => metricNames(q.expr)), ...metricNames(alerts)]);
    // prom-client's default metrics are documented as a family (`keel_process_*`, `keel_nodejs_*`).
    const unknown = [...named].filter(
      (name) =>
        !documented.has(name) &&
        !name.startsWith('keel_process_') &&
        !name.startsWith('keel_nodejs_'),
    );
    expect(unknown).toEqual([]);
  });

  it.runIf(hasPromtool)('alert rules pass promtool check rules', () => {
    const { status, out } = promtool(['check', 'rules'], 'alerts.yml', alerts);
    expect(out).toContain('SUCCESS');
    expect(status).toBe(0);
  });

  it.runIf(hasPromtool)('every dashboard query parses as PromQL', () => {
    // As recording rules, promtool parses each expression and names the one that fails.
    const rules = queries
      .map(
        (q, i) =>
          `      - record: keel_dashboard:query_${i}\n        expr: ${JSON.stringify(concrete(q.expr))}`,
      )
      .join('\n');
    const { status, out } = promtool(
      ['check', 'rules'],
      'dashboard-rules.yml',
      `groups:\n  - name: dashboard\n    rules:\n${rules}\n`,
    );
    expect(out).toContain(`SUCCESS: ${queries.length} rules found`);
    expect(status).toBe(0);
  });

  it.runIf(hasPromtool)('a broken query is caught (the check is not vacuous)', () => {
    const { status } = promtool(
      ['check', 'rules'],
      'broken.yml',
      'groups:\n  - name: x\n    rules:\n      - record: x:y\n        expr: "sum(rate(keel_http_requests_total[5m]"\n',
    );
    expect(status).not.toBe(0);
  });
});
