import { ServiceProvider } from '../../container/index.js';
import type { Application } from '../../kernel/index.js';
import { Encrypter } from './encrypter.js';
import { type AppKeys, readAppKeys } from './key-ring.js';
import { Signer } from './signer.js';

declare module '../../container/container.js' {
  interface ContainerBindings {
    /** AES-256-GCM with `APP_KEY` (and `APP_PREVIOUS_KEYS` for reading). */
    encryption: Encrypter;
    /** HMAC-SHA256 signatures with `APP_KEY` (and `APP_PREVIOUS_KEYS` for verifying). */
    signer: Signer;
  }
}

/** The application keys of `app`: `APP_KEY`, then `app.previous_keys` or `APP_PREVIOUS_KEYS`. */
export function appKeys(app: Application): AppKeys {
  return readAppKeys({
    appKey: app.env.get('APP_KEY' as never) as string | undefined,
    configPrevious: app.config.get('app.previous_keys' as never),
    envPrevious: app.env.variable('APP_PREVIOUS_KEYS'),
  });
}

/**
 * Binds `encryption` ({@link Encrypter}) and `signer` ({@link Signer}). Previous keys are
 * checked at register, so a mistyped one fails the boot; a missing `APP_KEY` fails the
 * first `app.make('encryption')` with `E_ENCRYPTION_KEY_MISSING`, so apps that never
 * encrypt need no key.
 */
export class EncryptionProvider extends ServiceProvider<Application> {
  override register(): void {
    const app = this.app;
    const appKey = app.env.get('APP_KEY' as never) as string | undefined;
    if (appKey !== undefined && appKey.trim() !== '') appKeys(app);
    app.container.singleton('encryption', () => new Encrypter({ keys: appKeys(app) }));
    app.container.singleton('signer', () => new Signer({ keys: appKeys(app) }));
  }
}
