/** IP allowlists: one matcher for `allow_ip`, the health endpoints and the metrics endpoint. */
export {
  compileIpLists,
  type IpConfig,
  ipAllowlist,
  ipAllowlistMiddleware,
} from './ip-allowlist.js';
export { compileIpMatcher, InvalidIpEntry, type IpMatcher, isLoopbackIp } from './ip-matcher.js';
