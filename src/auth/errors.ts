import { defineHttpError } from '../http/index.js';
import { defineError } from '../support/index.js';

/**
 * Auth errors. Refused authorization answers with the HTTP catalogue's `E_FORBIDDEN`
 * (403): its code is not redefined here, codes are unique across catalogues.
 */

export const E_AUTH_CONFIG_INVALID = defineError(
  'E_AUTH_CONFIG_INVALID',
  (key: string, problem: string) => `Invalid auth config at auth.${key}: ${problem}`,
  {
    status: 500,
    help: 'Fix the key in config/auth.ts; docs/auth.md lists every option and its range.',
    details: (key: string) => ({ key }),
  },
);

export const E_UNAUTHENTICATED = defineHttpError('E_UNAUTHENTICATED', 401, {
  help: 'Log in, or send a valid, unexpired API token as Authorization: Bearer <token>.',
  title: 'Unauthenticated',
});

export const E_PASSWORD_TOO_LONG = defineError(
  'E_PASSWORD_TOO_LONG',
  (bytes: number, max: number) =>
    `The password is ${bytes} bytes long; at most ${max} bytes are accepted`,
  {
    status: 422,
    help: 'Use a shorter password (the limit is auth.hashing.maxPasswordBytes, 4096 bytes by default).',
  },
);

export const E_PASSWORD_HASH_INVALID = defineError(
  'E_PASSWORD_HASH_INVALID',
  (problem: string) => `The stored password hash cannot be read: ${problem}`,
  {
    status: 500,
    help: 'Store what hash.make() returned ($scrypt$ln=..,r=..,p=..$salt$hash); reset the password if the value was corrupted.',
  },
);

export const E_AUTH_GUARD_NOT_FOUND = defineError(
  'E_AUTH_GUARD_NOT_FOUND',
  (name: string, known: string) => `No auth guard named "${name}" (configured: ${known})`,
  {
    status: 500,
    help: 'Use a guard named in auth.guards of config/auth.ts (api and web by default).',
  },
);

export const E_AUTH_USERS_NOT_CONFIGURED = defineError(
  'E_AUTH_USERS_NOT_CONFIGURED',
  () => 'Auth has no user provider: auth.users is not set in config/auth.ts',
  {
    status: 500,
    help: 'Set auth.users to { table: "users" } or to { findById, findByCredentials } in config/auth.ts.',
  },
);

export const E_AUTH_DATABASE_REQUIRED = defineError(
  'E_AUTH_DATABASE_REQUIRED',
  (feature: string) => `${feature} need a database, and none is configured`,
  {
    status: 500,
    help: 'Register the DatabaseProvider and configure config/database.ts (SQLite works with no server).',
  },
);

export const E_ROLE_NOT_FOUND = defineError(
  'E_ROLE_NOT_FOUND',
  (role: string) => `No role named "${role}"`,
  {
    status: 404,
    help: 'Create the role first with roles.create(name) (roles.grant(role, permission) creates it too).',
  },
);

export const E_INVALID_ROLE_NAME = defineError(
  'E_INVALID_ROLE_NAME',
  (kind: string, value: string) =>
    `Invalid ${kind} name ${JSON.stringify(value.slice(0, 100))}: 1-100 characters of letters, digits, ".", "_", ":", "-" and "*"`,
  {
    status: 422,
    help: 'Name roles and permissions like clerk or orders.create: letters, digits and . _ : - *, at most 100 characters.',
  },
);

export const E_SESSION_GUARD_UNAVAILABLE = defineError(
  'E_SESSION_GUARD_UNAVAILABLE',
  (guard: string) => `The session guard "${guard}" needs ctx.session, and this request has none`,
  {
    status: 500,
    help: 'Register the SessionProvider and put the session middleware on the route (the web group) before auth.',
  },
);

export const E_TOKEN_INVALID_OPTIONS = defineError(
  'E_TOKEN_INVALID_OPTIONS',
  (problem: string) => `Invalid API token options: ${problem}`,
  {
    status: 500,
    help: 'Give tokens.create a name of 1-255 characters, abilities as an array of strings and expiresIn as seconds or a duration such as "30d".',
  },
);

export const E_AUTH_USER_ID_INVALID = defineError(
  'E_AUTH_USER_ID_INVALID',
  (value: string) => `The user has no usable id (got ${value})`,
  {
    status: 500,
    help: 'Pass a user object with an id (a number or a 1-255 character string), or the id itself; give the user provider an idOf(user) when the key is not "id".',
  },
);

export const E_GATE_UNAVAILABLE = defineError(
  'E_GATE_UNAVAILABLE',
  () => 'can() was called before the AuthProvider booted',
  {
    status: 500,
    help: 'Register the AuthProvider (keel does so by default) and call can() after boot, or use app.make("auth.gate").',
  },
);

export const E_AUTH_NOT_SESSION_GUARD = defineError(
  'E_AUTH_NOT_SESSION_GUARD',
  (guard: string, driver: string) =>
    `Guard "${guard}" is a ${driver} guard; login, attemptLogin and logout need a session guard`,
  {
    status: 500,
    help: 'Log in through a guard with driver "session" (web by default); API clients get a token from auth.tokens.create instead.',
  },
);

export const E_PASSWORD_UPDATE_UNSUPPORTED = defineError(
  'E_PASSWORD_UPDATE_UNSUPPORTED',
  () => 'Cannot change a password: the user provider has no updatePasswordHash(user, hash)',
  {
    status: 500,
    help: 'Use the table user provider (auth.users = { table: "users" }), or give your callbacks an updatePasswordHash(user, hash).',
  },
);
