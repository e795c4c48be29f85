import { ServiceProvider } from '../container/index.js';
import { usesDatabase } from '../db/db-provider.js';
import type { Connection } from '../db/index.js';
import { type Application, executionContext } from '../kernel/index.js';
import { AuthManager, type SessionsLike } from './auth-manager.js';
import { installContextAuth } from './authenticator.js';
import { clearCurrentGate, setCurrentGate } from './authorization/can.js';
import { Gate } from './authorization/gate.js';
import { Roles } from './authorization/roles.js';
import { type AuthConfig, resolveAuthConfig } from './config.js';
import { E_AUTH_DATABASE_REQUIRED } from './errors.js';
import { ScryptHasher } from './hash/scrypt-hasher.js';
import { authMiddleware } from './middleware/auth-middleware.js';
import { canMiddleware } from './middleware/can-middleware.js';
import { ApiTokens } from './tokens/api-tokens.js';
import { TableUserProvider, type UserId, type UserProvider, userIdOf } from './user-provider.js';

/** The names `migrate` records; kept here so registering them loads no Kysely. */
const TOKENS_MIGRATION_MODULE = 'keel:auth-tokens';
const TOKENS_MIGRATION_NAME = '2026_12_10_000000_create_api_tokens_table';
const ROLES_MIGRATION_MODULE = 'keel:auth-roles';
const ROLES_MIGRATION_NAME = '2026_12_10_000100_create_roles_tables';

const apiTokensMigration = {
  async up(db: never) {
    const { createApiTokensTable } = await import('./migrations/create-api-tokens-table.js');
    await createApiTokensTable.up(db);
  },
  async down(db: never) {
    const { createApiTokensTable } = await import('./migrations/create-api-tokens-table.js');
    await createApiTokensTable.down?.(db);
  },
};

const rolesMigration = {
  async up(db: never) {
    const { createRolesTables } = await import('./migrations/create-roles-tables.js');
    await createRolesTables.up(db);
  },
  async down(db: never) {
    const { createRolesTables } = await import('./migrations/create-roles-tables.js');
    await createRolesTables.down?.(db);
  },
};

declare module '../container/container.js' {
  interface ContainerBindings {
    auth: AuthManager;
    'auth.hash': ScryptHasher;
    'auth.tokens': ApiTokens;
    'auth.gate': Gate;
    'auth.roles': Roles;
  }
}

/**
 * Auth: binds `auth` (the {@link AuthManager} `ctx.auth` is built from), `auth.hash`
 * (scrypt), `auth.tokens` (API tokens), `auth.gate` (gates and policies) and `auth.roles`
 * (roles and permissions), adds the `api_tokens` and roles tables' framework migrations
 * when the app has a database and a config/auth.ts, and registers the `auth` and `can`
 * middleware.
 *
 * @example
 * ```ts
 * // a module's provider
 * override boot() {
 *   this.app.make('auth.gate').define('orders.update', (user, order) => order.ownerId === user.id);
 * }
 * ```
 */
export class AuthProvider extends ServiceProvider<Application> {
  #config: AuthConfig | undefined;
  #gate: Gate | undefined;

  override register(): void {
    const app = this.app;
    // Validate now: a broken config fails the boot, not the first login.
    const config = resolveAuthConfig(app.config.get('auth' as never));
    this.#config = config;
    // The tables come with config/auth.ts: an app that never configured auth gets none,
    // and its gate has no permissions to fall back on.
    const tables =
      usesDatabase(app) &&
      app.container.bound('db.migrations') &&
      app.config.get('auth' as never) !== undefined;
    if (tables) {
      const migrations = app.make('db.migrations');
      migrations.add({
        module: suffixed(TOKENS_MIGRATION_MODULE, config.tokens.connection),
        migrations: { [TOKENS_MIGRATION_NAME]: apiTokensMigration },
        ...(config.tokens.connection ? { connection: config.tokens.connection } : {}),
      });
      migrations.add({
        module: suffixed(ROLES_MIGRATION_MODULE, config.roles.connection),
        migrations: { [ROLES_MIGRATION_NAME]: rolesMigration },
        ...(config.roles.connection ? { connection: config.roles.connection } : {}),
      });
    }
    const connection = (name: string | undefined, feature: string) => (): Connection => {
      if (!app.container.bound('db')) throw new E_AUTH_DATABASE_REQUIRED(feature);
      return app.make('db').connection(name);
    };
    const users = resolveUsers(config, (name) => connection(name, 'Table user providers'));
    const idOf = (user: object): UserId =>
      users ? userIdOf(users, user) : (user as { id: UserId }).id;

    app.container.singleton('auth.hash', () => new ScryptHasher(config.hashing));
    app.container.singleton(
      'auth.tokens',
      () =>
        new ApiTokens({
          connection: connection(config.tokens.connection, 'API tokens'),
          prefix: config.tokens.prefix,
          lastUsedThrottleMs: config.tokens.lastUsedThrottleMs,
          ...(config.tokens.expiresInMs === undefined
            ? {}
            : { defaultExpiresInMs: config.tokens.expiresInMs }),
          idOf,
          onError: (error) =>
            app.logger.warn({ err: error }, 'auth: could not record an API token use'),
        }),
    );
    app.container.singleton(
      'auth.roles',
      () =>
        new Roles({
          connection: connection(config.roles.connection, 'Roles and permissions'),
          idOf,
        }),
    );
    app.container.singleton('auth.gate', () => {
      const gate: Gate = new Gate({
        // Outside a request, the fallback asks the database each time.
        ...(tables
          ? { permissions: (user) => app.make('auth.roles').permissionsOf(user as object) }
          : {}),
        onError: (error, ability) =>
          app.logger.error(
            { err: error, ability },
            `auth: the check of "${ability}" threw; the request is denied`,
          ),
        onDenied: async ({ ability, user, by }) => {
          let userId: UserId | undefined;
          try {
            userId = user === undefined || user === null ? undefined : idOf(user as object);
          } catch {}
          await app.make('auth').emit('auth.authorization.denied', {
            ability,
            userId,
            by,
            requestId: executionContext.current()?.request_id,
          });
        },
      });
      this.#gate = gate;
      return gate;
    });
    app.container.singleton(
      'auth',
      () =>
        new AuthManager({
          config,
          users: users as UserProvider<unknown> | undefined,
          hash: app.make('auth.hash'),
          gate: app.make('auth.gate'),
          tokens: () => app.make('auth.tokens'),
          roles: tables ? () => app.make('auth.roles') : undefined,
          events: app.events,
          logger: app.logger,
          sessions: () =>
            app.container.bound('session.manager' as never)
              ? (app.make('session.manager' as never) as SessionsLike)
              : undefined,
        }) as AuthManager,
    );
    installContextAuth();
  }

  override boot(): void {
    const app = this.app;
    const config = this.#config;
    if (!config) return;
    setCurrentGate(app.make('auth.gate'));
    if (app.container.bound('metrics')) this.#metrics();
    if (!app.container.bound('http')) return;
    const kernel = app.make('http');
    const manager = () => app.make('auth') as AuthManager<unknown>;
    const loginUrl = () =>
      config.loginRoute.startsWith('/') ? config.loginRoute : kernel.routes.url(config.loginRoute);
    kernel.middleware.register('auth', authMiddleware(manager, loginUrl));
    kernel.middleware.register('can', canMiddleware(manager));
  }

  override shutdown(): void {
    if (this.#gate !== undefined) clearCurrentGate(this.#gate);
  }

  /**
   * `keel_auth_logins_total{guard,outcome}` (succeeded, or why a login failed) and
   * `keel_auth_authorization_denials_total{by}`, counted from auth's own events; failed
   * authentications of protected routes are `keel_errors_total{code="E_UNAUTHENTICATED"}`.
   */
  #metrics(): void {
    const app = this.app;
    const metrics = app.make('metrics');
    const logins = metrics.counter({
      name: 'auth_logins_total',
      help: 'Login attempts by guard and outcome: succeeded, or why they failed (wrong_password, unknown_user, no_password, missing_password)',
      labelNames: ['guard', 'outcome'],
    });
    const denials = metrics.counter({
      name: 'auth_authorization_denials_total',
      help: 'Authorization checks denied, by what decided (policy, gate, permission, before, none, error, guest)',
      labelNames: ['by'],
    });
    app.events.on('auth.login.succeeded', ({ guard }) => logins.labels(guard, 'succeeded').inc());
    app.events.on('auth.login.failed', ({ guard, reason }) => logins.labels(guard, reason).inc());
    app.events.on('auth.authorization.denied', ({ by }) => denials.labels(by).inc());
  }
}

function suffixed(module: string, connection: string | undefined): string {
  return connection === undefined ? module : `${module}:${connection}`;
}

function resolveUsers(
  config: AuthConfig,
  connection: (name: string | undefined) => () => Connection,
): UserProvider<unknown> | undefined {
  const users = config.users;
  if (users === undefined) return undefined;
  if ('table' in users)
    return new TableUserProvider(users, connection(users.connection)) as UserProvider<unknown>;
  return users;
}
