import { suggest } from '../../support/index.js';
import { E_SECURITY_CONFIG_INVALID } from '../errors.js';

/** CSP directives by name; `true` for a valueless directive (`upgrade-insecure-requests`). */
export type CspDirectives = Record<string, readonly string[] | string | boolean>;

export interface CspOptions {
  /** Replaces the default directives (they are not merged, so nothing is allowed by surprise). */
  directives?: CspDirectives;
  /** Add a per-request `'nonce-…'` to `script-src` and `style-src`; read it as `ctx.cspNonce`. */
  nonce?: boolean;
  /** Send `Content-Security-Policy-Report-Only` instead (to trial a policy). */
  reportOnly?: boolean;
}

export interface HstsOptions {
  /** Seconds; 31536000 (a year) by default. */
  maxAge?: number;
  includeSubDomains?: boolean;
  /** Opt in to the browsers' preload list (only once every subdomain serves HTTPS). */
  preload?: boolean;
}

/** One set of security headers; `false` leaves a header out. */
export interface SecurityHeadersOptions {
  contentSecurityPolicy?: CspOptions | false;
  /** Sent only in production and only over HTTPS (as `ctx.secure` resolves it). */
  hsts?: HstsOptions | false;
  frameOptions?: 'DENY' | 'SAMEORIGIN' | false;
  referrerPolicy?: string | false;
  /** Features and their allowlists: `[]` → `()`, `'self'` → `self`, `'*'`, or origins. */
  permissionsPolicy?: Record<string, readonly string[]> | false;
  crossOriginOpenerPolicy?: 'same-origin' | 'same-origin-allow-popups' | 'unsafe-none' | false;
  crossOriginResourcePolicy?: 'same-origin' | 'same-site' | 'cross-origin' | false;
  crossOriginEmbedderPolicy?: 'require-corp' | 'credentialless' | 'unsafe-none' | false;
  /** `X-Content-Type-Options: nosniff`. */
  noSniff?: boolean;
  /** `Origin-Agent-Cluster: ?1`. */
  originAgentCluster?: boolean;
  /** `X-DNS-Prefetch-Control: on` when true; `off` by default. */
  dnsPrefetch?: boolean;
}

/** `security.headers` in config/security.ts: the default profile and named ones. */
export interface HeadersConfig extends SecurityHeadersOptions {
  /** Named profiles for `security:<name>`, each merged key by key over the default one. */
  profiles?: Record<string, SecurityHeadersOptions>;
}

/** A profile with every option decided. */
export interface ResolvedHeadersProfile {
  contentSecurityPolicy: Required<CspOptions> | false;
  hsts: Required<HstsOptions> | false;
  frameOptions: 'DENY' | 'SAMEORIGIN' | false;
  referrerPolicy: string | false;
  permissionsPolicy: Record<string, readonly string[]> | false;
  crossOriginOpenerPolicy: string | false;
  crossOriginResourcePolicy: string | false;
  crossOriginEmbedderPolicy: string | false;
  noSniff: boolean;
  originAgentCluster: boolean;
  dnsPrefetch: boolean;
}

/** Everything a page needs from its own origin, nothing else; no plugins, no framing. */
export const DEFAULT_CSP_DIRECTIVES: Readonly<CspDirectives> = Object.freeze({
  'default-src': ["'self'"],
  'base-uri': ["'self'"],
  'form-action': ["'self'"],
  'frame-ancestors': ["'none'"],
  'img-src': ["'self'", 'data:'],
  'object-src': ["'none'"],
});

/** Powerful features no page gets unless it asks for them. */
export const DEFAULT_PERMISSIONS_POLICY: Readonly<Record<string, readonly string[]>> =
  Object.freeze({
    accelerometer: [],
    camera: [],
    'display-capture': [],
    geolocation: [],
    gyroscope: [],
    magnetometer: [],
    microphone: [],
    midi: [],
    payment: [],
    usb: [],
  });

const DEFAULT_CSP: Required<CspOptions> = {
  directives: DEFAULT_CSP_DIRECTIVES,
  nonce: false,
  reportOnly: false,
};
const DEFAULT_HSTS: Required<HstsOptions> = {
  maxAge: 31_536_000,
  includeSubDomains: true,
  preload: false,
};

const DEFAULTS: ResolvedHeadersProfile = {
  contentSecurityPolicy: DEFAULT_CSP,
  hsts: DEFAULT_HSTS,
  frameOptions: 'DENY',
  referrerPolicy: 'strict-origin-when-cross-origin',
  permissionsPolicy: DEFAULT_PERMISSIONS_POLICY,
  crossOriginOpenerPolicy: 'same-origin',
  crossOriginResourcePolicy: 'same-origin',
  crossOriginEmbedderPolicy: false,
  noSniff: true,
  originAgentCluster: true,
  dnsPrefetch: false,
};

/** The built-in `api` profile: JSON answers load nothing and are framed by nobody. */
const BUILT_IN: Record<string, SecurityHeadersOptions> = {
  api: {
    contentSecurityPolicy: {
      directives: { 'default-src': ["'none'"], 'frame-ancestors': ["'none'"] },
      nonce: false,
    },
  },
};

const OPTION_KEYS = Object.keys(DEFAULTS) as (keyof SecurityHeadersOptions)[];

const REFERRER_POLICIES = [
  'no-referrer',
  'no-referrer-when-downgrade',
  'origin',
  'origin-when-cross-origin',
  'same-origin',
  'strict-origin',
  'strict-origin-when-cross-origin',
  'unsafe-url',
];

const CHOICES: Partial<Record<keyof SecurityHeadersOptions, readonly string[]>> = {
  frameOptions: ['DENY', 'SAMEORIGIN'],
  crossOriginOpenerPolicy: ['same-origin', 'same-origin-allow-popups', 'unsafe-none'],
  crossOriginResourcePolicy: ['same-origin', 'same-site', 'cross-origin'],
  crossOriginEmbedderPolicy: ['require-corp', 'credentialless', 'unsafe-none'],
};

function fail(key: string, reason: string): never {
  throw new E_SECURITY_CONFIG_INVALID(key, reason);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

// A header value must not smuggle a second directive, a second header or a control byte.
const TOKEN_UNSAFE = /[;,\p{Cc}]/u;

function checkOptions(options: unknown, key: string): SecurityHeadersOptions {
  if (!isRecord(options)) fail(key, 'expected an object');
  for (const [name, value] of Object.entries(options)) {
    const at = `${key}.${name}`;
    if (!OPTION_KEYS.includes(name as keyof SecurityHeadersOptions)) {
      const nearest = suggest(name, [...OPTION_KEYS, 'profiles']);
      fail(at, `unknown option${nearest ? `; did you mean "${nearest}"?` : ''}`);
    }
    if (value === undefined) continue;
    switch (name) {
      case 'contentSecurityPolicy':
        if (value !== false) checkCsp(value, at);
        break;
      case 'hsts':
        if (value !== false) checkHsts(value, at);
        break;
      case 'referrerPolicy':
        if (value === false) break;
        if (
          typeof value !== 'string' ||
          value.split(',').some((p) => !REFERRER_POLICIES.includes(p.trim()))
        )
          fail(at, `expected false or one of ${REFERRER_POLICIES.join(', ')}`);
        break;
      case 'permissionsPolicy':
        if (value !== false) checkPermissions(value, at);
        break;
      case 'noSniff':
      case 'originAgentCluster':
      case 'dnsPrefetch':
        if (typeof value !== 'boolean') fail(at, 'expected true or false');
        break;
      default: {
        const choices = CHOICES[name as keyof SecurityHeadersOptions] ?? [];
        if (value !== false && !choices.includes(value as string))
          fail(at, `expected false or one of ${choices.join(', ')}`);
      }
    }
  }
  return options as SecurityHeadersOptions;
}

function checkCsp(value: unknown, key: string): void {
  if (!isRecord(value)) fail(key, 'expected false or { directives, nonce, reportOnly }');
  for (const name of Object.keys(value)) {
    if (!['directives', 'nonce', 'reportOnly'].includes(name))
      fail(`${key}.${name}`, 'unknown option (expected directives, nonce or reportOnly)');
  }
  for (const flag of ['nonce', 'reportOnly'] as const) {
    if (value[flag] !== undefined && typeof value[flag] !== 'boolean')
      fail(`${key}.${flag}`, 'expected true or false');
  }
  const directives = value.directives;
  if (directives === undefined) return;
  if (!isRecord(directives) || Object.keys(directives).length === 0)
    fail(`${key}.directives`, "expected directives by name, e.g. { 'default-src': [\"'self'\"] }");
  for (const [name, sources] of Object.entries(directives)) {
    const at = `${key}.directives.${name}`;
    if (!/^[a-z][a-z-]*$/.test(name)) fail(at, 'a directive name is lower-case letters and "-"');
    if (typeof sources === 'boolean') continue;
    const list = typeof sources === 'string' ? sources.split(/\s+/).filter(Boolean) : sources;
    if (!Array.isArray(list)) fail(at, 'expected an array of sources, a string or true');
    for (const source of list) {
      if (
        typeof source !== 'string' ||
        source === '' ||
        /\s/.test(source) ||
        TOKEN_UNSAFE.test(source)
      )
        fail(at, `source ${JSON.stringify(source)} must be one token without ";", "," or spaces`);
      if (/^'nonce-/i.test(source))
        fail(at, 'a fixed nonce defeats its purpose; set contentSecurityPolicy.nonce: true');
    }
  }
}

function checkHsts(value: unknown, key: string): void {
  if (!isRecord(value)) fail(key, 'expected false or { maxAge, includeSubDomains, preload }');
  for (const [name, option] of Object.entries(value)) {
    const at = `${key}.${name}`;
    if (name === 'maxAge') {
      if (typeof option !== 'number' || !Number.isInteger(option) || option < 0)
        fail(at, 'expected a whole number of seconds');
    } else if (name === 'includeSubDomains' || name === 'preload') {
      if (typeof option !== 'boolean') fail(at, 'expected true or false');
    } else fail(at, 'unknown option (expected maxAge, includeSubDomains or preload)');
  }
  const v = value as HstsOptions;
  // The preload list refuses entries that do not meet these; better to fail at boot.
  if (
    v.preload === true &&
    ((v.maxAge ?? 31_536_000) < 31_536_000 || v.includeSubDomains === false)
  )
    fail(`${key}.preload`, 'preload needs maxAge >= 31536000 and includeSubDomains');
}

function checkPermissions(value: unknown, key: string): void {
  if (!isRecord(value)) fail(key, 'expected false or { feature: [allowlist] }');
  for (const [feature, allow] of Object.entries(value)) {
    const at = `${key}.${feature}`;
    if (!/^[a-z][a-z0-9-]*$/.test(feature))
      fail(at, 'a feature name is lower-case letters, digits and "-"');
    if (!Array.isArray(allow))
      fail(at, "expected an array: [] (nobody), ['self'], ['*'] or origins");
    for (const origin of allow) {
      if (origin === 'self' || origin === '*') continue;
      if (typeof origin !== 'string' || !/^https?:\/\/[A-Za-z0-9.-]+(?::\d{1,5})?$/.test(origin))
        fail(
          at,
          `${JSON.stringify(origin)} is not 'self', '*' or an origin like https://example.com`,
        );
    }
  }
}

function resolveProfile(
  base: ResolvedHeadersProfile,
  options: SecurityHeadersOptions,
): ResolvedHeadersProfile {
  const out = { ...base };
  for (const name of OPTION_KEYS) {
    const value = options[name];
    if (value === undefined) continue;
    if (name === 'contentSecurityPolicy' && value !== false) {
      const csp = value as CspOptions;
      const from = base.contentSecurityPolicy || DEFAULT_CSP;
      out.contentSecurityPolicy = {
        directives: csp.directives ?? from.directives,
        nonce: csp.nonce ?? from.nonce,
        reportOnly: csp.reportOnly ?? from.reportOnly,
      };
    } else if (name === 'hsts' && value !== false) {
      out.hsts = {
        ...(base.hsts || DEFAULT_HSTS),
        ...(value as HstsOptions),
      } as Required<HstsOptions>;
    } else {
      (out as Record<string, unknown>)[name] = value;
    }
  }
  return out;
}

/**
 * Validate `security.headers` and resolve every profile (`default`, the built-in `api`,
 * and the app's own), each option decided. Throws `E_SECURITY_CONFIG_INVALID` naming the
 * first key it cannot use.
 *
 * @example
 * ```ts
 * const profiles = resolveHeadersConfig({ frameOptions: 'SAMEORIGIN', profiles: { docs: { contentSecurityPolicy: false } } });
 * profiles.get('docs')?.frameOptions; // 'SAMEORIGIN'
 * ```
 */
export function resolveHeadersConfig(config: unknown): Map<string, ResolvedHeadersProfile> {
  const key = 'security.headers';
  const raw = config === undefined ? {} : config;
  if (!isRecord(raw)) fail(key, 'expected an object');
  const { profiles, ...own } = raw;
  const base = resolveProfile(DEFAULTS, checkOptions(own, key));
  const out = new Map<string, ResolvedHeadersProfile>([['default', base]]);
  if (profiles !== undefined && !isRecord(profiles))
    fail(`${key}.profiles`, 'expected profiles by name, e.g. { api: { ... } }');
  const names = new Set([...Object.keys(BUILT_IN), ...Object.keys(profiles ?? {})]);
  for (const name of names) {
    const at = `${key}.profiles.${name}`;
    if (!/^[A-Za-z0-9_-]+$/.test(name)) fail(at, 'a profile name is letters, digits, "_" or "-"');
    const builtIn = BUILT_IN[name];
    let profile = builtIn ? resolveProfile(base, builtIn) : base;
    const own = (profiles as Record<string, unknown> | undefined)?.[name];
    if (own !== undefined) profile = resolveProfile(profile, checkOptions(own, at));
    out.set(name, profile);
  }
  return out;
}
