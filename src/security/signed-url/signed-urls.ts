import type { MiddlewareFn } from '../../http/index.js';
import { E_URL_SIGNATURE_EXPIRED, E_URL_SIGNATURE_INVALID } from './errors.js';
import type { UrlCheck, UrlSigner } from './url-signer.js';

/** What signing a named route needs of the router: its URL generation. */
export interface RouteUrls {
  url(name: string, params?: Record<string, unknown>, query?: Record<string, unknown>): string;
}

export interface SignedRouteOptions {
  /** How long the link works (`'30m'`, `'7d'`, or milliseconds); forever when absent. */
  expiresIn?: string | number;
  /** Query parameters, signed with the path. */
  query?: Record<string, unknown>;
}

/**
 * `app.make('url.signer')`: signed links to named routes (an invoice download, an
 * unsubscribe link, an e-mail confirmation), and the check the `signed` middleware runs.
 *
 * @example
 * ```ts
 * const link = app.make('url.signer').route('invoices.download', { id: 42 }, { expiresIn: '7d' });
 * router.get('/invoices/:id/download', download).name('invoices.download').middleware(['signed']);
 * ```
 */
export class SignedUrls {
  readonly #signer: UrlSigner;
  readonly #routes: () => RouteUrls;

  constructor(signer: UrlSigner, routes: () => RouteUrls) {
    this.#signer = signer;
    this.#routes = routes;
  }

  /** A signed URL for the named route. */
  route(name: string, params?: Record<string, unknown>, options: SignedRouteOptions = {}): string {
    const url = this.#routes().url(name, params, options.query);
    return this.#signer.sign(
      url,
      options.expiresIn === undefined ? {} : { expiresIn: options.expiresIn },
    );
  }

  /** Sign any path (with its query). */
  sign(url: string, options: { expiresIn?: string | number } = {}): string {
    return this.#signer.sign(url, options);
  }

  check(url: string): UrlCheck {
    return this.#signer.check(url);
  }
}

/** The `signed` middleware: 403 unless the request's URL carries a valid, unexpired signature. */
export function signedMiddleware(urls: () => SignedUrls): MiddlewareFn {
  return function signed(ctx, next) {
    const result = urls().check(ctx.req.url ?? ctx.path);
    if (result === 'expired') throw new E_URL_SIGNATURE_EXPIRED(ctx.path);
    if (result !== 'valid')
      throw new E_URL_SIGNATURE_INVALID(
        ctx.path,
        result === 'missing' ? 'it carries no signature' : 'its signature does not match',
      );
    return next();
  };
}
