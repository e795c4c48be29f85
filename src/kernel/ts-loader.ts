/**
 * Development runs an application's TypeScript without a build step by registering tsx's
 * ESM loader hooks in-process. Production runs compiled JavaScript and never loads tsx.
 */
let registered: Promise<void> | undefined;

/** True when TypeScript files can already be imported (a loader is active, or a test runner transforms them). */
export function canImportTypeScript(): boolean {
  return (
    Boolean(process.env.VITEST) ||
    registered !== undefined ||
    process.execArgv.some((a) => a.includes('tsx'))
  );
}

/** Register the TypeScript loader once per process. */
export function registerTypeScriptLoader(): Promise<void> {
  if (canImportTypeScript()) return registered ?? Promise.resolve();
  registered = import('tsx/esm/api').then(({ register }) => {
    register();
  });
  return registered;
}
