import { runCli } from './kernel-cli.js';

/** The `keel` binary's entry: run the CLI on process.argv and set the exit code. */
export async function main(): Promise<void> {
  process.exitCode = await runCli({ argv: process.argv.slice(2) });
}
