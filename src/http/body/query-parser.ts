import {
  E_MALFORMED_QUERY,
  E_QUERY_ARRAY_TOO_LONG,
  E_QUERY_TOO_DEEP,
  E_QUERY_TOO_LONG,
  E_QUERY_TOO_MANY_PARAMS,
} from './errors.js';

/** Bounds on what one query string (or urlencoded body) may build. */
export interface QueryLimits {
  /** Most `key=value` pairs; more is `E_QUERY_TOO_MANY_PARAMS`. Default 1000. */
  maxKeys?: number;
  /** Most bracket levels in one key (`a[b][c]` is 2); more is `E_QUERY_TOO_DEEP`. Default 5. */
  maxDepth?: number;
  /** Most values in one array, and the bound on `a[i]` indexes. Default 100. */
  maxArrayLength?: number;
  /** Most characters in the whole string; more is `E_QUERY_TOO_LONG`. Default: unbounded. */
  maxLength?: number;
}

/** A parsed parameter: a string, a list of values, or a nested (null-prototype) object. */
export type QueryValue = string | QueryValue[] | QueryObject;

/** The object tree {@link parseQuery} returns; it has no prototype. */
export type QueryObject = { [key: string]: QueryValue };

/** The limits applied when none are given. */
export const defaultQueryLimits: Readonly<Required<QueryLimits>> = Object.freeze({
  maxKeys: 1000,
  maxDepth: 5,
  maxArrayLength: 100,
  maxLength: Number.POSITIVE_INFINITY,
});

// A null prototype already makes these keys harmless, but a tree that merely contains
// them can still poison a later `Object.assign` or deep merge done by application code.
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

type Container = QueryObject | QueryValue[];

function isIndex(segment: string): boolean {
  const length = segment.length;
  if (length === 0 || length > 9) return false;
  if (length > 1 && segment.charCodeAt(0) === 48) return false; // no leading zeros: "01" is a key
  for (let i = 0; i < length; i++) {
    const code = segment.charCodeAt(i);
    if (code < 48 || code > 57) return false;
  }
  return true;
}

/**
 * Split `a[b][c]` into `['a', 'b', 'c']`, or return undefined when the brackets are not
 * well formed (`a[b`, `a[b]c`), in which case the whole key is taken literally.
 */
function splitKey(key: string, open: number): string[] | undefined {
  const segments = [key.slice(0, open)];
  let i = open;
  while (i < key.length) {
    if (key.charCodeAt(i) !== 91 /* [ */) return undefined;
    const close = key.indexOf(']', i + 1);
    if (close === -1) return undefined;
    const segment = key.slice(i + 1, close);
    if (segment.includes('[')) return undefined;
    segments.push(segment);
    i = close + 1;
  }
  return segments;
}

/**
 * Builds the parameter tree one decoded pair at a time. Shared by {@link parseQuery},
 * urlencoded bodies and multipart fields so that `tags[]=a` means the same everywhere.
 */
export class QueryBuilder {
  // Built as plain objects and given a null prototype at the end: V8 makes
  // Object.create(null) objects dictionaries, which costs ~10x on the one-key query every
  // request has. Until then reads go through `own()` so inherited names (`toString`)
  // are never mistaken for values, and writes never reach `__proto__` (it is dropped).
  readonly #root: QueryObject = {};
  readonly #objects: QueryObject[] = [this.#root];
  readonly #maxKeys: number;
  readonly #maxDepth: number;
  readonly #maxArrayLength: number;
  #keys = 0;
  #sparse = false;

  constructor(limits: QueryLimits = {}) {
    this.#maxKeys = limits.maxKeys ?? defaultQueryLimits.maxKeys;
    this.#maxDepth = limits.maxDepth ?? defaultQueryLimits.maxDepth;
    this.#maxArrayLength = limits.maxArrayLength ?? defaultQueryLimits.maxArrayLength;
  }

  /** Add one decoded pair. Throws the catalogued 400 errors when a limit is crossed. */
  add(key: string, value: string): void {
    if (++this.#keys > this.#maxKeys) throw new E_QUERY_TOO_MANY_PARAMS(this.#maxKeys);
    const open = key.indexOf('[');
    const segments =
      open > 0 && key.charCodeAt(key.length - 1) === 93 /* ] */ ? splitKey(key, open) : undefined;
    if (segments === undefined) {
      if (!FORBIDDEN_KEYS.has(key)) this.#assign(this.#root, key, value, key);
      return;
    }
    if (segments.length - 1 > this.#maxDepth) throw new E_QUERY_TOO_DEEP(key, this.#maxDepth);
    for (const segment of segments) if (FORBIDDEN_KEYS.has(segment)) return;
    this.#assignPath(segments, value, key);
  }

  /** The finished tree. */
  result(): QueryObject {
    if (this.#sparse) compact(this.#root);
    for (const object of this.#objects) Object.setPrototypeOf(object, null);
    this.#objects.length = 0;
    return this.#root;
  }

  #object(): QueryObject {
    const object: QueryObject = {};
    this.#objects.push(object);
    return object;
  }

  #assignPath(segments: string[], value: string, key: string): void {
    let container: Container = this.#root;
    let name = segments[0]!;
    for (let i = 1; i < segments.length; i++) {
      const segment = segments[i]!;
      if (segment === '' && i < segments.length - 1) {
        throw new E_MALFORMED_QUERY(
          `"[]" may only end a key, as in "${key}"; use indexes (items[0][name]) for lists of objects`,
        );
      }
      if (Array.isArray(container)) this.#checkIndex(container, name, key);
      let child = getChild(container, name);
      const wantsArray = segment === '' || isIndex(segment);
      if (child === undefined) {
        const created: Container = wantsArray ? [] : this.#object();
        setChild(container, name, created);
        child = created;
      } else if (typeof child === 'string') {
        throw conflict(key);
      } else if (Array.isArray(child) && !wantsArray) {
        child = arrayToObject(child, this.#object());
        setChild(container, name, child);
      } else if (!Array.isArray(child) && segment === '') {
        throw conflict(key);
      }
      container = child as Container;
      name = segment;
    }
    if (Array.isArray(container)) this.#assignIndex(container, name, value, key);
    else this.#assign(container, name, value, key);
  }

  #assign(target: QueryObject, name: string, value: string, key: string): void {
    if (!assignValue(target, name, value, key, this.#maxArrayLength)) throw conflict(key);
  }

  #assignIndex(target: QueryValue[], name: string, value: string, key: string): void {
    if (name === '') {
      this.#push(target, value, key);
      return;
    }
    const index = this.#checkIndex(target, name, key);
    const existing = target[index];
    if (existing !== undefined && typeof existing !== 'string') throw conflict(key);
    // A repeated explicit index is a correction, not a list: the last value wins.
    target[index] = value;
  }

  #checkIndex(target: QueryValue[], name: string, key: string): number {
    const index = Number(name);
    if (index >= this.#maxArrayLength) throw new E_QUERY_ARRAY_TOO_LONG(key, this.#maxArrayLength);
    if (index > target.length) this.#sparse = true;
    return index;
  }

  #push(target: QueryValue[], value: string, key: string): void {
    pushValue(target, value, key, this.#maxArrayLength);
  }
}

/**
 * Give `name` the value, or add it to the values already there (a repeated key is a list).
 * False when `name` already holds an object: the caller decides what that means.
 */
function assignValue(
  target: QueryObject,
  name: string,
  value: string,
  key: string,
  maxArrayLength: number,
): boolean {
  const existing = own(target, name);
  if (existing === undefined) target[name] = value;
  else if (typeof existing === 'string') {
    if (maxArrayLength < 2) throw new E_QUERY_ARRAY_TOO_LONG(key, maxArrayLength);
    target[name] = [existing, value];
  } else if (Array.isArray(existing)) pushValue(existing, value, key, maxArrayLength);
  else return false;
  return true;
}

function pushValue(target: QueryValue[], value: string, key: string, maxArrayLength: number): void {
  if (target.length >= maxArrayLength) throw new E_QUERY_ARRAY_TOO_LONG(key, maxArrayLength);
  target.push(value);
}

function conflict(key: string): Error {
  return new E_MALFORMED_QUERY(`"${key}" mixes a plain value with a nested object or list`);
}

function own(object: QueryObject, name: string): QueryValue | undefined {
  return Object.hasOwn(object, name) ? object[name] : undefined;
}

function getChild(container: Container, name: string): QueryValue | undefined {
  return Array.isArray(container) ? container[Number(name)] : own(container, name);
}

function setChild(container: Container, name: string, child: QueryValue): void {
  if (Array.isArray(container)) container[Number(name)] = child;
  else container[name] = child;
}

function arrayToObject(list: QueryValue[], object: QueryObject): QueryObject {
  for (let i = 0; i < list.length; i++) {
    const item = list[i];
    if (item !== undefined) object[i] = item;
  }
  return object;
}

// `a[5]=x` alone must not leave five holes: indexes order the values, they do not pad them.
function compact(node: QueryObject | QueryValue[]): void {
  if (Array.isArray(node)) {
    let write = 0;
    for (let read = 0; read < node.length; read++) {
      const item = node[read];
      if (item === undefined) continue;
      if (typeof item !== 'string') compact(item);
      node[write++] = item;
    }
    node.length = write;
    return;
  }
  for (const key in node) {
    const item = node[key]!;
    if (typeof item !== 'string') compact(item);
  }
}

function preview(text: string): string {
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}

/**
 * Call `visit` with every decoded pair of an `application/x-www-form-urlencoded` string,
 * until it returns false; returns false when it was stopped. A plain `indexOf` loop: the
 * common `?page=2&fields=a,b` costs two slices per pair.
 */
function forEachPair(search: string, visit: (key: string, value: string) => boolean): boolean {
  let start = search.charCodeAt(0) === 63 /* ? */ ? 1 : 0;
  const length = search.length;
  while (start < length) {
    let end = search.indexOf('&', start);
    if (end === -1) end = length;
    if (end > start) {
      const eq = search.indexOf('=', start);
      const hasValue = eq !== -1 && eq < end;
      const rawKey = search.slice(start, hasValue ? eq : end);
      if (rawKey !== '') {
        const key = decode(rawKey, rawKey, undefined);
        const value = hasValue ? decode(search.slice(eq + 1, end), rawKey, key) : '';
        if (!visit(key, value)) return false;
      }
    }
    start = end + 1;
  }
  return true;
}

/** Feed every pair of an `application/x-www-form-urlencoded` string to `builder`. */
export function addQueryPairs(builder: QueryBuilder, search: string): void {
  forEachPair(search, (key, value) => {
    builder.add(key, value);
    return true;
  });
}

/**
 * Parse a query string (with or without the leading `?`) into a null-prototype tree.
 * Repeated keys become arrays, `a[]=1` appends, `a[b][c]=1` nests, `a[0]=x` indexes;
 * `__proto__`, `constructor` and `prototype` keys are dropped.
 *
 * @example
 * ```ts
 * parseQuery('?tag=a&tag=b&page[size]=20');
 * // { tag: ['a', 'b'], page: { size: '20' } }
 * ```
 */
export function parseQuery(search: string, limits: QueryLimits = {}): QueryObject {
  const maxLength = limits.maxLength ?? defaultQueryLimits.maxLength;
  if (search.length > maxLength) throw new E_QUERY_TOO_LONG(search.length, maxLength);
  // Most query strings are flat (`?page=2&fields=a,b`): they skip the tree builder.
  if (search.indexOf('[') === -1) {
    const flat = parseFlatQuery(search, limits);
    if (flat !== undefined) return flat;
  }
  const builder = new QueryBuilder(limits);
  addQueryPairs(builder, search);
  return builder.result();
}

/**
 * {@link parseQuery} for a string without brackets: the same result, limits and errors,
 * without the tree builder. Undefined when a decoded key turns out to hold a bracket
 * (`a%5Bb%5D`), which only the tree builder handles.
 */
function parseFlatQuery(search: string, limits: QueryLimits): QueryObject | undefined {
  const maxKeys = limits.maxKeys ?? defaultQueryLimits.maxKeys;
  const maxArrayLength = limits.maxArrayLength ?? defaultQueryLimits.maxArrayLength;
  const result: QueryObject = {};
  let keys = 0;
  const complete = forEachPair(search, (key, value) => {
    if (key.indexOf('[') !== -1) return false;
    if (++keys > maxKeys) throw new E_QUERY_TOO_MANY_PARAMS(maxKeys);
    // Without brackets no key holds an object, so the value always lands.
    if (!FORBIDDEN_KEYS.has(key)) assignValue(result, key, value, key, maxArrayLength);
    return true;
  });
  if (!complete) return undefined;
  return Object.setPrototypeOf(result, null) as QueryObject;
}

/**
 * Decode one key or value (`+` is a space). `key` is the decoded key when `text` is its
 * value: an error names the key, never the value (it may be a secret).
 */
function decode(text: string, rawKey: string, key: string | undefined): string {
  const plain = text.indexOf('+') === -1 ? text : text.replaceAll('+', ' ');
  if (plain.indexOf('%') === -1) return plain;
  try {
    return decodeURIComponent(plain);
  } catch {
    throw new E_MALFORMED_QUERY(
      `invalid percent-encoding in ${key === undefined ? `the key "${preview(rawKey)}"` : `the value of "${key}"`}`,
    );
  }
}
