import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import type { HashingConfig } from '../config.js';
import { E_PASSWORD_HASH_INVALID, E_PASSWORD_TOO_LONG } from '../errors.js';

/** The scrypt parameters of one hash. */
export interface ScryptParams {
  /** log2 of the cost N. */
  ln: number;
  r: number;
  p: number;
}

interface ParsedHash extends ScryptParams {
  salt: Buffer;
  hash: Buffer;
}

// `$scrypt$ln=17,r=8,p=1$<salt>$<hash>`: the PHC string format, salt and hash in base64
// without padding (PHC's B64). The bounds keep a forged or corrupted string from asking
// scrypt for gigabytes before the comparison fails.
const PHC =
  /^\$scrypt\$ln=(\d{1,2}),r=(\d{1,2}),p=(\d{1,2})\$([A-Za-z0-9+/]{11,88})\$([A-Za-z0-9+/]{22,172})$/;

const DEFAULTS: HashingConfig = {
  ln: 17,
  r: 8,
  p: 1,
  keyLength: 64,
  saltLength: 16,
  maxPasswordBytes: 4096,
};

/**
 * Password hashing with scrypt (`node:crypto`, run on the libuv pool so the event loop
 * stays free), stored as a PHC string that carries its own parameters: a hash made with
 * older parameters still verifies, and {@link ScryptHasher.needsRehash} says when to
 * replace it.
 *
 * @example
 * ```ts
 * const hash = await hasher.make('correct horse battery staple');
 * await hasher.verify(hash, 'correct horse battery staple'); // true
 * hasher.needsRehash(hash); // false until config/auth.ts hashing changes
 * ```
 */
export class ScryptHasher {
  readonly #config: HashingConfig;

  constructor(config: Partial<HashingConfig> = {}) {
    this.#config = { ...DEFAULTS, ...config };
  }

  /** The parameters new hashes are made with. */
  get params(): Readonly<ScryptParams> {
    return { ln: this.#config.ln, r: this.#config.r, p: this.#config.p };
  }

  /** Hash `password` with a fresh random salt. Refuses passwords over `maxPasswordBytes`. */
  async make(password: string): Promise<string> {
    const bytes = this.#checkLength(password);
    const salt = randomBytes(this.#config.saltLength);
    const { ln, r, p } = this.#config;
    const hash = await derive(bytes, salt, this.#config.keyLength, { ln, r, p });
    return `$scrypt$ln=${ln},r=${r},p=${p}$${b64(salt)}$${b64(hash)}`;
  }

  /**
   * True when `password` matches `stored`. The comparison is constant-time; a password
   * over the length limit is refused (E_PASSWORD_TOO_LONG) before any work, and a stored
   * value that is not a scrypt PHC string throws E_PASSWORD_HASH_INVALID.
   */
  async verify(stored: string, password: string): Promise<boolean> {
    const bytes = this.#checkLength(password);
    const parsed = parse(stored);
    const derived = await derive(bytes, parsed.salt, parsed.hash.length, parsed);
    return timingSafeEqual(derived, parsed.hash);
  }

  /**
   * True when `stored` was made with other parameters (or key/salt lengths) than the
   * current config, or cannot be read: the caller should hash the password again after
   * the next successful login.
   */
  needsRehash(stored: string): boolean {
    let parsed: ParsedHash;
    try {
      parsed = parse(stored);
    } catch {
      return true;
    }
    const c = this.#config;
    return (
      parsed.ln !== c.ln ||
      parsed.r !== c.r ||
      parsed.p !== c.p ||
      parsed.hash.length !== c.keyLength ||
      parsed.salt.length !== c.saltLength
    );
  }

  /** True when `value` reads as a scrypt PHC string (whatever its parameters). */
  isHash(value: string): boolean {
    try {
      parse(value);
      return true;
    } catch {
      return false;
    }
  }

  /** Throws E_PASSWORD_TOO_LONG when `password` is over the limit (before any lookup). */
  assertLength(password: string): void {
    this.#checkLength(password);
  }

  #checkLength(password: string): Buffer {
    if (typeof password !== 'string') throw new TypeError('auth: a password must be a string');
    // Cheap pre-check: a UTF-8 string is at least as many bytes as UTF-16 code units.
    const max = this.#config.maxPasswordBytes;
    if (password.length > max) throw new E_PASSWORD_TOO_LONG(Buffer.byteLength(password), max);
    const bytes = Buffer.from(password.normalize('NFKC'), 'utf8');
    if (bytes.length > max) throw new E_PASSWORD_TOO_LONG(bytes.length, max);
    return bytes;
  }
}

function parse(stored: string): ParsedHash {
  if (typeof stored !== 'string') throw new E_PASSWORD_HASH_INVALID('it is not a string');
  const match = PHC.exec(stored);
  if (!match) throw new E_PASSWORD_HASH_INVALID('not a $scrypt$ln=..,r=..,p=..$salt$hash string');
  const ln = Number(match[1]);
  const r = Number(match[2]);
  const p = Number(match[3]);
  if (ln < 1 || ln > 24 || r < 1 || r > 32 || p < 1 || p > 16)
    throw new E_PASSWORD_HASH_INVALID(`parameters out of range (ln=${ln}, r=${r}, p=${p})`);
  return {
    ln,
    r,
    p,
    salt: Buffer.from(match[4]!, 'base64'),
    hash: Buffer.from(match[5]!, 'base64'),
  };
}

/**
 * scrypt with `maxmem` sized for the parameters: OpenSSL needs 128·r·(N + 2) bytes for V
 * plus 128·r·p for B, and refuses (rather than swaps) above maxmem, whose default of
 * 32 MiB is below the 128 MiB that ln = 17, r = 8 takes.
 */
function derive(password: Buffer, salt: Buffer, keyLength: number, params: ScryptParams) {
  const N = 2 ** params.ln;
  const maxmem = 128 * params.r * (N + 2) + 128 * params.r * params.p + 1024 * 1024;
  return new Promise<Buffer>((resolve, reject) => {
    scrypt(password, salt, keyLength, { N, r: params.r, p: params.p, maxmem }, (error, key) =>
      error ? reject(error) : resolve(key),
    );
  });
}

function b64(bytes: Buffer): string {
  return bytes.toString('base64').replace(/=+$/, '');
}
