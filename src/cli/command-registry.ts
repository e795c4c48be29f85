import type { CommandDefinition } from '../kernel/index.js';
import { suggest } from '../support/index.js';
import { E_COMMAND_CONFLICT, E_COMMAND_NOT_FOUND, E_INVALID_COMMAND } from './errors.js';

const NAME = /^[a-z][a-z0-9-]*(?::[a-z0-9-]+)*$/;

/** Every command by name and alias, checked for conflicts. */
export class CommandRegistry {
  readonly #byName = new Map<string, CommandDefinition>();
  readonly #commands: CommandDefinition[] = [];

  add(command: unknown, source = 'the framework'): this {
    const def = command as CommandDefinition;
    if (!def || typeof def !== 'object') throw new E_INVALID_COMMAND(source, 'not an object');
    if (typeof def.name !== 'string' || !NAME.test(def.name)) {
      throw new E_INVALID_COMMAND(
        source,
        `name ${JSON.stringify(def.name)} must look like "group:action"`,
      );
    }
    if (typeof def.handle !== 'function')
      throw new E_INVALID_COMMAND(source, `${def.name} has no handle() function`);
    const origin = def.module ? `module ${def.module}` : source;
    for (const name of [def.name, ...(def.aliases ?? [])]) {
      const existing = this.#byName.get(name);
      if (existing) {
        const first = existing.module ? `module ${existing.module}` : `command ${existing.name}`;
        throw new E_COMMAND_CONFLICT(name, first, `${origin} (${def.name})`);
      }
      this.#byName.set(name, def);
    }
    this.#commands.push(def);
    return this;
  }

  has(name: string): boolean {
    return this.#byName.has(name);
  }

  find(name: string): CommandDefinition | undefined {
    return this.#byName.get(name);
  }

  get(name: string): CommandDefinition {
    const found = this.#byName.get(name);
    if (!found) throw new E_COMMAND_NOT_FOUND(name, suggest(name, this.#byName.keys()));
    return found;
  }

  all(): readonly CommandDefinition[] {
    return this.#commands;
  }
}
