import { E_GATE_UNAVAILABLE } from '../errors.js';
import type { Gate } from './gate.js';

let current: Gate | undefined;

/** The gate `can()` answers from; the AuthProvider sets it at boot and clears it at shutdown. */
export function setCurrentGate(gate: Gate | undefined): void {
  current = gate;
}

/** Forget `gate` if it is the current one (another app may have booted since). */
export function clearCurrentGate(gate: Gate): void {
  if (current === gate) current = undefined;
}

/**
 * True when `user` may do `ability` (on `args`), through the application's gate: policies,
 * gates, then the user's permissions. In a request, `ctx.auth.can(...)` does the same for
 * the authenticated user with its permissions cached for the request.
 *
 * @example
 * ```ts
 * import { can } from 'keel/auth';
 * if (await can(user, 'update', order)) await order.save();
 * ```
 */
export function can(user: unknown, ability: string, ...args: unknown[]): Promise<boolean> {
  if (current === undefined) return Promise.reject(new E_GATE_UNAVAILABLE());
  return current.allows(user, ability, ...args);
}
