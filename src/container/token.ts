import type { Constructor } from '../support/index.js';

const TOKEN = Symbol.for('keel.container.token');

/**
 * A typed, unique container key. Two tokens with the same description are different
 * keys: identity, not the text, is what the container compares.
 *
 * `__type` never exists at runtime; it only carries `T` so that `make(token)` is typed.
 */
export interface Token<T> {
  readonly description: string;
  readonly __type?: T;
}

/** Anything the container accepts as a key. */
export type BindingKey<T = unknown> = Token<T> | Constructor<T> | string | symbol;

/**
 * Create a typed token, for services that have no class of their own to key them
 * (an interface, a configuration object, a function).
 *
 * @example
 * ```ts
 * export const MAILER = token<Mailer>('mailer');
 * container.singleton(MAILER, () => new SmtpMailer());
 * const mailer = container.make(MAILER); // typed Mailer
 * ```
 */
export function token<T>(description: string): Token<T> {
  if (typeof description !== 'string' || description.length === 0) {
    throw new TypeError('token() needs a non-empty description');
  }
  const value = { description, toString: () => `Token(${description})` };
  Object.defineProperty(value, TOKEN, { value: true });
  return Object.freeze(value) as Token<T>;
}

/** True for a value made by {@link token}. */
export function isToken(value: unknown): value is Token<unknown> {
  return typeof value === 'object' && value !== null && TOKEN in value;
}

/** True for a value the container accepts as a key. */
export function isBindingKey(value: unknown): value is BindingKey {
  return (
    (typeof value === 'string' && value.length > 0) ||
    typeof value === 'symbol' ||
    typeof value === 'function' ||
    isToken(value)
  );
}

const MAX_NAME = 80;

/**
 * A readable, bounded name for a key, for messages and `describe()`: strings as they are,
 * classes by name, `Symbol(x)` and `Token(x)` for the others.
 */
export function keyName(key: unknown): string {
  let name: string;
  if (typeof key === 'string') name = key;
  else if (typeof key === 'symbol') name = `Symbol(${key.description ?? ''})`;
  else if (typeof key === 'function') name = key.name || '(anonymous class)';
  else if (isToken(key)) name = `Token(${key.description})`;
  else name = `(invalid key: ${key === null ? 'null' : typeof key})`;
  return name.length > MAX_NAME ? `${name.slice(0, MAX_NAME)}…` : name;
}
