import { ServiceProvider } from '../../container/index.js';
import type { Application } from '../../kernel/index.js';
import { appKeys } from '../encryption/encryption-provider.js';
import { SignedUrls, signedMiddleware } from './signed-urls.js';
import { UrlSigner } from './url-signer.js';

declare module '../../container/container.js' {
  interface ContainerBindings {
    /** Signed links to named routes, and their check. */
    'url.signer': SignedUrls;
  }
}

/**
 * Binds `url.signer` (keys from `APP_KEY`, previous keys verifying during a rotation) and
 * registers the `signed` middleware. The key is read on first use, so an app that never
 * signs a link needs no `APP_KEY`.
 */
export class SignedUrlProvider extends ServiceProvider<Application> {
  override register(): void {
    const app = this.app;
    app.container.singleton(
      'url.signer',
      () => new SignedUrls(new UrlSigner({ keys: appKeys(app) }), () => app.make('http.routes')),
    );
  }

  override boot(): void {
    if (!this.app.container.bound('http')) return;
    const middleware = signedMiddleware(() => this.app.make('url.signer'));
    this.app.make('http').middleware.register('signed', () => middleware);
  }
}
