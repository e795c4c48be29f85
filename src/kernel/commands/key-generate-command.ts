import { existsSync } from 'node:fs';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { defineCommand } from '../command.js';
import { generateAppKey, readEnvFile } from '../env/index.js';
import { setEnvValue } from './setup-install-command.js';

/**
 * `keel key:generate [--show] [--rotate] [--force]`: a fresh `APP_KEY` (32 bytes from the
 * CSPRNG). `--show` prints it for a secret store and writes nothing. Otherwise it goes
 * into `.env`: a key already there is only replaced with `--rotate` (the old key moves to
 * the front of `APP_PREVIOUS_KEYS`, so what it encrypted and signed stays readable) or
 * `--force` (the old key is dropped: sessions end, signed values stop verifying).
 */
export const keyGenerateCommand = defineCommand({
  name: 'key:generate',
  description: 'Generate an APP_KEY: print it (--show) or write it to .env',
  needs: 'nothing',
  json: true,
  options: [
    { flags: '--show', description: 'print the key and write nothing' },
    {
      flags: '--rotate',
      description: 'replace the key in .env, keeping the old one in APP_PREVIOUS_KEYS',
    },
    { flags: '-f, --force', description: 'replace the key in .env and drop the old one' },
  ],
  async handle({ cwd, options, ui }) {
    const key = generateAppKey();
    if (options.show) {
      ui.output({ key }, () => ui.line(key));
      return 0;
    }
    const target = join(cwd, '.env');
    const text = existsSync(target) ? await readFile(target, 'utf8') : '';
    const current = readEnvFile(target)?.APP_KEY?.trim() ?? '';
    if (current !== '' && !options.rotate && !options.force) {
      ui.error(
        '.env already has an APP_KEY; nothing changed. Use --rotate to keep the old key in APP_PREVIOUS_KEYS (what it encrypted stays readable), or --force to drop it.',
      );
      return 1;
    }
    let content = setEnvValue(text, 'APP_KEY', key);
    let rotated = false;
    if (current !== '' && options.rotate) {
      const previous = readEnvFile(target)?.APP_PREVIOUS_KEYS ?? '';
      const ring = [current, ...previous.split(',').map((k) => k.trim())].filter(
        (k, i, all) => k !== '' && all.indexOf(k) === i,
      );
      content = setEnvValue(content, 'APP_PREVIOUS_KEYS', ring.join(','));
      rotated = true;
    }
    await writeFile(target, content, { mode: 0o600 });
    // `mode` only applies to a new file: a key is a secret whatever the file was before.
    await chmod(target, 0o600);
    ui.output({ written: '.env', rotated }, () =>
      ui.success(
        rotated
          ? 'wrote a new APP_KEY to .env; the old one is first in APP_PREVIOUS_KEYS (remove it once what it made has expired)'
          : 'wrote a new APP_KEY to .env',
      ),
    );
    return 0;
  },
});
