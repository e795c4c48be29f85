import { env } from 'keel';

export default {
  rate_limit: {
    // Counters in the database by default, shared by every process; RATE_LIMIT_STORE=redis
    // scales out, `memory` counts per process.
    store: env('RATE_LIMIT_STORE', 'database'),
    limiters: {
      // Password guessing: 5 attempts a minute per address, then a minute's lockout.
      login: { points: 5, duration: 60, key: 'ip', blockDuration: 60 },
    },
  },
  // Order placement replays a retried request (same Idempotency-Key) instead of placing twice.
  idempotency: { store: 'database' },
  // Pages get a fresh CSP nonce per request (it.cspNonce in views).
  headers: { contentSecurityPolicy: { nonce: true } },
};
