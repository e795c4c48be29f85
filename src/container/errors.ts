import { defineError } from '../support/index.js';

const chain = (keys: readonly string[]): string => keys.join(' → ');

/** `make()` found no binding, no alias, no deferred provider and no class for the key. */
export const E_BINDING_NOT_FOUND = defineError(
  'E_BINDING_NOT_FOUND',
  (key: string, requiredBy: readonly string[], suggestion?: string) =>
    `No binding for "${key}"` +
    (requiredBy.length > 0 ? ` (needed by ${chain(requiredBy)})` : '') +
    (suggestion ? `. Did you mean "${suggestion}"?` : ''),
  {
    help: 'Bind the key in a provider register() (container.bind/singleton/value), or fix its name.',
    details: (key: string, requiredBy: readonly string[], suggestion?: string) => ({
      key,
      requiredBy: [...requiredBy],
      ...(suggestion ? { suggestion } : {}),
    }),
  },
);

/** A binding depends on itself, directly or through others. */
export const E_CIRCULAR_DEPENDENCY = defineError(
  'E_CIRCULAR_DEPENDENCY',
  (keys: readonly string[]) => `Circular dependency: ${chain(keys)}`,
  {
    help: 'Break the cycle: inject a factory or the container and resolve one side lazily, or move the shared part into its own service.',
    details: (keys: readonly string[]) => ({ chain: [...keys] }),
  },
);

/** A scoped binding was resolved outside a scope (from the root, or from a singleton). */
export const E_SCOPE_REQUIRED = defineError(
  'E_SCOPE_REQUIRED',
  (key: string, requiredBy: readonly string[]) =>
    `"${key}" is scoped and can only be resolved inside a scope` +
    (requiredBy.length > 0 ? ` (needed by ${chain(requiredBy)}, resolved from the root)` : ''),
  {
    help: 'Resolve it from a scope (container.createScope(), or the request/job container); a singleton cannot depend on a scoped binding.',
  },
);

/** A class cannot be built from its inject list. */
export const E_CANNOT_RESOLVE_CLASS = defineError(
  'E_CANNOT_RESOLVE_CLASS',
  (className: string, reason: string) => `Cannot construct ${className}: ${reason}`,
  {
    help: 'Declare the constructor dependencies with `static inject = [...]` or @inject(...), or bind the class with a factory.',
  },
);

/** An inject list (static inject, @inject, fn.inject) is malformed. */
export const E_INVALID_INJECT = defineError(
  'E_INVALID_INJECT',
  (owner: string, reason: string) => `Invalid inject list on ${owner}: ${reason}`,
  {
    help: 'List binding keys only: classes, token() values, non-empty strings or symbols. An undefined entry usually means a circular import; use a token or string key instead.',
  },
);

/** A binding call got a bad key or a missing/invalid factory. */
export const E_INVALID_BINDING = defineError(
  'E_INVALID_BINDING',
  (key: string, reason: string) => `Invalid binding for "${key}": ${reason}`,
  {
    help: 'Keys are classes, token() values, non-empty strings or symbols; string, symbol and token keys need a factory.',
  },
);

/** `make()` met a binding whose factory is async (returned a promise) and not settled yet. */
export const E_ASYNC_BINDING = defineError(
  'E_ASYNC_BINDING',
  (key: string, requiredBy: readonly string[]) =>
    `"${key}" has an async factory and is not resolved yet; use makeAsync()` +
    (requiredBy.length > 0 ? ` (needed by ${chain(requiredBy)})` : ''),
  {
    help: 'Use `await container.makeAsync(key)`, or resolve it once in a provider boot() so later make() calls get the cached singleton.',
  },
);

/** `make()` needed a deferred provider whose boot() is async. */
export const E_ASYNC_DEFERRED_PROVIDER = defineError(
  'E_ASYNC_DEFERRED_PROVIDER',
  (key: string) =>
    `"${key}" comes from a deferred provider whose boot() is async; use makeAsync("${key}")`,
  {
    help: 'Use `await container.makeAsync(key)` the first time, or make the provider eager (remove `static provides`).',
  },
);

/** An alias points back to itself. */
export const E_ALIAS_CYCLE = defineError(
  'E_ALIAS_CYCLE',
  (keys: readonly string[]) => `Alias cycle: ${chain(keys)}`,
  { help: 'An alias must end at a real binding; remove one alias in the cycle.' },
);

/** A disposed scope was used. */
export const E_SCOPE_DISPOSED = defineError(
  'E_SCOPE_DISPOSED',
  (label: string) => `Container scope "${label}" is disposed`,
  { help: 'Create a new scope; a scope cannot be used after dispose().' },
);

/** One or more disposers threw while a container or scope was disposed. */
export const E_DISPOSE_FAILED = defineError(
  'E_DISPOSE_FAILED',
  (label: string, count: number) =>
    `${count} disposer${count === 1 ? '' : 's'} failed while disposing "${label}"`,
  { help: 'See `cause` (an AggregateError) for each failure; every disposer still ran.' },
);

/** `call()` got something that is not a function or not a method of the instance. */
export const E_INVALID_CALL = defineError(
  'E_INVALID_CALL',
  (target: string, reason: string) => `Cannot call ${target}: ${reason}`,
  { help: 'Pass a function, or an instance and the name of one of its methods.' },
);

/** A provider threw (or rejected) during a lifecycle phase. */
export const E_PROVIDER_FAILED = defineError(
  'E_PROVIDER_FAILED',
  (provider: string, module: string | undefined, phase: string) =>
    `Provider ${provider}${module ? ` (module ${module})` : ''} failed in ${phase}()`,
  {
    help: 'See `cause` for the original error.',
    details: (provider: string, module: string | undefined, phase: string) => ({
      provider,
      ...(module ? { module } : {}),
      phase,
    }),
  },
);

/** A provider class is malformed. */
export const E_INVALID_PROVIDER = defineError(
  'E_INVALID_PROVIDER',
  (provider: string, reason: string) => `Invalid provider ${provider}: ${reason}`,
  {
    help: 'A provider is a class extending ServiceProvider; register() is synchronous; `static provides` lists binding keys.',
  },
);

/** Registry phases were called out of order. */
export const E_PROVIDER_PHASE_ORDER = defineError(
  'E_PROVIDER_PHASE_ORDER',
  (action: string, reason: string) => `Cannot ${action}: ${reason}`,
  { help: 'Call add(), then register(), boot(), start(), ready() and shutdown(), in that order.' },
);

/** Two deferred providers claim the same key. */
export const E_DEFERRED_KEY_CONFLICT = defineError(
  'E_DEFERRED_KEY_CONFLICT',
  (key: string, first: string, second: string) =>
    `Deferred key "${key}" is provided by both ${first} and ${second}`,
  { help: 'Remove the key from one of the `static provides` lists.' },
);

/** A deferred provider's register() did not bind a key listed in `provides`. */
export const E_DEFERRED_KEY_NOT_BOUND = defineError(
  'E_DEFERRED_KEY_NOT_BOUND',
  (provider: string, key: string) =>
    `Deferred provider ${provider} lists "${key}" in provides but its register() did not bind it`,
  { help: 'Bind every key of `static provides` in register(), or remove it from the list.' },
);
