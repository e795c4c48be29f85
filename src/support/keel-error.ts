/**
 * The base of every error Keel throws. Each error carries a stable `code` (`E_*`),
 * the HTTP `status` it maps to, and a `help` line that tells the user what to do.
 *
 * @example
 * ```ts
 * export const E_MODULE_CYCLE = defineError(
 *   'E_MODULE_CYCLE',
 *   (cycle: string[]) => `Module dependency cycle: ${cycle.join(' → ')}`,
 *   { status: 500, help: 'Remove one of the dependsOn entries in the cycle.' },
 * );
 * throw new E_MODULE_CYCLE(['a', 'b', 'a']);
 * ```
 */
export class KeelError extends Error {
  readonly code: string;
  readonly status: number;
  readonly help: string;
  /** Structured details for logs and problem+json bodies; never secrets. */
  readonly details: Record<string, unknown> | undefined;

  constructor(
    code: string,
    message: string,
    options: {
      status?: number;
      help?: string;
      cause?: unknown;
      details?: Record<string, unknown>;
    } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = code;
    this.code = code;
    this.status = options.status ?? 500;
    this.help = options.help ?? '';
    this.details = options.details;
  }

  /** Attach the error that caused this one and return it, for `throw new E_X(a).withCause(err)`. */
  withCause(cause: unknown): this {
    Object.defineProperty(this, 'cause', {
      value: cause,
      enumerable: false,
      writable: true,
      configurable: true,
    });
    return this;
  }

  toJSON(): Record<string, unknown> {
    return {
      code: this.code,
      message: this.message,
      status: this.status,
      help: this.help,
      ...(this.details ? { details: this.details } : {}),
    };
  }
}

/** A class made by {@link defineError}: constructible with the message template's arguments. */
export interface KeelErrorClass<A extends unknown[]> {
  new (...args: A): KeelError;
  readonly code: string;
  readonly status: number;
  readonly help: string;
  /** True when `error` is an instance of this code (works across duplicated module copies). */
  is(error: unknown): error is KeelError;
}

/**
 * Define one catalogued error. The export's name must equal its code; a test checks every
 * catalogue for unique codes documented in `docs/errors.md`.
 *
 * @example
 * ```ts
 * export const E_BINDING_NOT_FOUND = defineError(
 *   'E_BINDING_NOT_FOUND',
 *   (key: string) => `No binding for "${key}"`,
 *   { status: 500, help: 'Register it in a provider.' },
 * );
 * ```
 */
export function defineError<A extends unknown[]>(
  code: string,
  message: (...args: A) => string,
  options: { status?: number; help: string; details?: (...args: A) => Record<string, unknown> },
): KeelErrorClass<A> {
  const status = options.status ?? 500;
  const help = options.help;
  const details = options.details;
  const cls = class extends KeelError {
    static readonly code = code;
    static readonly status = status;
    static readonly help = help;
    constructor(...args: A) {
      super(code, message(...args), {
        status,
        help,
        ...(details ? { details: details(...args) } : {}),
      });
    }
    static is(error: unknown): error is KeelError {
      return error instanceof KeelError && error.code === code;
    }
  };
  Object.defineProperty(cls, 'name', { value: code });
  return cls;
}

/** True when `error` is any Keel error, optionally with the given code. */
export function isKeelError(error: unknown, code?: string): error is KeelError {
  return error instanceof KeelError && (code === undefined || error.code === code);
}
