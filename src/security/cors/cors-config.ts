import { E_SECURITY_CONFIG_INVALID } from '../errors.js';

/** One allowed origin: an exact origin, a `https://*.example.com` wildcard, or an anchored RegExp. */
export type CorsOrigin = string | RegExp;

/** `security.cors` in config/security.ts. */
export interface CorsConfig {
  /** Off switch that keeps the settings; true when the key is present. */
  enabled?: boolean;
  /**
   * Where the global CORS handling applies: `'*'` (everywhere, the default), exact paths
   * or prefixes ending in `/*` (`'/api/*'`). Routes outside them may still opt in with
   * the `cors` middleware.
   */
  paths?: readonly string[];
  /** `'*'` (any origin, never with credentials) or a list of origins. */
  origins: '*' | CorsOrigin | readonly CorsOrigin[];
  /** Methods a cross-origin request may use. */
  methods?: readonly string[];
  /** Request headers it may send beyond the CORS-safelisted ones; `'*'`: whatever it asks. */
  headers?: '*' | readonly string[];
  /** Response headers its scripts may read beyond the safelisted ones. */
  exposedHeaders?: readonly string[];
  /** Allow cookies and `Authorization` (`Access-Control-Allow-Credentials: true`). */
  credentials?: boolean;
  /** Seconds a browser may cache a preflight answer (`Access-Control-Max-Age`). */
  maxAge?: number;
}

/** A validated policy, with everything the hot path needs precomputed. */
export interface CorsPolicy {
  readonly any: boolean;
  allows(origin: string): boolean;
  inPaths(path: string): boolean;
  readonly methods: ReadonlySet<string>;
  readonly methodsValue: string;
  /** Lower-case allowed headers; undefined when every requested header is allowed. */
  readonly headers: ReadonlySet<string> | undefined;
  readonly headersValue: string | undefined;
  readonly exposedValue: string | undefined;
  readonly credentials: boolean;
  readonly maxAge: string | undefined;
}

const DEFAULT_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'];
const DEFAULT_HEADERS = [
  'accept',
  'accept-language',
  'authorization',
  'content-language',
  'content-type',
  'idempotency-key',
  'x-csrf-token',
  'x-request-id',
  'x-requested-with',
  'x-xsrf-token',
];
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const KEYS = [
  'enabled',
  'paths',
  'origins',
  'methods',
  'headers',
  'exposedHeaders',
  'credentials',
  'maxAge',
];

function fail(key: string, reason: string): never {
  throw new E_SECURITY_CONFIG_INVALID(`security.cors.${key}`, reason);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * One origin entry as a test. Exact origins compare as strings (browsers send them
 * lower-case, without a default port or a path). `*.example.com` (https) or
 * `http://*.example.com:8080` matches one or more subdomain labels and nothing else: not
 * the bare domain, not `evil-example.com`, not `example.com.evil.net`.
 */
function compileOrigin(entry: unknown, at: string): (origin: string) => boolean {
  if (entry instanceof RegExp) {
    if (!entry.source.startsWith('^') || !entry.source.endsWith('$'))
      fail(at, `${entry} must be anchored with ^ and $, or it matches inside hostile origins`);
    // A global or sticky RegExp keeps lastIndex between calls: every other test would fail.
    const re = new RegExp(entry.source, entry.flags.replace(/[gy]/g, ''));
    return (origin) => re.test(origin);
  }
  if (typeof entry !== 'string' || entry.trim() === '')
    fail(at, 'expected an origin string or a RegExp');
  const text = entry.trim().toLowerCase();
  if (text === 'null')
    fail(at, '"null" is the origin of sandboxed frames and file: pages; it can never be trusted');
  const wildcard =
    /^(?:(https?):\/\/)?\*\.((?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)*[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)(?::(\d{1,5}))?$/.exec(
      text,
    );
  if (wildcard) {
    const [, scheme = 'https', domain = '', port] = wildcard;
    if (!domain.includes('.'))
      fail(at, `"${entry}" would match every subdomain of a top-level domain`);
    const label = '[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?';
    const re = new RegExp(
      `^${scheme}://(?:${label}\\.)+${escapeRegExp(domain)}${port ? `:${escapeRegExp(port)}` : ''}$`,
    );
    return (origin) => re.test(origin);
  }
  if (text.includes('*'))
    fail(
      at,
      `"${entry}": a wildcard is only allowed as the first label, like https://*.example.com`,
    );
  let parsed: URL;
  try {
    parsed = new URL(text);
  } catch {
    fail(at, `"${entry}" is not an origin like https://app.example.com`);
  }
  if (
    parsed.origin === 'null' ||
    !/^https?:$/.test(parsed.protocol) ||
    parsed.origin !== text.replace(/\/$/, '')
  )
    fail(at, `"${entry}" is not an origin like https://app.example.com (scheme and host, no path)`);
  const exact = parsed.origin;
  return (origin) => origin === exact;
}

function tokens(value: unknown, key: string, map: (token: string) => string): string[] {
  if (!Array.isArray(value)) fail(key, 'expected an array of names');
  const out: string[] = [];
  for (const item of value) {
    if (typeof item !== 'string' || !TOKEN.test(item))
      fail(key, `${JSON.stringify(item)} is not a header or method name`);
    const mapped = map(item);
    if (!out.includes(mapped)) out.push(mapped);
  }
  return out;
}

function compilePaths(paths: unknown): (path: string) => boolean {
  if (paths === undefined) return () => true;
  if (!Array.isArray(paths) || paths.length === 0)
    fail('paths', "expected a non-empty array like ['/api/*']");
  const exact = new Set<string>();
  const prefixes: string[] = [];
  for (const path of paths) {
    if (path === '*') return () => true;
    if (typeof path !== 'string' || !path.startsWith('/'))
      fail('paths', `${JSON.stringify(path)} must start with "/" (or be "*")`);
    if (path.endsWith('/*')) prefixes.push(path.slice(0, -1));
    else if (path.includes('*')) fail('paths', `"${path}": "*" may only end a prefix like /api/*`);
    else exact.add(path);
  }
  return (path) =>
    exact.has(path) ||
    prefixes.some((prefix) => path.startsWith(prefix) || path === prefix.slice(0, -1));
}

/**
 * Validate `security.cors` and precompute the policy; `undefined` when CORS is off (no
 * key, or `enabled: false`). Throws `E_SECURITY_CONFIG_INVALID` naming the key, also for
 * `origins: '*'` with `credentials: true`, which browsers refuse and which would hand every
 * site the user's session if they did not.
 *
 * @example
 * ```ts
 * const policy = compileCorsPolicy({ origins: ['https://app.example.com'], credentials: true });
 * policy?.allows('https://app.example.com'); // true
 * ```
 */
export function compileCorsPolicy(config: unknown): CorsPolicy | undefined {
  if (config === undefined) return undefined;
  if (typeof config !== 'object' || config === null || Array.isArray(config))
    throw new E_SECURITY_CONFIG_INVALID(
      'security.cors',
      'expected an object with at least origins',
    );
  const c = config as Record<string, unknown>;
  for (const key of Object.keys(c))
    if (!KEYS.includes(key)) fail(key, `unknown option (expected one of ${KEYS.join(', ')})`);
  if (c.enabled !== undefined && typeof c.enabled !== 'boolean')
    fail('enabled', 'expected true or false');
  if (c.enabled === false) return undefined;
  if (c.credentials !== undefined && typeof c.credentials !== 'boolean')
    fail('credentials', 'expected true or false');
  const credentials = c.credentials === true;
  if (c.origins === undefined) fail('origins', "required: '*' or a list of origins");
  const any = c.origins === '*';
  let allows: (origin: string) => boolean = () => true;
  if (any) {
    if (credentials)
      fail('origins', "'*' cannot be combined with credentials: list the origins instead");
  } else {
    const entries = Array.isArray(c.origins) ? c.origins : [c.origins];
    if (entries.length === 0)
      fail('origins', 'an empty list allows nobody: remove security.cors instead');
    const tests = entries.map((entry, i) => {
      if (entry === '*')
        fail(`origins.${i}`, "'*' must be the whole value (origins: '*'), not an entry");
      return compileOrigin(entry, `origins.${i}`);
    });
    allows = tests.length === 1 ? tests[0]! : (origin) => tests.some((test) => test(origin));
  }
  const methods =
    c.methods === undefined
      ? DEFAULT_METHODS
      : tokens(c.methods, 'methods', (m) => m.toUpperCase());
  let headers: string[] | undefined = DEFAULT_HEADERS;
  if (c.headers === '*') headers = undefined;
  else if (c.headers !== undefined) headers = tokens(c.headers, 'headers', (h) => h.toLowerCase());
  const exposed =
    c.exposedHeaders === undefined
      ? []
      : tokens(c.exposedHeaders, 'exposedHeaders', (h) => h.toLowerCase());
  if (exposed.includes('*') && credentials)
    fail('exposedHeaders', "'*' is taken literally with credentials: list the headers");
  if (
    c.maxAge !== undefined &&
    (typeof c.maxAge !== 'number' || !Number.isInteger(c.maxAge) || c.maxAge < 0)
  )
    fail('maxAge', 'expected a whole number of seconds (browsers cap it: Chromium at 7200)');
  const maxAge = (c.maxAge as number | undefined) ?? 7200;
  return {
    any,
    // The `null` origin (sandboxed frames, file: pages, some redirects) is never trusted.
    allows: (origin) => origin !== 'null' && allows(origin),
    inPaths: compilePaths(c.paths),
    methods: new Set(methods),
    methodsValue: methods.join(', '),
    headers: headers === undefined ? undefined : new Set(headers),
    headersValue: headers?.join(', '),
    exposedValue: exposed.length > 0 ? exposed.join(', ') : undefined,
    credentials,
    maxAge: maxAge > 0 ? String(maxAge) : undefined,
  };
}
