import { createInterface } from 'node:readline/promises';
import pc from 'picocolors';
import type { CommandUI } from '../kernel/index.js';

export interface ConsoleUIOptions {
  json?: boolean;
  stdout?: NodeJS.WritableStream & { isTTY?: boolean };
  stderr?: NodeJS.WritableStream & { isTTY?: boolean };
  stdin?: NodeJS.ReadableStream & { isTTY?: boolean };
  /** Force colours on or off; defaults to whether stdout is a TTY (and NO_COLOR unset). */
  colors?: boolean;
}

function display(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

// Width in terminal columns, ignoring ANSI colour codes.
function width(text: string): number {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: stripping ANSI escapes
  return text.replace(/\u001b\[[0-9;]*m/g, '').length;
}

/** Terminal output for commands. Colours and progress bars only on a TTY. */
export class ConsoleUI implements CommandUI {
  readonly json: boolean;
  readonly interactive: boolean;
  readonly #out: NodeJS.WritableStream & { isTTY?: boolean };
  readonly #err: NodeJS.WritableStream & { isTTY?: boolean };
  readonly #in: NodeJS.ReadableStream & { isTTY?: boolean };
  readonly #c: ReturnType<typeof pc.createColors>;

  constructor(options: ConsoleUIOptions = {}) {
    this.json = options.json ?? false;
    this.#out = options.stdout ?? process.stdout;
    this.#err = options.stderr ?? process.stderr;
    this.#in = options.stdin ?? process.stdin;
    const tty = Boolean(this.#out.isTTY);
    this.interactive = tty && Boolean(this.#in.isTTY);
    this.#c = pc.createColors(options.colors ?? (tty && !process.env.NO_COLOR));
  }

  #write(stream: NodeJS.WritableStream, text: string): void {
    stream.write(`${text}\n`);
  }

  // With --json, human messages go to stderr so stdout stays parseable.
  #human(text: string): void {
    this.#write(this.json ? this.#err : this.#out, text);
  }

  info(message: string): void {
    this.#human(`${this.#c.cyan('ℹ')} ${message}`);
  }
  success(message: string): void {
    this.#human(`${this.#c.green('✔')} ${message}`);
  }
  warn(message: string): void {
    this.#write(this.#err, `${this.#c.yellow('⚠')} ${message}`);
  }
  error(message: string): void {
    this.#write(this.#err, `${this.#c.red('✖')} ${message}`);
  }
  line(message = ''): void {
    this.#human(message);
  }

  table(rows: Array<Record<string, unknown>>, columns?: string[]): void {
    if (this.json) return;
    const cols = columns ?? [...new Set(rows.flatMap((r) => Object.keys(r)))];
    if (rows.length === 0) {
      this.line(this.#c.dim('(none)'));
      return;
    }
    const cells = rows.map((row) => cols.map((c) => display(row[c])));
    const widths = cols.map((c, i) => Math.max(width(c), ...cells.map((r) => width(r[i]!))));
    const pad = (text: string, i: number): string => text + ' '.repeat(widths[i]! - width(text));
    this.line(cols.map((c, i) => this.#c.bold(pad(c, i))).join('  '));
    this.line(widths.map((w) => '─'.repeat(w)).join('  '));
    for (const row of cells) this.line(row.map(pad).join('  ').trimEnd());
  }

  output(data: unknown, render?: () => void): void {
    if (this.json || !render) {
      this.#write(this.#out, JSON.stringify(data, null, 2));
      return;
    }
    render();
  }

  progress(total: number, label = ''): { tick(n?: number): void; done(): void } {
    let current = 0;
    const tty = Boolean(this.#err.isTTY) && !this.json;
    const draw = (): void => {
      if (!tty) return;
      const ratio = total > 0 ? Math.min(1, current / total) : 1;
      const filled = Math.round(ratio * 24);
      const bar = `${'█'.repeat(filled)}${'░'.repeat(24 - filled)}`;
      this.#err.write(`\r${label} ${bar} ${current}/${total}`);
    };
    draw();
    return {
      tick: (n = 1) => {
        current += n;
        draw();
      },
      done: () => {
        current = total;
        draw();
        if (tty) this.#err.write('\n');
      },
    };
  }

  async confirm(question: string, defaultValue = false): Promise<boolean> {
    if (!this.interactive) return defaultValue;
    const rl = createInterface({ input: this.#in, output: this.#out });
    try {
      const answer = (await rl.question(`${question} ${defaultValue ? '[Y/n]' : '[y/N]'} `))
        .trim()
        .toLowerCase();
      if (answer === '') return defaultValue;
      return answer === 'y' || answer === 'yes';
    } finally {
      rl.close();
    }
  }

  dim(text: string): string {
    return this.#c.dim(text);
  }
  bold(text: string): string {
    return this.#c.bold(text);
  }
  green(text: string): string {
    return this.#c.green(text);
  }
  red(text: string): string {
    return this.#c.red(text);
  }
  yellow(text: string): string {
    return this.#c.yellow(text);
  }
}
