import type { MysqlConnectionConfig, PostgresConnectionConfig } from '../config.js';

/** Where a server connection points, merged from its `url` and its own fields. */
export interface ServerTarget {
  host?: string;
  port?: number;
  user?: string;
  /** Given to tools through the environment only (PGPASSWORD, MYSQL_PWD). */
  password?: string;
  database?: string;
  ssl: boolean;
}

/**
 * The target of a PostgreSQL or MySQL connection: the fields override the parts of `url`
 * (as the drivers do), so `url` with a `password` field uses that password.
 */
export function serverTarget(
  config: PostgresConnectionConfig | MysqlConnectionConfig,
): ServerTarget {
  const target: ServerTarget = { ssl: Boolean(config.ssl) };
  if (config.url) {
    const url = new URL(config.url);
    if (url.hostname) target.host = decodeURIComponent(url.hostname).replace(/^\[|\]$/g, '');
    if (url.port) target.port = Number(url.port);
    if (url.username) target.user = decodeURIComponent(url.username);
    if (url.password) target.password = decodeURIComponent(url.password);
    const database = decodeURIComponent(url.pathname.replace(/^\//, ''));
    if (database) target.database = database;
    const mode = url.searchParams.get('sslmode');
    if (mode && mode !== 'disable') target.ssl = true;
  }
  if (config.host !== undefined) target.host = config.host;
  if (config.port !== undefined) target.port = config.port;
  if (config.user !== undefined) target.user = config.user;
  if (config.password !== undefined) target.password = config.password;
  if (config.database !== undefined) target.database = config.database;
  return target;
}

/** libpq options as `--name=value` (the `=` form: a value can never read as an option). */
export function pgArgs(target: ServerTarget): string[] {
  return [
    ...(target.host ? [`--host=${target.host}`] : []),
    ...(target.port ? [`--port=${target.port}`] : []),
    ...(target.user ? [`--username=${target.user}`] : []),
    // Never prompt: a missing password fails at once instead of waiting on a terminal.
    '--no-password',
  ];
}

/** The environment libpq tools read the password and TLS mode from. */
export function pgEnv(target: ServerTarget): Record<string, string | undefined> {
  return {
    PGPASSWORD: target.password,
    ...(target.ssl ? { PGSSLMODE: 'require' } : {}),
  };
}

/** MySQL/MariaDB client options as `--name=value`. */
export function mysqlArgs(target: ServerTarget): string[] {
  return [
    ...(target.host ? [`--host=${target.host}`] : []),
    ...(target.port ? [`--port=${target.port}`] : []),
    ...(target.user ? [`--user=${target.user}`] : []),
    ...(target.ssl ? ['--ssl'] : []),
    '--default-character-set=utf8mb4',
  ];
}

/**
 * The environment MySQL/MariaDB tools read the password from. MYSQL_PWD is unset (not
 * inherited) without a password, so a stray one in the shell is never used by mistake.
 */
export function mysqlEnv(target: ServerTarget): Record<string, string | undefined> {
  return { MYSQL_PWD: target.password || undefined };
}
