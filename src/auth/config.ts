import { z } from 'zod';
import { parseDuration } from '../support/index.js';
import { E_AUTH_CONFIG_INVALID } from './errors.js';
import type { TableUserProviderOptions, UserProvider } from './user-provider.js';

const duration = z.union([z.number().nonnegative(), z.string().min(1)]);

const hashingSchema = z
  .object({
    /** log2 of scrypt's cost N. 17 (N = 131072, 128 MiB with r = 8) by default. */
    ln: z.number().int().min(4).max(24).default(17),
    /** Block size. */
    r: z.number().int().min(1).max(32).default(8),
    /** Parallelization. */
    p: z.number().int().min(1).max(16).default(1),
    /** Derived key bytes. */
    keyLength: z.number().int().min(16).max(128).default(64),
    /** Random salt bytes. */
    saltLength: z.number().int().min(16).max(64).default(16),
    /** Longer passwords are refused before hashing (E_PASSWORD_TOO_LONG). */
    maxPasswordBytes: z.number().int().min(64).max(65_536).default(4096),
  })
  .strict();

const guardSchema = z.discriminatedUnion('driver', [
  z.object({ driver: z.literal('token') }).strict(),
  z.object({ driver: z.literal('session') }).strict(),
]);

const tableUsersSchema = z
  .object({
    table: z.string().regex(/^[A-Za-z_][A-Za-z0-9_.]{0,127}$/, 'a table name'),
    connection: z.string().min(1).optional(),
    identifiers: z
      .array(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/, 'a column name'))
      .min(1)
      .optional(),
    idColumn: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/, 'a column name')
      .optional(),
    passwordColumn: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/, 'a column name')
      .optional(),
  })
  .strict();

/** The `auth` config namespace (config/auth.ts). */
export const authConfigSchema = z
  .object({
    /** The guard `ctx.auth` and a bare `auth` middleware use. */
    default: z.string().min(1).default('web'),
    guards: z.record(z.string().regex(/^[a-z][a-z0-9_-]{0,63}$/), guardSchema).default({
      web: { driver: 'session' },
      api: { driver: 'token' },
    }),
    /** A user provider object, or a table; see docs/auth.md. */
    users: z.unknown().optional(),
    hashing: hashingSchema.prefault({}),
    tokens: z
      .object({
        /** The token's visible prefix (`keel_<id>.<secret>`), for secret scanners. */
        prefix: z
          .string()
          .regex(/^[a-z][a-z0-9]{0,15}$/, 'lower-case letters and digits, at most 16')
          .default('keel'),
        connection: z.string().min(1).optional(),
        /** `last_used_at` is written at most this often per token. Default 60s. */
        lastUsedThrottle: duration.default('60s'),
        /** Lifetime when `tokens.create` gives none; default: no expiry. */
        expiresIn: duration.optional(),
      })
      .strict()
      .prefault({}),
    roles: z
      .object({ connection: z.string().min(1).optional() })
      .strict()
      .default({}),
    /** Where a web request without a user is sent: a path (`/login`) or a route name. */
    loginRoute: z.string().min(1).default('/login'),
  })
  .strict();

export type HashingConfig = z.output<typeof hashingSchema>;

export interface AuthConfig {
  default: string;
  guards: Record<string, { driver: 'token' | 'session' }>;
  users: UserProvider<unknown> | TableUserProviderOptions | undefined;
  hashing: HashingConfig;
  tokens: {
    prefix: string;
    connection: string | undefined;
    /** Milliseconds. */
    lastUsedThrottleMs: number;
    /** Milliseconds; undefined: tokens do not expire unless created with expiresIn. */
    expiresInMs: number | undefined;
  };
  roles: { connection: string | undefined };
  loginRoute: string;
}

/**
 * Validate the `auth` config (undefined when the app has none) and fill its defaults.
 *
 * @example
 * ```ts
 * resolveAuthConfig({ users: { table: 'users' }, hashing: { ln: 16 } });
 * ```
 */
export function resolveAuthConfig(raw: unknown): AuthConfig {
  const parsed = authConfigSchema.safeParse(raw ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new E_AUTH_CONFIG_INVALID(issue.path.join('.') || '(root)', issue.message);
  }
  const data = parsed.data;
  if (!Object.hasOwn(data.guards, data.default))
    throw new E_AUTH_CONFIG_INVALID(
      'default',
      `"${data.default}" is not a guard in auth.guards (${Object.keys(data.guards).join(', ') || 'none'})`,
    );
  return {
    default: data.default,
    guards: data.guards,
    users: resolveUsers(data.users),
    hashing: data.hashing,
    tokens: {
      prefix: data.tokens.prefix,
      connection: data.tokens.connection,
      lastUsedThrottleMs: toMs('tokens.lastUsedThrottle', data.tokens.lastUsedThrottle),
      expiresInMs:
        data.tokens.expiresIn === undefined
          ? undefined
          : toMs('tokens.expiresIn', data.tokens.expiresIn),
    },
    roles: { connection: data.roles.connection },
    loginRoute: data.loginRoute,
  };
}

function resolveUsers(users: unknown): AuthConfig['users'] {
  if (users === undefined) return undefined;
  if (users !== null && typeof users === 'object' && !('table' in users)) {
    const candidate = users as Record<string, unknown>;
    for (const member of ['findById', 'findByCredentials'])
      if (typeof candidate[member] !== 'function')
        throw new E_AUTH_CONFIG_INVALID(`users.${member}`, 'must be a function');
    for (const member of ['idOf', 'passwordHashOf', 'updatePasswordHash'])
      if (candidate[member] !== undefined && typeof candidate[member] !== 'function')
        throw new E_AUTH_CONFIG_INVALID(`users.${member}`, 'must be a function when given');
    return users as UserProvider<unknown>;
  }
  const table = tableUsersSchema.safeParse(users);
  if (!table.success) {
    const issue = table.error.issues[0]!;
    throw new E_AUTH_CONFIG_INVALID(
      ['users', ...issue.path].join('.'),
      `${issue.message} (give { table } or { findById, findByCredentials })`,
    );
  }
  return table.data as TableUserProviderOptions;
}

function toMs(key: string, value: number | string): number {
  try {
    // Plain numbers are seconds here, as in expiresIn: 3600.
    return typeof value === 'number' ? value * 1000 : parseDuration(value);
  } catch (error) {
    throw new E_AUTH_CONFIG_INVALID(key, (error as Error).message).withCause(error);
  }
}
