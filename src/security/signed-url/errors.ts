import { defineError } from '../../support/index.js';

/** Signed URLs: a link whose signature does not verify, or whose time ran out (403). */

export const E_URL_SIGNATURE_INVALID = defineError(
  'E_URL_SIGNATURE_INVALID',
  (path: string, reason: string) => `The link to ${path} is not valid: ${reason}`,
  {
    status: 403,
    help: 'Use the link exactly as it was issued (no parameter added, removed or changed), or ask for a new one.',
  },
);

export const E_URL_SIGNATURE_EXPIRED = defineError(
  'E_URL_SIGNATURE_EXPIRED',
  (path: string) => `The link to ${path} has expired`,
  {
    status: 403,
    help: 'Ask for a new link; signed links stop working at the time they were issued with.',
  },
);
