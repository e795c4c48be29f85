import { defineError } from '../support/index.js';

export const E_COMPILED_STALE = defineError(
  'E_COMPILED_STALE',
  (artifact: string, reason: string) =>
    `Compiled artifact var/cache/${artifact} is stale: ${reason}`,
  {
    help: 'Run `keel compile` (or `keel build`) after changing sources, before starting in production.',
  },
);

export const E_COMPILED_CORRUPT = defineError(
  'E_COMPILED_CORRUPT',
  (file: string, reason: string) => `Compiled artifact ${file} cannot be read: ${reason}`,
  { help: 'Run `keel cache:clear --compiled`, then `keel compile`.' },
);

export const E_SECRET_IN_ARTIFACT = defineError(
  'E_SECRET_IN_ARTIFACT',
  (artifact: string, path: string) =>
    `Refusing to write ${artifact}: ${path} holds a literal value that looks like a secret`,
  {
    help: "Read secrets through env('NAME') in config files so artifacts keep a reference, not the value.",
  },
);

export const E_BUILD_FAILED = defineError(
  'E_BUILD_FAILED',
  (reason: string) => `Build failed: ${reason}`,
  {
    help: 'Fix the TypeScript or import errors listed; `npm run typecheck` shows them with context.',
  },
);
