import type { UserId } from './user-provider.js';

/**
 * Auth's events on the application bus, for the audit log. Payloads never carry a
 * password or a token: a failed login names the identifying fields only.
 *
 * @example
 * ```ts
 * app.events.on('auth.login.failed', ({ credentials, ip }) => audit.write('login failed', { credentials, ip }));
 * ```
 */
export interface AuthLoginSucceeded {
  guard: string;
  userId: UserId;
  ip: string | undefined;
  requestId: string | undefined;
}

export interface AuthLoginFailed {
  guard: string;
  /** The identifying fields sent (`{ email }`), without the password. */
  credentials: Record<string, unknown>;
  /**
   * `unknown_user`, `wrong_password`, `no_password` (the user has no usable hash) or
   * `missing_password` (the request sent none, or not a string).
   */
  reason: 'unknown_user' | 'wrong_password' | 'no_password' | 'missing_password';
  ip: string | undefined;
  requestId: string | undefined;
}

export interface AuthLogout {
  guard: string;
  userId: UserId | undefined;
  ip: string | undefined;
  requestId: string | undefined;
}

export interface AuthAuthorizationDenied {
  ability: string;
  userId: UserId | undefined;
  /** What decided: `policy`, `gate`, `permission`, `before`, `none`, `error` or `guest`. */
  by: string;
  requestId: string | undefined;
}

export interface AuthPasswordChanged {
  userId: UserId;
  /** Sessions of the user's other devices that were ended. */
  sessionsEnded: number;
  /** API tokens revoked (with `revokeTokens`). */
  tokensRevoked: number;
  ip: string | undefined;
  requestId: string | undefined;
}

export const AUTH_EVENTS = [
  'auth.login.succeeded',
  'auth.login.failed',
  'auth.logout',
  'auth.authorization.denied',
  'auth.password.changed',
] as const;

declare module '../events/types.js' {
  interface EventMap {
    'auth.login.succeeded': AuthLoginSucceeded;
    'auth.login.failed': AuthLoginFailed;
    'auth.logout': AuthLogout;
    'auth.authorization.denied': AuthAuthorizationDenied;
    'auth.password.changed': AuthPasswordChanged;
  }
}
