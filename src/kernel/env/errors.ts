import { defineError } from '../../support/index.js';

/** One problem found in a `.env` file, reported with its line number. */
export interface EnvFileProblem {
  line: number;
  message: string;
}

/** One missing or invalid environment variable. */
export interface EnvIssue {
  key: string;
  message: string;
}

export const E_ENV_FILE_INVALID = defineError(
  'E_ENV_FILE_INVALID',
  (file: string, problems: EnvFileProblem[]) =>
    `Cannot parse ${file}:\n` +
    problems
      .map((p) => (p.line > 0 ? `  line ${p.line}: ${p.message}` : `  ${p.message}`))
      .join('\n'),
  {
    status: 500,
    help: 'Each line must be KEY=value, a # comment or blank; a quoted value may span lines but must be closed.',
    details: (file, problems) => ({ file, problems }),
  },
);

export const E_ENV_INVALID = defineError(
  'E_ENV_INVALID',
  (issues: EnvIssue[]) =>
    `Invalid environment (${issues.length} problem${issues.length === 1 ? '' : 's'}):\n` +
    issues.map((i) => `  ${i.key}: ${i.message}`).join('\n'),
  {
    status: 500,
    help: 'Set the listed variables in the environment or in .env (compare with .env.example).',
    details: (issues) => ({ issues }),
  },
);

export const E_ENV_SCHEMA_ASYNC = defineError(
  'E_ENV_SCHEMA_ASYNC',
  () => 'The environment schema validated asynchronously',
  {
    status: 500,
    help: 'Environment schemas run before anything else and must be synchronous: remove async refinements or transforms.',
  },
);

export const E_APP_ENV_INVALID = defineError(
  'E_APP_ENV_INVALID',
  (value: string, suggestion?: string) =>
    `Unknown APP_ENV "${value}"; expected one of production, staging, development, test` +
    (suggestion ? ` (did you mean "${suggestion}"?)` : ''),
  {
    status: 500,
    help: 'Set APP_ENV to production, staging, development or test (prod, stage and dev are accepted too).',
    details: (value: string, _suggestion?: string) => ({ value }),
  },
);

export const E_APP_KEY_INVALID = defineError(
  'E_APP_KEY_INVALID',
  (reason: string) => `Invalid APP_KEY: ${reason}`,
  {
    status: 500,
    help: 'Set APP_KEY to "base64:" followed by 32 random bytes in base64, such as the output of generateAppKey().',
  },
);
