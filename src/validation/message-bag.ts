import type { StandardSchemaV1 } from '@standard-schema/spec';
import { z } from 'zod';
import { E_INVALID_MESSAGES } from './errors.js';

/** What a message function receives; its fields are also the `{placeholders}` of strings. */
export interface MessageContext {
  /** Dotted path of the field (`'items.0.qty'`). */
  readonly path: string;
  /** The last segment of the path (`'qty'`). */
  readonly field: string;
  readonly rule: string | undefined;
  readonly code: string | undefined;
  /** The message the rule or the schema library gave. */
  readonly defaultMessage: string;
  /** The issue's own data: `minimum`, `maximum`, `expected`, `format`, the rule's params... */
  readonly params: Readonly<Record<string, unknown>>;
}

/** A custom message: a string with `{placeholders}`, or a function. */
export type Message = string | ((context: MessageContext) => string);

/**
 * Messages keyed by field path (`'email'`, `'items.*.qty'`), by rule or issue code
 * (`'required'`, `'too_small'`), or by both (`'items.*.qty.too_small'`).
 */
export type MessageMap = Readonly<Record<string, Message>>;

interface Pattern {
  readonly segments: readonly string[];
  readonly message: Message;
  readonly wildcards: number;
}

function matches(pattern: readonly string[], path: readonly string[], length: number): boolean {
  if (length !== path.length) return false;
  for (let i = 0; i < length; i++) {
    if (pattern[i] !== '*' && pattern[i] !== path[i]) return false;
  }
  return true;
}

/**
 * A compiled message map. Lookups come in three tiers that validation interleaves with the
 * message set on the rule itself (see resolveMessage in field-errors.ts).
 *
 * @example
 * ```ts
 * const bag = messages({ email: 'Please give a valid e-mail', 'items.*.qty.too_small': 'At least 1' });
 * ```
 */
export class MessageBag {
  readonly #exact = new Map<string, Message>();
  // Sorted by fewest wildcards, so `items.0.qty` beats `items.*.qty` beats `*.*.qty`.
  readonly #patterns: Pattern[] = [];

  constructor(map: MessageMap) {
    for (const [key, message] of Object.entries(map)) {
      if (typeof message !== 'string' && typeof message !== 'function') {
        throw new E_INVALID_MESSAGES(key, `expected a string or a function, got ${typeof message}`);
      }
      const segments = key.split('.');
      if (segments.some((segment) => segment === '')) {
        throw new E_INVALID_MESSAGES(key, 'empty path segment');
      }
      if (segments.includes('*')) {
        const wildcards = segments.filter((segment) => segment === '*').length;
        this.#patterns.push({ segments, message, wildcards });
      } else {
        this.#exact.set(key, message);
      }
    }
    this.#patterns.sort((a, b) => a.wildcards - b.wildcards);
  }

  /** A `'path.rule'` (or `'path.code'`) key, with wildcards allowed in the path part. */
  forPathAndRule(
    path: string,
    segments: readonly string[],
    names: readonly string[],
  ): Message | undefined {
    if (path === '') return undefined;
    for (const name of names) {
      const message = this.#exact.get(`${path}.${name}`);
      if (message !== undefined) return message;
    }
    for (const pattern of this.#patterns) {
      const last = pattern.segments[pattern.segments.length - 1]!;
      if (last === '*' || !names.includes(last)) continue;
      if (matches(pattern.segments, segments, pattern.segments.length - 1)) return pattern.message;
    }
    return undefined;
  }

  /** A field key: the path, with wildcards. */
  forPath(path: string, segments: readonly string[]): Message | undefined {
    if (path === '') return undefined;
    const message = this.#exact.get(path);
    if (message !== undefined) return message;
    for (const pattern of this.#patterns) {
      if (matches(pattern.segments, segments, pattern.segments.length)) return pattern.message;
    }
    return undefined;
  }

  /** A rule or code key. */
  forRule(names: readonly string[]): Message | undefined {
    for (const name of names) {
      const message = this.#exact.get(name);
      if (message !== undefined) return message;
    }
    return undefined;
  }
}

/**
 * Compile a message map once (for reuse across calls). Plain maps are accepted everywhere
 * too; they are compiled on first use and cached.
 *
 * @example
 * ```ts
 * const userMessages = messages({ 'email': 'Please give a valid e-mail', required: '{field} is required' });
 * await validate(schema, input, { messages: userMessages });
 * ```
 */
export function messages(map: MessageMap): MessageBag {
  return new MessageBag(map);
}

const compiled = new WeakMap<MessageMap, MessageBag>();

/** The compiled form of a map or bag. */
export function toMessageBag(source: MessageMap | MessageBag): MessageBag {
  if (source instanceof MessageBag) return source;
  let bag = compiled.get(source);
  if (!bag) {
    bag = new MessageBag(source);
    compiled.set(source, bag);
  }
  return bag;
}

// A schema's own messages (withMessages) ride beside it, keyed by the copy withMessages made.
const schemaMessages = new WeakMap<object, MessageBag[]>();

/** Messages attached to a schema by withMessages(), most recent first. */
export function messagesOf(schema: object): readonly MessageBag[] | undefined {
  return schemaMessages.get(schema);
}

/**
 * A copy of `schema` that carries custom messages, keyed relative to the schema's root. The
 * messages apply where the copy is validated (validate(), a route's body/query/params/headers);
 * a copy nested inside another Zod schema does not see them, so put nested keys on the root.
 *
 * @example
 * ```ts
 * const body = withMessages(z.object({ email: z.email(), items: z.array(item) }), {
 *   email: 'Please give a valid e-mail',
 *   'items.*.qty.too_small': 'Quantity must be at least {minimum}',
 * });
 * ```
 */
export function withMessages<S extends StandardSchemaV1>(
  schema: S,
  map: MessageMap | MessageBag,
): S {
  const copy = (
    schema instanceof z.core.$ZodType ? z.core.clone(schema) : Object.create(schema)
  ) as S;
  const inherited = schemaMessages.get(schema) ?? [];
  schemaMessages.set(copy, [toMessageBag(map), ...inherited]);
  return copy;
}

let globalBag: MessageBag | undefined;

/**
 * Application-wide messages, consulted after the call's and the schema's: usually keyed by
 * rule (`required`, `iban`), like a translation file. `undefined` clears them.
 *
 * @example
 * ```ts
 * setGlobalMessages({ required: 'This field is required', iban: 'Not a valid IBAN' });
 * ```
 */
export function setGlobalMessages(map: MessageMap | MessageBag | undefined): void {
  globalBag = map === undefined ? undefined : toMessageBag(map);
}

/** The application-wide bag, if any. */
export function globalMessages(): MessageBag | undefined {
  return globalBag;
}
