/**
 * Keel's HTTP transport: the `node:http` server the request kernel plugs into (timeouts,
 * strict parsing, graceful close), trusted-proxy resolution and the `node:cluster`
 * supervisor. It knows nothing of routing or contexts.
 */

export {
  answerClusterGather,
  type ClusterGathered,
  clusterGather,
} from './cluster-gather.js';
export { type ClusterOptions, runCluster } from './cluster-supervisor.js';
export * from './errors.js';
export {
  type CloseOptions,
  HttpServer,
  type ListenAddress,
  type RequestListener,
} from './http-server.js';
export type { HttpServerOptions, ServerLogger } from './server-options.js';
export {
  createTrustResolver,
  type ForwardedRequest,
  type TrustProxy,
  type TrustResolver,
} from './trusted-proxies.js';
