/** CORS: an origin allowlist, preflights answered before routing, credentials done safely. */
export {
  type CorsConfig,
  type CorsOrigin,
  type CorsPolicy,
  compileCorsPolicy,
} from './cors-config.js';
export { corsHook, corsMiddleware } from './cors-handler.js';
