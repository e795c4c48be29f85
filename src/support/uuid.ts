import { randomFillSync } from 'node:crypto';

// Random bytes for 256 ids, refilled from the CSPRNG when used up: one system call per
// 256 ids instead of crypto.randomUUID's cache of 128, and the id is written as ASCII
// into one buffer and read back as a flat string. randomUUID builds its 36 characters by
// concatenation, which leaves a rope V8 must flatten again when the id is written into a
// header or a log line.
const IDS_PER_FILL = 256;
const random = Buffer.allocUnsafeSlow(16 * IDS_PER_FILL);
let offset = random.length;
const text = Buffer.allocUnsafeSlow(36);
// The dashes never move: written once, then each id writes its 32 hex digits around them.
for (const at of [8, 13, 18, 23]) text[at] = 45;
const digits = new DataView(text.buffer, text.byteOffset, 36);
/** Two ASCII hex digits per byte value, as a little-endian 16-bit word (first digit low). */
const HEX_PAIRS = new Uint16Array(256);
for (let i = 0; i < 256; i++) {
  const pair = i.toString(16).padStart(2, '0');
  HEX_PAIRS[i] = pair.charCodeAt(0) | (pair.charCodeAt(1) << 8);
}

/**
 * A random (version 4) UUID, lower-case, as `crypto.randomUUID()` makes it, from the same
 * CSPRNG, at about half its cost. For ids made on every request or job.
 *
 * @example
 * ```ts
 * const id = uuid(); // '1b4e28ba-2fa1-41d2-883f-0016d3cca427'
 * ```
 */
export function uuid(): string {
  if (offset === random.length) {
    randomFillSync(random);
    offset = 0;
  }
  const at = offset;
  offset += 16;
  const r = random;
  const hex = HEX_PAIRS;
  // Unrolled, two digits per store: no loop, no branch for the dashes.
  digits.setUint16(0, hex[r[at]!]!, true);
  digits.setUint16(2, hex[r[at + 1]!]!, true);
  digits.setUint16(4, hex[r[at + 2]!]!, true);
  digits.setUint16(6, hex[r[at + 3]!]!, true);
  digits.setUint16(9, hex[r[at + 4]!]!, true);
  digits.setUint16(11, hex[r[at + 5]!]!, true);
  digits.setUint16(14, hex[(r[at + 6]! & 0x0f) | 0x40]!, true); // version 4
  digits.setUint16(16, hex[r[at + 7]!]!, true);
  digits.setUint16(19, hex[(r[at + 8]! & 0x3f) | 0x80]!, true); // RFC 9562 variant
  digits.setUint16(21, hex[r[at + 9]!]!, true);
  digits.setUint16(24, hex[r[at + 10]!]!, true);
  digits.setUint16(26, hex[r[at + 11]!]!, true);
  digits.setUint16(28, hex[r[at + 12]!]!, true);
  digits.setUint16(30, hex[r[at + 13]!]!, true);
  digits.setUint16(32, hex[r[at + 14]!]!, true);
  digits.setUint16(34, hex[r[at + 15]!]!, true);
  return text.toString('latin1', 0, 36);
}
