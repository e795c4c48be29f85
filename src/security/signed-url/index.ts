/** Signed URLs: tamper-proof, optionally expiring links, and the `signed` middleware. */
export * from './errors.js';
export { SignedUrlProvider } from './signed-url-provider.js';
export {
  type RouteUrls,
  type SignedRouteOptions,
  SignedUrls,
  signedMiddleware,
} from './signed-urls.js';
export { type UrlCheck, UrlSigner, type UrlSignerOptions } from './url-signer.js';
