import type { HttpContext } from '../../http/index.js';
import type { ApiTokens } from '../tokens/api-tokens.js';
import type { UserProvider } from '../user-provider.js';
import { userIdOf } from '../user-provider.js';
import type { Authenticated, Guard } from './guard.js';

// RFC 6750 §2.1: "Bearer" (any case), one or more spaces, the token; nothing else.
const BEARER = /^Bearer +([A-Za-z0-9._~+/-]+=*) *$/i;

/**
 * API tokens sent as `Authorization: Bearer <token>`. A missing, malformed, unknown,
 * expired or revoked token, and a token whose user no longer exists, all leave the
 * request unauthenticated (the `auth` middleware answers 401).
 */
export class TokenGuard<User> implements Guard<User> {
  readonly driver = 'token';
  readonly name: string;
  readonly #tokens: () => ApiTokens;
  readonly #users: () => UserProvider<User>;

  constructor(name: string, tokens: () => ApiTokens, users: () => UserProvider<User>) {
    this.name = name;
    this.#tokens = tokens;
    this.#users = users;
  }

  async authenticate(ctx: HttpContext): Promise<Authenticated<User> | undefined> {
    const header = ctx.req.headers.authorization;
    if (typeof header !== 'string' || header.length > 512) return undefined;
    const match = BEARER.exec(header);
    if (!match) return undefined;
    const token = await this.#tokens().verify(match[1]);
    if (!token) return undefined;
    const users = this.#users();
    const user = await users.findById(token.userId);
    if (user === undefined || user === null) return undefined;
    return { user, id: userIdOf(users, user), token };
  }
}
