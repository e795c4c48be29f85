/** CSRF protection: the synchronizer token in the session, the `csrf` middleware. */
import './csrf-middleware.js';

export { type CsrfConfig, resolveCsrfConfig } from './csrf-config.js';
export { CSRF_SESSION_KEY, CsrfGuard } from './csrf-guard.js';
export { csrfMiddleware } from './csrf-middleware.js';
export { CSRF_MIDDLEWARE_PRIORITY, CsrfProvider } from './csrf-provider.js';
export * from './errors.js';
