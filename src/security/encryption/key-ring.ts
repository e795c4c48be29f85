import { hkdfSync } from 'node:crypto';
import { parseAppKey } from '../../kernel/index.js';
import { E_ENCRYPTION_CONFIG_INVALID, E_ENCRYPTION_KEY_MISSING } from './errors.js';

/** The application keys: `current` makes every new value, `previous` only read old ones. */
export interface AppKeys {
  readonly current: Buffer;
  readonly previous: readonly Buffer[];
}

/** Where the keys come from: `APP_KEY`, and `app.previous_keys` or `APP_PREVIOUS_KEYS`. */
export interface AppKeySources {
  appKey: string | undefined;
  /** `app.previous_keys` from config: an array of keys or one comma-separated string. */
  configPrevious?: unknown;
  /** `APP_PREVIOUS_KEYS` from the environment, comma-separated. */
  envPrevious?: string | undefined;
}

/**
 * Parse the current and previous application keys, or throw `E_ENCRYPTION_KEY_MISSING` /
 * `E_ENCRYPTION_CONFIG_INVALID` naming the offending entry (never its value). The config
 * list wins over the environment variable when both are set.
 *
 * @example
 * ```ts
 * const keys = readAppKeys({ appKey: env.APP_KEY, envPrevious: env.APP_PREVIOUS_KEYS });
 * ```
 */
export function readAppKeys(sources: AppKeySources): AppKeys {
  if (sources.appKey === undefined || sources.appKey.trim() === '')
    throw new E_ENCRYPTION_KEY_MISSING();
  const current = parseAppKey(sources.appKey);
  const fromConfig = sources.configPrevious !== undefined && sources.configPrevious !== null;
  const label = fromConfig ? 'app.previous_keys' : 'APP_PREVIOUS_KEYS';
  const raw = fromConfig ? sources.configPrevious : (sources.envPrevious ?? '');
  let list: unknown[];
  if (typeof raw === 'string') list = raw.split(',');
  else if (Array.isArray(raw)) list = raw;
  else throw new E_ENCRYPTION_CONFIG_INVALID(label, 'expected a list of keys or a string');
  const previous: Buffer[] = [];
  for (const [index, entry] of list.entries()) {
    if (typeof entry !== 'string')
      throw new E_ENCRYPTION_CONFIG_INVALID(`${label}[${index}]`, 'expected a string');
    if (entry.trim() === '') continue;
    try {
      const key = parseAppKey(entry);
      if (!key.equals(current) && !previous.some((p) => p.equals(key))) previous.push(key);
    } catch (error) {
      throw new E_ENCRYPTION_CONFIG_INVALID(
        `${label}[${index}]`,
        error instanceof Error ? error.message : String(error),
      );
    }
  }
  return { current, previous };
}

/**
 * A subkey for one use of an application key (HKDF-SHA256, RFC 5869): the same `APP_KEY`
 * never keys both AES-GCM and HMAC, nor Keel's signed cookies, which use it directly.
 */
export function deriveKey(appKey: Buffer, use: 'encryption' | 'signing' | 'url-signing'): Buffer {
  return Buffer.from(hkdfSync('sha256', appKey, Buffer.alloc(0), `keel:${use}:v1`, 32));
}
