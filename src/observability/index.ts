/**
 * Observability: request-scoped logs, Prometheus metrics, OpenTelemetry tracing and health
 * endpoints, each in its own folder behind this one public face.
 */

export * from './health/index.js';
export * from './logging/index.js';
export * from './metrics/index.js';
export * from './tracing/index.js';
