import { randomBytes } from 'node:crypto';
import { HttpContext } from '../../http/index.js';

declare module '../../http/context.js' {
  interface HttpContext {
    /**
     * This request's Content-Security-Policy nonce (128 random bits, base64), set by the
     * `security` middleware when its profile has `contentSecurityPolicy.nonce`; put it in
     * `<script nonce="...">` and `<style nonce="...">`. Undefined otherwise.
     */
    readonly cspNonce: string | undefined;
  }
}

const kNonce = Symbol('keel.cspNonce');

Object.defineProperty(HttpContext.prototype, 'cspNonce', {
  configurable: true,
  get(this: HttpContext & { [kNonce]?: string }): string | undefined {
    return this[kNonce];
  },
});

/** Give `ctx` a fresh nonce (or its existing one, when two profiles both ask). */
export function assignNonce(ctx: HttpContext): string {
  const holder = ctx as HttpContext & { [kNonce]?: string };
  holder[kNonce] ??= randomBytes(16).toString('base64');
  return holder[kNonce];
}
