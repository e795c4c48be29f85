import { type Dirent, existsSync, readdirSync, statSync } from 'node:fs';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { suggest } from '../support/index.js';
import {
  E_VIEW_INVALID_NAME,
  E_VIEW_INVALID_NAMESPACE,
  E_VIEW_NOT_FOUND,
  E_VIEW_UNKNOWN_NAMESPACE,
} from './errors.js';

const NAMESPACE_SEPARATOR = '::';
const NAMESPACE_PATTERN = /^[A-Za-z][\w-]*$/;
const MAX_NAME_LENGTH = 1024;
// Suggestions scan the searched folders; bound the walk so a huge folder cannot stall an error.
const MAX_SUGGESTION_FILES = 5000;

/** A view name split into its namespace (undefined for the application's own views) and path. */
export interface ParsedViewName {
  readonly namespace: string | undefined;
  readonly path: string;
}

/**
 * Turns view names into template files: `products/index` under the root,
 * `catalog::products/index` under the folders registered for `catalog`, with the root's
 * `vendor/catalog/` folder searched first so an application can override a module's views
 * (as Laravel's `resources/views/vendor/<namespace>`).
 *
 * Names are paths relative to a views folder and nothing else: absolute paths, `..` and `.`
 * segments, backslashes, null bytes and control characters are refused, and the resolved
 * file is checked to lie inside the folder it was resolved from.
 */
export class ViewResolver {
  readonly #root: string;
  readonly #extension: string;
  readonly #namespaces = new Map<string, string[]>();
  // name → file; only filled when caching, so that new files show up in development.
  readonly #resolved: Map<string, string> | undefined;

  constructor(root: string, options: { extension?: string; cache?: boolean } = {}) {
    this.#root = resolve(root);
    this.#extension = options.extension ?? '.eta';
    this.#resolved = options.cache ? new Map() : undefined;
  }

  /** Register `dir` for `namespace`; a namespace may span several folders, searched in order. */
  addNamespace(namespace: string, dir: string): void {
    if (typeof namespace !== 'string' || !NAMESPACE_PATTERN.test(namespace)) {
      throw new E_VIEW_INVALID_NAMESPACE(namespace, 'expected letters, digits, "-" or "_"');
    }
    if (typeof dir !== 'string' || dir.length === 0 || dir.includes('\0')) {
      throw new E_VIEW_INVALID_NAMESPACE(namespace, 'the folder must be a non-empty path');
    }
    const dirs = this.#namespaces.get(namespace) ?? [];
    const absolute = resolve(dir);
    if (!dirs.includes(absolute)) dirs.push(absolute);
    this.#namespaces.set(namespace, dirs);
    this.#resolved?.clear();
  }

  /** Split and validate a view name; throws `E_VIEW_INVALID_NAME` for anything path-like. */
  parse(name: string): ParsedViewName {
    if (typeof name !== 'string' || name.length === 0) {
      throw new E_VIEW_INVALID_NAME(name, 'expected a non-empty string');
    }
    if (name.length > MAX_NAME_LENGTH) {
      throw new E_VIEW_INVALID_NAME(name, `longer than ${MAX_NAME_LENGTH} characters`);
    }
    if (name.includes('\0')) throw new E_VIEW_INVALID_NAME(name, 'contains a null byte');
    // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
    if (/[\u0000-\u001f\u007f]/.test(name)) {
      throw new E_VIEW_INVALID_NAME(name, 'contains a control character');
    }
    const parts = name.split(NAMESPACE_SEPARATOR);
    if (parts.length > 2) throw new E_VIEW_INVALID_NAME(name, 'more than one "::"');
    const namespace = parts.length === 2 ? parts[0]! : undefined;
    const path = parts.length === 2 ? parts[1]! : parts[0]!;
    if (namespace !== undefined && !NAMESPACE_PATTERN.test(namespace)) {
      throw new E_VIEW_INVALID_NAME(name, `invalid namespace "${namespace}"`);
    }
    if (path.includes('\\')) throw new E_VIEW_INVALID_NAME(name, 'use "/" to separate folders');
    if (path.startsWith('/') || /^[A-Za-z]:/.test(path)) {
      throw new E_VIEW_INVALID_NAME(name, 'absolute paths are not allowed');
    }
    for (const segment of path.split('/')) {
      if (segment === '..' || segment === '.') {
        throw new E_VIEW_INVALID_NAME(name, `"${segment}" segments are not allowed`);
      }
      if (segment === '') throw new E_VIEW_INVALID_NAME(name, 'empty path segment');
    }
    return { namespace, path };
  }

  /** The files a name may live in, in search order. Throws for invalid names and namespaces. */
  candidates(name: string): string[] {
    const { namespace, path } = this.parse(name);
    const file = path.endsWith(this.#extension) ? path : path + this.#extension;
    return this.#folders(namespace).map((folder) => inside(folder, file, name));
  }

  /** The template file for a view name; throws `E_VIEW_NOT_FOUND` naming the folders searched. */
  resolve(name: string): string {
    const cached = this.#resolved?.get(name);
    if (cached !== undefined) return cached;
    const candidates = this.candidates(name);
    const found = candidates.find(isFile);
    if (found === undefined) {
      throw new E_VIEW_NOT_FOUND(name, candidates, this.#suggest(name));
    }
    this.#resolved?.set(name, found);
    return found;
  }

  /** True when the view exists; false for invalid names and unknown namespaces too. */
  has(name: string): boolean {
    try {
      this.resolve(name);
      return true;
    } catch {
      return false;
    }
  }

  clearCache(): void {
    this.#resolved?.clear();
  }

  #folders(namespace: string | undefined): string[] {
    if (namespace === undefined) return [this.#root];
    const dirs = this.#namespaces.get(namespace);
    if (dirs === undefined) {
      const known = [...this.#namespaces.keys()];
      throw new E_VIEW_UNKNOWN_NAMESPACE(namespace, known, suggest(namespace, known));
    }
    return [join(this.#root, 'vendor', namespace), ...dirs];
  }

  #suggest(name: string): string | undefined {
    const { namespace } = this.parse(name);
    const prefix = namespace === undefined ? '' : namespace + NAMESPACE_SEPARATOR;
    const names = new Set<string>();
    for (const folder of this.#folders(namespace)) {
      for (const file of listTemplates(folder, this.#extension)) names.add(prefix + file);
    }
    return suggest(name, names);
  }
}

function inside(folder: string, file: string, name: string): string {
  const target = join(folder, file);
  const rel = relative(folder, target);
  // parse() already refuses every escape; this is the belt to its braces.
  if (rel === '' || rel.startsWith(`..${sep}`) || rel === '..' || isAbsolute(rel)) {
    throw new E_VIEW_INVALID_NAME(name, 'resolves outside the views folder');
  }
  return target;
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** View names (extension removed, "/" separated) of the templates under `folder`. */
function listTemplates(folder: string, extension: string): string[] {
  const names: string[] = [];
  if (!existsSync(folder)) return names;
  const walk = (dir: string, prefix: string): void => {
    let entries: Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      if (names.length >= MAX_SUGGESTION_FILES) return;
      if (entry.isDirectory()) walk(join(dir, entry.name), `${prefix}${entry.name}/`);
      else if (entry.name.endsWith(extension)) {
        names.push(prefix + entry.name.slice(0, -extension.length));
      }
    }
  };
  walk(folder, '');
  return names;
}
