import { defineError } from '../../support/index.js';

/**
 * Why a value was rejected. Deliberately coarse: a wrong key, a wrong purpose and a
 * flipped bit all fail authentication the same way, and telling them apart would help
 * an attacker more than a user.
 */
export type RejectionReason = 'malformed' | 'unsupported-version' | 'authentication' | 'expired';

const REASONS: Record<RejectionReason, string> = {
  malformed: 'it is not a value this application produced (malformed)',
  'unsupported-version': 'its format version is not supported',
  authentication:
    'it does not authenticate with any application key for this purpose (tampered, forged, truncated, wrong key or wrong purpose)',
  expired: 'it has expired',
};

export const E_DECRYPTION_FAILED = defineError(
  'E_DECRYPTION_FAILED',
  (reason: RejectionReason) => `Cannot decrypt the value: ${REASONS[reason]}`,
  {
    status: 400,
    help: 'Treat the value as untrusted input: ask the client for a fresh one. If every value fails after a deploy, APP_KEY changed; list the old key in APP_PREVIOUS_KEYS.',
    details: (reason: RejectionReason) => ({ reason }),
  },
);

export const E_SIGNATURE_INVALID = defineError(
  'E_SIGNATURE_INVALID',
  (reason: RejectionReason) => `The signed value is rejected: ${REASONS[reason]}`,
  {
    status: 400,
    help: 'Treat the value as untrusted input: ask the client for a fresh one. If every value fails after a deploy, APP_KEY changed; list the old key in APP_PREVIOUS_KEYS.',
    details: (reason: RejectionReason) => ({ reason }),
  },
);

export const E_ENCRYPTION_KEY_MISSING = defineError(
  'E_ENCRYPTION_KEY_MISSING',
  () => 'Encryption and signing need APP_KEY, and it is not set',
  {
    status: 500,
    help: 'Run `keel key:generate` and set the printed value as APP_KEY in .env (or the environment).',
  },
);

export const E_ENCRYPTION_CONFIG_INVALID = defineError(
  'E_ENCRYPTION_CONFIG_INVALID',
  (key: string, reason: string) => `Invalid encryption key configuration at ${key}: ${reason}`,
  {
    status: 500,
    help: 'Each previous key (app.previous_keys in config/app.ts, or APP_PREVIOUS_KEYS, comma-separated) must be a full "base64:..." key as APP_KEY is.',
  },
);

export const E_ENCRYPTION_PAYLOAD_INVALID = defineError(
  'E_ENCRYPTION_PAYLOAD_INVALID',
  (what: string, reason: string) => `Cannot ${what} the value: ${reason}`,
  {
    status: 500,
    help: 'Encrypt or sign JSON-serializable values only (no undefined, functions, symbols or BigInt), and pass expiresIn as milliseconds or a duration such as "15m".',
  },
);
