/**
 * Keel auth: scrypt password hashing, session and API token guards, `ctx.auth`, the `auth`
 * and `can` middleware, gates and policies, roles and permissions.
 */
export type {
  AuthAuthorizationDenied,
  AuthLoginFailed,
  AuthLoginSucceeded,
  AuthLogout,
  AuthPasswordChanged,
} from './auth-events.js';
export { AUTH_EVENTS } from './auth-events.js';
export { AuthManager, type AuthManagerOptions, type SessionsLike } from './auth-manager.js';
export { AuthProvider } from './auth-provider.js';
export { type AppUser, Authenticator, type AuthTypes, type GuardHandle } from './authenticator.js';
export { can } from './authorization/can.js';
export {
  type BeforeHook,
  type DeniedCheck,
  Gate,
  type GateCallback,
  type GateOptions,
  type Policy,
} from './authorization/gate.js';
export { permits, Roles, type RolesOptions } from './authorization/roles.js';
export { authTokensPruneCommand } from './commands/index.js';
export {
  type AuthConfig,
  authConfigSchema,
  type HashingConfig,
  resolveAuthConfig,
} from './config.js';
export * from './errors.js';
export type { Authenticated, Guard, SessionLike } from './guards/guard.js';
export { SessionGuard } from './guards/session-guard.js';
export { TokenGuard } from './guards/token-guard.js';
export { ScryptHasher, type ScryptParams } from './hash/scrypt-hasher.js';
export { authMiddleware, wantsJson } from './middleware/auth-middleware.js';
export { canMiddleware } from './middleware/can-middleware.js';
export {
  API_TOKENS_TABLE,
  createApiTokensTable,
} from './migrations/create-api-tokens-table.js';
export {
  createRolesTables,
  PERMISSION_ROLE_TABLE,
  PERMISSIONS_TABLE,
  ROLE_USER_TABLE,
  ROLES_TABLE,
} from './migrations/create-roles-tables.js';
export {
  type ApiToken,
  ApiTokens,
  type ApiTokensOptions,
  type CreateTokenOptions,
  type NewApiToken,
  tokenCan,
} from './tokens/api-tokens.js';
export {
  type AuthUser,
  type Credentials,
  TableUserProvider,
  type TableUserProviderOptions,
  type UserId,
  type UserProvider,
} from './user-provider.js';
