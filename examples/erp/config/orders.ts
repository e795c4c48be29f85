import { defineConfig, env } from 'keel';

// App-level config overrides module defaults (precedence: framework < module < app < env).
export default defineConfig({
  approvalThreshold: env.number('ORDERS_APPROVAL_THRESHOLD', 5000),
  invoiceBacklogWarn: env.number('ORDERS_INVOICE_BACKLOG_WARN', 100),
});
