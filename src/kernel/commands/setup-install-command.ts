import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { defineCommand } from '../command.js';
import { generateAppKey } from '../env/index.js';

/** Set `KEY=value` in dotenv text, replacing an existing line or appending one. */
export function setEnvValue(text: string, key: string, value: string): string {
  const line = new RegExp(`^${key}=.*$`, 'm');
  if (line.test(text)) return text.replace(line, `${key}=${value}`);
  return `${text}${text.endsWith('\n') || text === '' ? '' : '\n'}${key}=${value}\n`;
}

export const setupInstallCommand = defineCommand({
  name: 'setup:install',
  aliases: ['s:i'],
  description: 'Create .env from .env.example with a fresh APP_KEY',
  needs: 'nothing',
  options: [{ flags: '-f, --force', description: 'overwrite an existing .env' }],
  async handle({ cwd, options, ui }) {
    const target = join(cwd, '.env');
    if (existsSync(target) && !options.force) {
      ui.warn('.env already exists; nothing changed (use --force to overwrite it)');
      return 0;
    }
    const example = join(cwd, '.env.example');
    const template = existsSync(example) ? await readFile(example, 'utf8') : '';
    const content = setEnvValue(template, 'APP_KEY', generateAppKey());
    await writeFile(target, content, { mode: 0o600 });
    ui.success(`wrote .env${existsSync(example) ? ' from .env.example' : ''} with a new APP_KEY`);
    return 0;
  },
});
