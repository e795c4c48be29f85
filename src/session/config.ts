import { z } from 'zod';
import { parseDuration } from '../support/index.js';
import { E_SESSION_CONFIG_INVALID } from './errors.js';
import type { SessionLifetime } from './session-record.js';

export const SESSION_DRIVERS = ['cookie', 'file', 'memory', 'database', 'redis'] as const;
export type SessionDriver = (typeof SESSION_DRIVERS)[number];

const duration = z.union([z.number().positive(), z.string().min(1)]);
const COOKIE_NAME = /^[A-Za-z0-9!#$%&'*+\-.^_`|~]+$/;

const schema = z
  .object({
    driver: z.enum(SESSION_DRIVERS).optional(),
    /** Idle lifetime: ms or a duration (`'120m'`); env `SESSION_LIFETIME` is in minutes. */
    lifetime: duration.optional(),
    /** Longest a session lives however active it is (default `'12h'`). */
    absoluteLifetime: duration.optional(),
    /** An unchanged session is re-saved to record activity at most this often (`'1m'`). */
    touchInterval: duration.optional(),
    cookie: z
      .object({
        name: z.string().regex(COOKIE_NAME, 'a cookie name (letters, digits, -_.)').optional(),
        secure: z.boolean().optional(),
        sameSite: z.enum(['lax', 'strict', 'none']).optional(),
      })
      .strict()
      .optional(),
    file: z
      .object({ directory: z.string().min(1).optional() })
      .strict()
      .optional(),
    database: z
      .object({
        connection: z.string().min(1).optional(),
        table: z
          .string()
          .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'a table name')
          .optional(),
      })
      .strict()
      .optional(),
    redis: z
      .object({ url: z.string().min(1).optional(), prefix: z.string().optional() })
      .strict()
      .optional(),
    cookieStore: z
      .object({ maxBytes: z.number().int().min(256).max(8192).optional() })
      .strict()
      .optional(),
  })
  .strict();

/** The session settings, resolved and validated. */
export interface SessionConfig {
  driver: SessionDriver;
  lifetime: SessionLifetime;
  touchIntervalMs: number;
  cookie: {
    /** The name as sent: `__Host-` + the configured name when the cookie is Secure. */
    name: string;
    secure: boolean;
    sameSite: 'lax' | 'strict' | 'none';
  };
  file: { directory: string };
  database: { connection: string | undefined; table: string };
  redis: { url: string | undefined; prefix: string };
  cookieStore: { maxBytes: number };
}

/**
 * Validate `config/session.ts` with the env fallbacks (`SESSION_DRIVER`, `SESSION_LIFETIME`
 * in minutes, `SESSION_COOKIE`, `SESSION_SECURE_COOKIE`, `REDIS_URL`), or throw
 * `E_SESSION_CONFIG_INVALID` naming the key. In production the cookie is Secure unless
 * turned off, and a Secure cookie gets the `__Host-` prefix (Path=/, no Domain: a
 * subdomain cannot set or shadow it).
 *
 * @example
 * ```ts
 * const config = resolveSessionConfig(app.config.get('session'), (n) => app.env.variable(n), true);
 * ```
 */
export function resolveSessionConfig(
  raw: unknown,
  env: (name: string) => string | undefined,
  production: boolean,
): SessionConfig {
  const parsed = schema.safeParse(raw ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const key = issue?.path.join('.') || '(root)';
    throw new E_SESSION_CONFIG_INVALID(key, issue?.message ?? 'invalid');
  }
  const input = parsed.data;
  const envDriver = blank(env('SESSION_DRIVER'));
  if (envDriver !== undefined && !SESSION_DRIVERS.includes(envDriver as SessionDriver))
    throw new E_SESSION_CONFIG_INVALID(
      'driver',
      `SESSION_DRIVER "${envDriver}" is not one of ${SESSION_DRIVERS.join(', ')}`,
    );
  const driver = input.driver ?? (envDriver as SessionDriver | undefined) ?? 'file';

  const envLifetime = blank(env('SESSION_LIFETIME'));
  let idleMs: number;
  if (input.lifetime !== undefined) idleMs = durationOf('lifetime', input.lifetime);
  else if (envLifetime !== undefined) {
    if (!/^\d+$/.test(envLifetime) || Number(envLifetime) === 0)
      throw new E_SESSION_CONFIG_INVALID(
        'lifetime',
        `SESSION_LIFETIME "${envLifetime}" is not a positive number of minutes`,
      );
    idleMs = Number(envLifetime) * 60_000;
  } else idleMs = 120 * 60_000;
  const absoluteMs = durationOf('absoluteLifetime', input.absoluteLifetime ?? '12h');
  const touchIntervalMs = durationOf('touchInterval', input.touchInterval ?? '1m');

  const envSecure = blank(env('SESSION_SECURE_COOKIE'));
  let secure = input.cookie?.secure;
  if (secure === undefined && envSecure !== undefined) {
    if (!/^(true|false|1|0)$/i.test(envSecure))
      throw new E_SESSION_CONFIG_INVALID(
        'cookie.secure',
        `SESSION_SECURE_COOKIE "${envSecure}" is not true or false`,
      );
    secure = /^(true|1)$/i.test(envSecure);
  }
  secure ??= production;
  const sameSite = input.cookie?.sameSite ?? 'lax';
  if (sameSite === 'none' && !secure)
    throw new E_SESSION_CONFIG_INVALID(
      'cookie.sameSite',
      'SameSite=None needs a Secure cookie (browsers drop it otherwise)',
    );
  const envName = blank(env('SESSION_COOKIE'));
  if (envName !== undefined && !COOKIE_NAME.test(envName))
    throw new E_SESSION_CONFIG_INVALID(
      'cookie.name',
      `SESSION_COOKIE "${envName}" is not a cookie name`,
    );
  const baseName = input.cookie?.name ?? envName ?? 'keel_session';
  if (/^__(host|secure)-/i.test(baseName))
    throw new E_SESSION_CONFIG_INVALID(
      'cookie.name',
      'leave out the __Host- prefix: it is added when the cookie is Secure',
    );
  return {
    driver,
    lifetime: { idleMs, absoluteMs },
    touchIntervalMs,
    cookie: { name: secure ? `__Host-${baseName}` : baseName, secure, sameSite },
    file: { directory: input.file?.directory ?? 'var/sessions' },
    database: {
      connection: input.database?.connection,
      table: input.database?.table ?? 'sessions',
    },
    redis: {
      url: input.redis?.url ?? blank(env('REDIS_URL')),
      prefix: input.redis?.prefix ?? 'keel:session:',
    },
    cookieStore: { maxBytes: input.cookieStore?.maxBytes ?? 4000 },
  };
}

function durationOf(key: string, value: number | string): number {
  try {
    const ms = parseDuration(value);
    if (ms <= 0) throw new Error('zero');
    return ms;
  } catch {
    throw new E_SESSION_CONFIG_INVALID(key, `${JSON.stringify(value)} is not a positive duration`);
  }
}

function blank(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}
