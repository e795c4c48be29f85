import { runCli } from './kernel-cli.js';

/** The `keel` binary's entry: run the CLI on process.argv and set the exit code. */
export async function main(): Promise<void> {
  // `keel module:info x | head` closes stdout early: end quietly, as Unix tools do.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(0);
    throw error;
  });
  process.exitCode = await runCli({ argv: process.argv.slice(2) });
}
