import { describe, expect, expectTypeOf, it } from 'vitest';
import type { ClusterOptions, HttpServerOptions, ListenAddress, TrustProxy } from './index.js';
import * as server from './index.js';

describe('keel/http server: public face', () => {
  it('exports the server, the trust resolver, the cluster runner and the catalogue', () => {
    for (const name of [
      'HttpServer',
      'createTrustResolver',
      'runCluster',
      'E_MALFORMED_REQUEST',
      'E_HEADERS_TOO_LARGE',
      'E_INVALID_TRUSTED_PROXY',
      'E_CLUSTER_CRASH_LOOP',
    ]) {
      expect(server, name).toHaveProperty(name);
    }
    expect(server).not.toHaveProperty('ClusterSupervisor');
    expect(server).not.toHaveProperty('writeRawProblem');
  });

  it('types its options', () => {
    expectTypeOf<HttpServerOptions['port']>().toEqualTypeOf<number>();
    expectTypeOf<HttpServerOptions['requestTimeout']>().toEqualTypeOf<
      number | string | undefined
    >();
    expectTypeOf<ListenAddress>().toEqualTypeOf<{ port: number; host: string; url: string }>();
    expectTypeOf<ClusterOptions['start']>().toEqualTypeOf<() => Promise<void>>();
    expectTypeOf<true>().toMatchTypeOf<TrustProxy>();
    expectTypeOf<['loopback', '10.0.0.0/8']>().toMatchTypeOf<TrustProxy>();
    expectTypeOf(server.runCluster).returns.toEqualTypeOf<Promise<void>>();
  });
});
