import { z } from 'zod';
import { parseDuration } from '../../support/index.js';
import { E_CSRF_CONFIG_INVALID } from './errors.js';

const duration = z.union([z.number().int().positive(), z.string().min(1)]);

const schema = z
  .object({
    /** Paths not checked: exact (`/webhooks/stripe`) or a prefix ending in `*`. */
    exempt: z.array(z.string().startsWith('/')).default([]),
    /** How long a token stays valid after it was issued (default 2 h). */
    lifetime: duration.default('2h'),
    /** The form field read from urlencoded, multipart and JSON bodies. */
    field: z.string().min(1).default('csrf_token'),
    /** The header a page's scripts send the token in. */
    header: z.string().min(1).default('x-csrf-token'),
    /**
     * The cookie SPA clients read and echo in `X-XSRF-TOKEN` (Angular, axios do it by
     * themselves); `false` to not set it.
     */
    cookie: z.union([z.string().min(1), z.literal(false)]).default('XSRF-TOKEN'),
    /**
     * Refuse unsafe requests a browser marks as cross-site (`Sec-Fetch-Site: cross-site`,
     * or an `Origin` other than this host and the trusted ones), even with a token.
     */
    checkOrigin: z.boolean().default(true),
    /** Other origins whose pages may post here (`https://admin.example.com`). */
    trustedOrigins: z.array(z.string().url()).default([]),
  })
  .strict();

export interface CsrfConfig {
  readonly exempt: readonly string[];
  readonly lifetimeMs: number;
  readonly field: string;
  readonly header: string;
  readonly cookie: string | false;
  readonly checkOrigin: boolean;
  readonly trustedOrigins: ReadonlySet<string>;
}

/**
 * `security.csrf` validated, with its defaults; an unknown key or a bad value fails the
 * boot with `E_CSRF_CONFIG_INVALID` naming the key.
 *
 * @example
 * ```ts
 * resolveCsrfConfig({ exempt: ['/webhooks/*'], lifetime: '4h' }).lifetimeMs; // 14400000
 * ```
 */
export function resolveCsrfConfig(raw: unknown): CsrfConfig {
  const parsed = schema.safeParse(raw ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const key = issue.path.join('.') || (issue.code === 'unrecognized_keys' ? issue.keys[0]! : '');
    throw new E_CSRF_CONFIG_INVALID(key, issue.message);
  }
  const value = parsed.data;
  let lifetimeMs: number;
  try {
    lifetimeMs = parseDuration(value.lifetime);
  } catch (error) {
    throw new E_CSRF_CONFIG_INVALID('lifetime', (error as Error).message).withCause(error);
  }
  return {
    exempt: value.exempt,
    lifetimeMs,
    field: value.field,
    header: value.header.toLowerCase(),
    cookie: value.cookie,
    checkOrigin: value.checkOrigin,
    trustedOrigins: new Set(value.trustedOrigins.map((origin) => new URL(origin).origin)),
  };
}
