import { defineError } from '../../support/index.js';

/**
 * The metrics catalogue: a scrape refused (403) or asked for an unknown format (400),
 * configuration faults raised at boot, and metric registrations a module got wrong (500).
 */

export const E_METRICS_FORBIDDEN = defineError(
  'E_METRICS_FORBIDDEN',
  (path: string) =>
    `The metrics at ${path} are served to loopback clients and to holders of the metrics API key only`,
  {
    status: 403,
    help: 'Scrape from the same host, or send "Authorization: Bearer <key>" with the key of METRICS_API_KEY (or metrics.apiKey in config/metrics.ts).',
    details: (path) => ({ path }),
  },
);

export const E_METRICS_UNKNOWN_FORMAT = defineError(
  'E_METRICS_UNKNOWN_FORMAT',
  (format: string) => `Unknown metrics format "${format.slice(0, 40)}"; use "text" or "json"`,
  {
    status: 400,
    help: 'Leave out ?format for the Prometheus text format, or ask for ?format=json.',
    details: (format) => ({ format: format.slice(0, 40) }),
  },
);

export const E_METRICS_CONFIG_INVALID = defineError(
  'E_METRICS_CONFIG_INVALID',
  (key: string, reason: string) => `Invalid metrics config at "${key}": ${reason}`,
  {
    status: 500,
    help: 'Fix config/metrics.ts: see docs/observability/metrics.md for every key, its type and default.',
    details: (key, reason) => ({ key, reason }),
  },
);

export const E_METRICS_INVALID_METRIC = defineError(
  'E_METRICS_INVALID_METRIC',
  (name: string, reason: string) => `Cannot register the metric "${name.slice(0, 100)}": ${reason}`,
  {
    status: 500,
    help: 'Name metrics and labels with [a-zA-Z_][a-zA-Z0-9_]* (the registry adds the "keel_" prefix), give each name one type, and pass every declared label.',
    details: (name, reason) => ({ name: name.slice(0, 100), reason }),
  },
);
