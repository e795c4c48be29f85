/** How bad a finding is; any `critical` makes `security:check` exit non-zero. */
export type Severity = 'critical' | 'high' | 'medium' | 'low';

export const SEVERITIES: readonly Severity[] = ['critical', 'high', 'medium', 'low'];

/** One thing `security:check` found wrong with the application's configuration. */
export interface AuditFinding {
  /** Stable identifier of the check (`app-key-weak`), for suppressions and tooling. */
  id: string;
  severity: Severity;
  /** One line: what is wrong. */
  title: string;
  /** Where: a config key, an env variable, a route (`POST /orders`). */
  subject: string;
  /** What to do about it. */
  fix: string;
}

/** Findings worst first, then by check id and subject, so reports diff cleanly. */
export function sortFindings(findings: readonly AuditFinding[]): AuditFinding[] {
  return [...findings].sort(
    (a, b) =>
      SEVERITIES.indexOf(a.severity) - SEVERITIES.indexOf(b.severity) ||
      a.id.localeCompare(b.id) ||
      a.subject.localeCompare(b.subject),
  );
}

/** How many findings of each severity. */
export function countBySeverity(findings: readonly AuditFinding[]): Record<Severity, number> {
  const counts: Record<Severity, number> = { critical: 0, high: 0, medium: 0, low: 0 };
  for (const finding of findings) counts[finding.severity]++;
  return counts;
}
