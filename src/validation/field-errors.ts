import type { StandardSchemaV1 } from '@standard-schema/spec';
import type { FieldError } from './errors.js';
import type { Message, MessageBag, MessageContext } from './message-bag.js';
import { interpolate } from './rule-check.js';

/** A bag and whether its keys include the request-part prefix (`body.email`) or not. */
export interface MessageLayer {
  readonly bag: MessageBag;
  readonly prefixed: boolean;
}

export interface NormalizeOptions {
  /** Request part (`'body'`) prepended to every path, or `''`. */
  readonly prefix: string;
  /** Message bags, most specific source first: the call's, the schema's, the app's. */
  readonly layers: readonly MessageLayer[];
  /** The validated input, to tell a missing field from a wrong type. */
  readonly input: unknown;
  /** True when issues come from Zod through Keel, which marks default messages. */
  readonly marksDefaults: boolean;
}

type Issue = StandardSchemaV1.Issue & Record<string, unknown>;

// Hostile input controls object keys, hence paths and some messages: keep both bounded.
const MAX_SEGMENT = 100;
const MAX_MESSAGE = 1000;

const clip = (text: string, max: number): string =>
  text.length > max ? `${text.slice(0, max - 1)}…` : text;

function segmentsOf(issue: Issue): string[] {
  const path = issue.path;
  if (!path || path.length === 0) return [];
  const out: string[] = new Array(path.length);
  for (let i = 0; i < path.length; i++) {
    const segment = path[i]!;
    const key = typeof segment === 'object' && segment !== null ? segment.key : segment;
    out[i] = clip(
      typeof key === 'symbol' ? (key.description ?? 'symbol') : String(key),
      MAX_SEGMENT,
    );
  }
  return out;
}

function valueAt(issue: Issue, input: unknown, segments: readonly string[]): unknown {
  if ('input' in issue) return issue.input;
  let current = input;
  for (const segment of segments) {
    if (current === null || typeof current !== 'object' || !Object.hasOwn(current, segment)) {
      return undefined;
    }
    current = (current as Record<string, unknown>)[segment];
  }
  return current;
}

const RULE_OF_CODE: Readonly<Record<string, string>> = {
  not_multiple_of: 'multipleOf',
  unrecognized_keys: 'unknownKeys',
  invalid_value: 'enum',
  invalid_union: 'union',
  invalid_key: 'key',
  invalid_element: 'element',
};

/** The stable rule name of an issue: Keel's `params.rule`, else derived from Zod's code. */
export function ruleOf(
  issue: Issue,
  input: unknown,
  segments: readonly string[],
): string | undefined {
  const params = issue.params as Record<string, unknown> | undefined;
  if (params && typeof params.rule === 'string') return params.rule;
  const code = issue.code;
  switch (code) {
    case 'invalid_type':
      return valueAt(issue, input, segments) === undefined
        ? 'required'
        : typeof issue.expected === 'string'
          ? issue.expected
          : 'type';
    case 'too_small':
      return issue.exact ? 'length' : 'min';
    case 'too_big':
      return issue.exact ? 'length' : 'max';
    case 'invalid_format':
      return typeof issue.format === 'string' ? issue.format : 'format';
    case undefined:
      // Other Standard Schema vendors: Valibot names its issue `type` ('email', 'min_length').
      return typeof issue.type === 'string' ? issue.type : undefined;
    default:
      return typeof code === 'string' ? (RULE_OF_CODE[code] ?? code) : undefined;
  }
}

const SKIPPED_PARAMS = new Set(['code', 'path', 'message', 'input', 'params', 'keelDefault']);

function paramsOf(issue: Issue): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(issue)) {
    if (!SKIPPED_PARAMS.has(key)) out[key] = issue[key];
  }
  const params = issue.params as Record<string, unknown> | undefined;
  if (params) {
    for (const key of Object.keys(params)) {
      if (key !== 'rule' && key !== 'defaultMessage') out[key] = params[key];
    }
  }
  return out;
}

function render(message: Message, context: MessageContext): string {
  if (typeof message === 'function') return String(message(context));
  return interpolate(message, (name) =>
    name === 'path' || name === 'field' || name === 'rule' || name === 'code'
      ? context[name]
      : context.params[name],
  );
}

function isExplicit(issue: Issue, marksDefaults: boolean): boolean {
  if (!marksDefaults || issue.keelDefault === true) return false;
  const params = issue.params as Record<string, unknown> | undefined;
  return params?.defaultMessage !== true;
}

/**
 * Pick the message. Most specific first: a `'path.rule'` key; the message set on the rule
 * itself (Zod `{ error }`, a Keel rule's `{ message }`); a field key (`'email'`,
 * `'items.*.qty'`); a rule or code key (`'required'`); the rule's or library's default. Within
 * a tier the call's messages beat the schema's (withMessages), which beat the global ones.
 */
function resolveMessage(
  issue: Issue,
  options: NormalizeOptions,
  full: { path: string; segments: string[] },
  relative: { path: string; segments: string[] },
  names: string[],
  rule: string | undefined,
): string {
  const { layers } = options;
  let chosen: Message | undefined;
  for (const layer of layers) {
    const at = layer.prefixed ? full : relative;
    chosen = layer.bag.forPathAndRule(at.path, at.segments, names);
    if (chosen !== undefined) break;
  }
  if (chosen === undefined && !isExplicit(issue, options.marksDefaults)) {
    for (const layer of layers) {
      const at = layer.prefixed ? full : relative;
      chosen = layer.bag.forPath(at.path, at.segments);
      if (chosen !== undefined) break;
    }
    if (chosen === undefined) {
      for (const layer of layers) {
        chosen = layer.bag.forRule(names);
        if (chosen !== undefined) break;
      }
    }
  }
  const defaultMessage = typeof issue.message === 'string' ? issue.message : 'Invalid value';
  if (chosen === undefined) return defaultMessage;
  return render(chosen, {
    path: full.path,
    field: full.segments[full.segments.length - 1] ?? '',
    rule,
    code: typeof issue.code === 'string' ? issue.code : undefined,
    defaultMessage,
    params: paramsOf(issue),
  });
}

/** Turn one Standard Schema issue into Keel's FieldError. */
export function toFieldError(raw: StandardSchemaV1.Issue, options: NormalizeOptions): FieldError {
  const issue = raw as Issue;
  const segments = segmentsOf(issue);
  const path = segments.join('.');
  const relative = { path, segments };
  const full = options.prefix
    ? {
        path: path ? `${options.prefix}.${path}` : options.prefix,
        segments: [options.prefix, ...segments],
      }
    : relative;
  const rule = ruleOf(issue, options.input, segments);
  const code = typeof issue.code === 'string' ? issue.code : undefined;
  const names: string[] = [];
  if (rule !== undefined) names.push(rule);
  if (code !== undefined && code !== rule) names.push(code);
  const message = options.layers.length
    ? resolveMessage(issue, options, full, relative, names, rule)
    : typeof issue.message === 'string'
      ? issue.message
      : 'Invalid value';
  const error: FieldError = { path: full.path, message: clip(message, MAX_MESSAGE) };
  if (rule !== undefined) error.rule = rule;
  if (code !== undefined) error.code = code;
  return error;
}
