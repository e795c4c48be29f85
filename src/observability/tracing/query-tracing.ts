import { basename } from 'node:path';
import { type Attributes, context, SpanKind, type Tracer } from '@opentelemetry/api';
import {
  ATTR_DB_NAMESPACE,
  ATTR_DB_OPERATION_NAME,
  ATTR_DB_QUERY_TEXT,
  ATTR_DB_SYSTEM_NAME,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
} from '@opentelemetry/semantic-conventions';
import type { ConnectionConfig, DialectName, QueryEvent, QueryListener } from '../../db/index.js';
import { recordFailure, traces } from './spans.js';

/** The pre-1.26 name of `db.system.name`, still read by many backends (Datadog, Jaeger UIs). */
export const ATTR_DB_SYSTEM = 'db.system';

const SYSTEMS: Record<DialectName, string> = {
  sqlite: 'sqlite',
  postgres: 'postgresql',
  mysql: 'mysql',
};

/** What every span of one connection carries: computed once per connection. */
interface ConnectionAttributes {
  readonly attributes: Attributes;
  readonly namespace: string | undefined;
}

export interface QueryTracingOptions {
  tracer: Tracer;
  /** The config of a connection by name (undefined: unknown, fewer attributes). */
  connection(name: string): ConnectionConfig | undefined;
  /** Only trace statements that run inside a span (a request, a job). */
  requireParent: boolean;
}

/**
 * A query listener that turns each statement into a client span after the fact: started
 * `durationMs` before the listener ran, ended when it ran, parented to the span active
 * where the statement ran. `db.query.text` is the SQL as compiled, with placeholders: bound
 * values are never recorded.
 */
export function queryTracingListener(options: QueryTracingOptions): QueryListener {
  const connections = new Map<string, ConnectionAttributes>();
  const describe = (event: QueryEvent): ConnectionAttributes => {
    let known = connections.get(event.connection);
    if (known === undefined) {
      known = connectionAttributes(event.dialect, options.connection(event.connection));
      connections.set(event.connection, known);
    }
    return known;
  };
  return (event) => {
    const parent = context.active();
    if (!traces(parent, options.requireParent)) return;
    const ended = performance.now();
    const { attributes: common, namespace } = describe(event);
    const operation = operationName(event);
    const attributes: Attributes = {
      ...common,
      [ATTR_DB_OPERATION_NAME]: operation,
      [ATTR_DB_QUERY_TEXT]: event.sql,
    };
    const span = options.tracer.startSpan(
      namespace === undefined ? operation : `${operation} ${namespace}`,
      { kind: SpanKind.CLIENT, startTime: ended - event.durationMs, attributes },
      parent,
    );
    if (event.error !== undefined) recordFailure(span, event.error);
    span.end(ended);
  };
}

/** `SELECT`, `INSERT`, ...; for DDL and transaction control, the statement's first word. */
function operationName(event: QueryEvent): string {
  switch (event.operation) {
    case 'select':
    case 'insert':
    case 'update':
    case 'delete':
      return event.operation.toUpperCase();
    default:
      return /^\s*([a-zA-Z]+)/.exec(event.sql)?.[1]?.toUpperCase() ?? 'QUERY';
  }
}

function connectionAttributes(
  dialect: DialectName,
  config: ConnectionConfig | undefined,
): ConnectionAttributes {
  const system = SYSTEMS[dialect];
  const attributes: Attributes = { [ATTR_DB_SYSTEM_NAME]: system, [ATTR_DB_SYSTEM]: system };
  let namespace: string | undefined;
  if (config?.driver === 'sqlite') {
    namespace = config.filename === ':memory:' ? ':memory:' : basename(config.filename);
  } else if (config !== undefined) {
    const url = parseUrl(config.url);
    const database = config.database ?? (url?.pathname.replace(/^\//, '') || undefined);
    const host = config.host ?? url?.hostname;
    const port = config.port ?? (url?.port ? Number(url.port) : undefined);
    // PostgreSQL's namespace is the schema qualified by the database: `{database}|{schema}`.
    const schema = config.driver === 'postgres' ? config.schema : undefined;
    namespace = database === undefined ? schema : schema ? `${database}|${schema}` : database;
    if (host) attributes[ATTR_SERVER_ADDRESS] = host;
    if (port !== undefined && Number.isFinite(port)) attributes[ATTR_SERVER_PORT] = port;
  }
  if (namespace !== undefined) attributes[ATTR_DB_NAMESPACE] = namespace;
  return { attributes, namespace };
}

function parseUrl(url: string | undefined): URL | undefined {
  if (url === undefined) return undefined;
  try {
    return new URL(url);
  } catch {
    return undefined;
  }
}
