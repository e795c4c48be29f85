/** `security:check`: the configuration audit. */
export { AUDIT_CHECKS, type AuditInput, runAudit } from './audit-checks.js';
export {
  type AuditFinding,
  countBySeverity,
  SEVERITIES,
  type Severity,
  sortFindings,
} from './audit-finding.js';
export { type AuditReport, buildAuditReport, renderAuditMarkdown } from './audit-report.js';
export { auditInput, securityCheckCommand } from './security-check-command.js';
