import { defineError } from './keel-error.js';

export const E_INVALID_DURATION = defineError(
  'E_INVALID_DURATION',
  (input: string) => `Invalid duration "${input}"`,
  {
    status: 500,
    help: 'Use a number of milliseconds or a string such as "500ms", "10s", "5m", "2h", "1d" or "1w".',
  },
);

const UNITS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

/**
 * Parse a duration into milliseconds: a number is taken as milliseconds, a string as a sum
 * of `<number><unit>` parts (`'1h30m'`).
 *
 * @example
 * ```ts
 * parseDuration('10s'); // 10000
 * ```
 */
export function parseDuration(input: number | string): number {
  if (typeof input === 'number') {
    if (!Number.isFinite(input) || input < 0) throw new E_INVALID_DURATION(String(input));
    return input;
  }
  const text = input.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text);
  const part = /(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)/gy;
  let total = 0;
  let consumed = 0;
  for (let match = part.exec(text); match; match = part.exec(text)) {
    total += Number(match[1]) * UNITS[match[2]!]!;
    consumed = part.lastIndex;
  }
  if (consumed === 0 || consumed !== text.length) throw new E_INVALID_DURATION(input);
  return total;
}
