import { type AuditFinding, countBySeverity, SEVERITIES } from './audit-finding.js';

export interface AuditReport {
  app: string;
  environment: string;
  /** Audited as production (`--production` or APP_ENV=production). */
  production: boolean;
  generatedAt: string;
  counts: Record<string, number>;
  passed: boolean;
  findings: AuditFinding[];
}

/** The report `--json` prints and `--report file.json` writes. */
export function buildAuditReport(
  findings: AuditFinding[],
  meta: { app: string; environment: string; production: boolean; now?: Date },
): AuditReport {
  const counts = countBySeverity(findings);
  return {
    app: meta.app,
    environment: meta.environment,
    production: meta.production,
    generatedAt: (meta.now ?? new Date()).toISOString(),
    counts,
    passed: counts.critical === 0,
    findings,
  };
}

const cell = (text: string): string => text.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');

/** The report as Markdown (`--report file.md`): a summary, then a table per severity. */
export function renderAuditMarkdown(report: AuditReport): string {
  const lines = [
    `# Security check: ${report.app}`,
    '',
    `Audited as ${report.production ? 'production' : report.environment} on ${report.generatedAt}.`,
    '',
    `**${report.passed ? 'Passed' : 'Failed'}**: ${SEVERITIES.map((s) => `${report.counts[s]} ${s}`).join(', ')}.`,
    '',
  ];
  for (const severity of SEVERITIES) {
    const found = report.findings.filter((f) => f.severity === severity);
    if (found.length === 0) continue;
    lines.push(`## ${severity[0]!.toUpperCase()}${severity.slice(1)}`, '');
    lines.push('| check | where | finding | fix |', '|---|---|---|---|');
    for (const f of found)
      lines.push(`| \`${f.id}\` | ${cell(f.subject)} | ${cell(f.title)} | ${cell(f.fix)} |`);
    lines.push('');
  }
  if (report.findings.length === 0) lines.push('No findings.', '');
  return lines.join('\n');
}
