const warned = new Set<string>();

export interface DeprecationOptions {
  /** The version that deprecated it. */
  since: string;
  /** The major version that will remove it. */
  removeIn: string;
  /** What to use instead. */
  replacement?: string;
}

/**
 * Emit a `DeprecationWarning` once per process for a deprecation code. Codes
 * (`KEEL_DEP_0001`, ...) are listed in docs/RELEASE_POLICY.md and never reused.
 * `NODE_OPTIONS=--throw-deprecation` turns them into errors in CI.
 *
 * @example
 * ```ts
 * deprecate('KEEL_DEP_0001', 'container.use() is deprecated', { since: '1.2.0', removeIn: '2.0.0', replacement: 'container.make()' });
 * ```
 */
export function deprecate(code: string, message: string, options: DeprecationOptions): boolean {
  if (!/^KEEL_DEP_\d{4}$/.test(code))
    throw new TypeError(`Deprecation code must look like KEEL_DEP_0001, got ${code}`);
  if (warned.has(code)) return false;
  warned.add(code);
  const detail = `Deprecated since ${options.since}, removed in ${options.removeIn}.${
    options.replacement ? ` Use ${options.replacement} instead.` : ''
  }`;
  process.emitWarning(message, { type: 'DeprecationWarning', code, detail });
  return true;
}

/** Forget which deprecations were reported (tests). */
export function resetDeprecations(): void {
  warned.clear();
}
