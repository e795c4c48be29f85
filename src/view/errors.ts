import { defineError } from '../support/index.js';

// A view name may come from hostile input (a route parameter, a CMS field): quote it so
// control characters and null bytes show, and clip it so a huge name cannot flood a log.
function printable(value: unknown): string {
  const text = typeof value === 'string' ? value : typeof value;
  return JSON.stringify(text.length > 120 ? `${text.slice(0, 120)}…` : text);
}

export const E_VIEW_NOT_FOUND = defineError(
  'E_VIEW_NOT_FOUND',
  (name: string, searched: string[], suggestion?: string) =>
    `View ${printable(name)} not found; searched ${searched.join(', ')}` +
    (suggestion ? `. Did you mean "${suggestion}"?` : ''),
  {
    status: 500,
    help: 'Create the template file (with the .eta extension) in one of the searched folders, or fix the view name.',
    details: (name: string, searched: string[], suggestion?: string) => ({
      view: name,
      searched,
      ...(suggestion ? { suggestion } : {}),
    }),
  },
);

export const E_VIEW_RENDER_FAILED = defineError(
  'E_VIEW_RENDER_FAILED',
  (file: string, line: number | undefined, reason: string, _excerpt?: string) =>
    `Failed to render ${file}${line === undefined ? '' : ` at line ${line}`}: ${reason}`,
  {
    status: 500,
    help: 'Fix the template at the line shown: check the tag syntax (<% %>, <%= %>, <%~ %>) and that the data it reads exists.',
    details: (file: string, line: number | undefined, _reason: string, excerpt?: string) => ({
      file,
      ...(line === undefined ? {} : { line }),
      ...(excerpt ? { excerpt } : {}),
    }),
  },
);

export const E_VIEW_INVALID_NAME = defineError(
  'E_VIEW_INVALID_NAME',
  (name: unknown, reason: string) => `Invalid view name ${printable(name)}: ${reason}`,
  {
    status: 500,
    help: 'Name views by their path under the views folder with forward slashes and no extension, such as "products/index" or "catalog::products/index"; never build a view name from user input.',
  },
);

export const E_VIEW_UNKNOWN_NAMESPACE = defineError(
  'E_VIEW_UNKNOWN_NAMESPACE',
  (namespace: string, known: string[], suggestion?: string) =>
    `Unknown view namespace "${namespace}"` +
    (known.length > 0 ? `; registered: ${known.join(', ')}` : '; none registered') +
    (suggestion ? `. Did you mean "${suggestion}"?` : ''),
  {
    status: 500,
    help: 'Register the namespace with views.addNamespace(name, folder), usually from the module that owns the views.',
    details: (namespace: string, known: string[], _suggestion?: string) => ({
      namespace,
      known,
    }),
  },
);

export const E_VIEW_INVALID_NAMESPACE = defineError(
  'E_VIEW_INVALID_NAMESPACE',
  (namespace: unknown, reason: string) =>
    `Invalid view namespace ${printable(namespace)}: ${reason}`,
  {
    status: 500,
    help: 'Use a namespace of letters, digits, "-" and "_" starting with a letter (usually the module name) and a folder path.',
  },
);

export const E_VIEW_INVALID_HELPER = defineError(
  'E_VIEW_INVALID_HELPER',
  (name: string, reason: string) => `Invalid view helper ${printable(name)}: ${reason}`,
  {
    status: 500,
    help: "Helpers become variables in every template: name them with a JavaScript identifier that is not a reserved word or one of Eta's own names (it, include, layout, block, ...).",
  },
);
