/** HTTPS enforcement: redirect or refuse plain HTTP, honouring trusted proxies. */
export {
  type HttpsConfig,
  type HttpsPolicy,
  httpsHook,
  resolveHttpsPolicy,
} from './force-https.js';
