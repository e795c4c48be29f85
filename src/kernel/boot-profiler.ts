import { performance } from 'node:perf_hooks';

export interface ProfileEntry {
  /** `phase` for a lifecycle phase, `provider` for one provider's part of a phase, `step` for a boot step. */
  kind: 'phase' | 'provider' | 'step';
  name: string;
  phase?: string;
  module?: string;
  ms: number;
}

/**
 * Records how long each boot phase, step and provider took, for `--profile-boot` and
 * `KEEL_PROFILE_BOOT=1`.
 */
export class BootProfiler {
  readonly entries: ProfileEntry[] = [];
  readonly #origin: number;

  constructor(origin = performance.now()) {
    this.#origin = origin;
  }

  /** Milliseconds since the profiler (usually the process) started. */
  elapsed(): number {
    return performance.now() - this.#origin;
  }

  record(entry: ProfileEntry): void {
    this.entries.push(entry);
  }

  async measure<T>(kind: ProfileEntry['kind'], name: string, fn: () => T | Promise<T>): Promise<T> {
    const start = performance.now();
    try {
      return await fn();
    } finally {
      this.entries.push({ kind, name, ms: performance.now() - start });
    }
  }

  /** A human-readable table, slowest providers first within each phase. */
  format(): string {
    const lines = ['Boot profile (ms)'];
    for (const entry of this.entries.filter((e) => e.kind !== 'provider')) {
      lines.push(
        `  ${entry.kind.padEnd(6)} ${entry.name.padEnd(40)} ${entry.ms.toFixed(2).padStart(9)}`,
      );
      const providers = this.entries
        .filter((e) => e.kind === 'provider' && e.phase === entry.name)
        .sort((a, b) => b.ms - a.ms);
      for (const provider of providers) {
        const label = provider.module ? `${provider.name} (${provider.module})` : provider.name;
        lines.push(`           ↳ ${label.padEnd(36)} ${provider.ms.toFixed(2).padStart(9)}`);
      }
    }
    lines.push(
      `  total since process start${' '.repeat(23)}${this.elapsed().toFixed(2).padStart(9)}`,
    );
    return lines.join('\n');
  }
}
