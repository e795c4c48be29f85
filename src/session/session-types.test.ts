import { describe, expectTypeOf, it } from 'vitest';
import type { HttpContext } from '../http/index.js';
import type { Session } from './index.js';
import type { ActiveSession, SessionManager } from './session-manager.js';

describe('session types', () => {
  it('types ctx.session, the manager binding and the listing', () => {
    expectTypeOf<HttpContext['session']>().toEqualTypeOf<Session>();
    expectTypeOf<Session['userId']>().toEqualTypeOf<string | null>();
    expectTypeOf<Session['get']>().returns.toEqualTypeOf<unknown>();
    expectTypeOf<ReturnType<SessionManager['forUser']>>().toEqualTypeOf<Promise<ActiveSession[]>>();
    expectTypeOf<ActiveSession['current']>().toEqualTypeOf<boolean>();
  });
});
