import { defineError } from '../../support/index.js';

/**
 * The tracing catalogue: a `tracing` config (or its environment variables) that cannot be
 * used fails the boot with the key it is about, instead of a process that silently sends
 * no traces.
 */

export const E_TRACING_CONFIG_INVALID = defineError(
  'E_TRACING_CONFIG_INVALID',
  (path: string, reason: string) => `Invalid tracing config at "${path}": ${reason}`,
  {
    status: 500,
    help: 'Fix config/tracing.ts (or TRACING_ENABLED, TRACING_DRIVER, TRACING_SAMPLE_RATIO, OTEL_EXPORTER_OTLP_*); see docs/observability/tracing.md for every option.',
    details: (path) => ({ path }),
  },
);

export const E_TRACING_SDK_MISSING = defineError(
  'E_TRACING_SDK_MISSING',
  (driver: string, pkg: string) =>
    `Tracing driver "${driver}" needs the package ${pkg}, which cannot be loaded`,
  {
    status: 500,
    help: 'Install the OpenTelemetry packages tracing uses (npm install @opentelemetry/sdk-trace-base @opentelemetry/core @opentelemetry/resources @opentelemetry/exporter-trace-otlp-http), or set TRACING_ENABLED=false.',
    details: (driver, pkg) => ({ driver, package: pkg }),
  },
);
