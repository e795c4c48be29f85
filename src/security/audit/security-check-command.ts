import { writeFileSync } from 'node:fs';
import { extname, resolve } from 'node:path';
import type { RouteListEntry } from '../../http/router/route-table.js';
import { type Application, defineCommand } from '../../kernel/index.js';
import { type AuditInput, runAudit } from './audit-checks.js';
import { sortFindings } from './audit-finding.js';
import { buildAuditReport, renderAuditMarkdown } from './audit-report.js';

/** The audit's view of an application: its env, config, routes and config resolvers. */
export async function auditInput(app: Application, production: boolean): Promise<AuditInput> {
  const env = (name: string) => app.env.variable(name);
  const config = (key: string) => app.config.get(key as never) as unknown;
  const table = app.container.bound('http.routes') ? app.make('http.routes') : undefined;
  const routes =
    table !== undefined && typeof (table as { list?: unknown }).list === 'function'
      ? (table as { list(): RouteListEntry[] }).list()
      : undefined;
  // Each subsystem's own resolver, loaded only when it is there to audit: the audit sees the
  // values the app runs with (env fallbacks and production defaults included).
  const { resolveSessionConfig } = await import('../../session/config.js');
  const { resolveHeadersConfig } = await import('../headers/headers-config.js');
  const { resolveDatabaseConfig } = await import('../../db/config.js');
  return {
    production,
    debug: app.env.debug,
    env,
    config,
    routes,
    root: app.paths.root,
    bound: (key) => app.container.bound(key as never),
    resolve: {
      session: () =>
        app.container.bound('session.manager')
          ? resolveSessionConfig(config('session'), env, production)
          : undefined,
      headers: () => resolveHeadersConfig(config('security.headers')).get('default'),
      database: () =>
        app.container.bound('db')
          ? (resolveDatabaseConfig(config('database'), env).connections as Record<
              string,
              Record<string, unknown>
            >)
          : undefined,
    },
  };
}

/**
 * `keel security:check [--production] [--json] [--report <file>]`: audits the configuration
 * the app runs with — debug in production, the APP_KEY, cookie flags, CORS, HSTS and HTTPS,
 * open metrics and health endpoints, default database credentials, unthrottled login
 * routes, web routes without CSRF, unsafe routes without auth — and prints the findings
 * worst first. Any critical finding exits 1. `--report` writes Markdown (`.md`) or JSON.
 */
export const securityCheckCommand = defineCommand<Application>({
  name: 'security:check',
  description: 'Audit the security configuration (exit 1 on a critical finding)',
  json: true,
  needs: 'booted',
  options: [
    { flags: '--production', description: 'Audit as production, whatever APP_ENV is' },
    {
      flags: '--report <file>',
      description: 'Also write the report (.md for Markdown, else JSON)',
    },
  ],
  async handle({ app, options, ui, cwd }) {
    const production = options.production === true || app.env.isProduction;
    const findings = sortFindings(runAudit(await auditInput(app, production)));
    const report = buildAuditReport(findings, {
      app: app.name,
      environment: app.env.appEnv,
      production,
    });
    if (typeof options.report === 'string') {
      const file = resolve(cwd, options.report);
      writeFileSync(
        file,
        extname(file) === '.md'
          ? renderAuditMarkdown(report)
          : `${JSON.stringify(report, null, 2)}\n`,
      );
    }
    ui.output(report, () => {
      if (findings.length > 0)
        ui.table(
          findings.map((f) => ({
            severity: f.severity,
            check: f.id,
            where: f.subject,
            finding: f.title,
          })),
          ['severity', 'check', 'where', 'finding'],
        );
      const summary = Object.entries(report.counts)
        .map(([severity, n]) => `${n} ${severity}`)
        .join(', ');
      if (report.passed) ui.success(`security check passed (${summary})`);
      else ui.error(`security check failed (${summary}): fix the critical findings first`);
    });
    return report.passed ? 0 : 1;
  },
});
