/** One string transformation; sanitizers compose left to right. */
export type Sanitizer = (value: string) => string;

// C0 controls, DEL and C1 controls (Unicode category Cc).
const CONTROL = /\p{Cc}/gu;
// Format characters (Cf): bidi embeddings, overrides and isolates (the "Trojan Source"
// characters), zero-width spaces, word joiner, BOM, soft hyphen, invisible math operators,
// the tag characters of U+E0000.
const INVISIBLE = /\p{Cf}/gu;
// Cf minus ZWNJ/ZWJ, which Persian, Indic scripts and emoji sequences need.
const INVISIBLE_EXCEPT_JOINERS = /(?![\u200C\u200D])\p{Cf}/gu;
const WHITESPACE = /\s+/g;
// Horizontal whitespace only: \s without the line terminators.
const HORIZONTAL = /[^\S\n]+/g;
const COMBINING = /\p{M}+/gu;

/** Leading and trailing whitespace (Unicode, including NBSP and BOM). */
export function trim(): Sanitizer {
  return (value) => value.trim();
}

/**
 * Runs of whitespace become one space, and the ends are trimmed; with `keepNewlines`,
 * line breaks survive (CRLF and CR become LF) and only runs within a line collapse.
 */
export function collapseWhitespace(options: { keepNewlines?: boolean } = {}): Sanitizer {
  if (!options.keepNewlines) return (value) => value.replace(WHITESPACE, ' ').trim();
  return (value) =>
    value
      .replace(/\r\n?/g, '\n')
      .replace(HORIZONTAL, ' ')
      .replace(/ ?\n ?/g, '\n')
      .trim();
}

/**
 * Unicode normalisation: `NFC` (the default) makes `e` + combining acute equal to `é`;
 * `NFKC` also folds compatibility forms (fullwidth `Ａ`, ligatures, superscripts) into
 * their plain letters, which is right for identifiers and wrong for prose.
 */
export function normalize(form: 'NFC' | 'NFD' | 'NFKC' | 'NFKD' = 'NFC'): Sanitizer {
  return (value) => value.normalize(form);
}

/**
 * Remove control characters (C0, DEL, C1). `keep` lists those to leave, e.g. `'\n\t'`;
 * when it keeps `\n`, CRLF and lone CR become `\n` first.
 */
export function stripControl(options: { keep?: string } = {}): Sanitizer {
  const keep = new Set(options.keep ?? '');
  if (keep.size === 0) return (value) => value.replace(CONTROL, '');
  const newlines = keep.has('\n') && !keep.has('\r');
  return (value) =>
    (newlines ? value.replace(/\r\n?/g, '\n') : value).replace(CONTROL, (c) =>
      keep.has(c) ? c : '',
    );
}

/**
 * Remove invisible format characters: bidi overrides and isolates (U+202A–U+202E,
 * U+2066–U+2069), zero-width space and joiners, word joiner, BOM, soft hyphen, tag
 * characters. `keepJoiners` leaves ZWNJ and ZWJ for scripts and emoji that need them.
 */
export function stripInvisible(options: { keepJoiners?: boolean } = {}): Sanitizer {
  const pattern = options.keepJoiners ? INVISIBLE_EXCEPT_JOINERS : INVISIBLE;
  return (value) => value.replace(pattern, '');
}

/**
 * Keep at most `max` combining marks on each character: legitimate text needs a few
 * (Vietnamese stacks two), "Zalgo" text piles up dozens to overflow lines and layouts.
 * Run after NFC so precomposed letters do not count.
 */
export function limitCombining(max = 2): Sanitizer {
  if (!Number.isInteger(max) || max < 0) throw new RangeError('limitCombining: max must be >= 0');
  return (value) =>
    value.replace(COMBINING, (marks) => {
      if (marks.length <= max) return marks;
      // Count code points, not UTF-16 units: some marks sit outside the BMP.
      return Array.from(marks).slice(0, max).join('');
    });
}

// Elements whose content is code, not text: dropped with their content.
const RAW_ELEMENTS = new Set([
  'script',
  'style',
  'iframe',
  'object',
  'embed',
  'template',
  'noscript',
  'textarea',
  'title',
  'xmp',
]);

function startsTag(code: number): boolean {
  // A letter, `/`, `!` or `?`: `a < b` and `<3` stay text.
  return (
    (code >= 65 && code <= 90) ||
    (code >= 97 && code <= 122) ||
    code === 47 ||
    code === 33 ||
    code === 63
  );
}

/**
 * One linear pass (no backtracking regex: hostile input full of `<script` must not cost
 * quadratic time). An unclosed tag, comment or script element swallows the rest.
 */
function stripTagsOnce(value: string): string {
  let lower: string | undefined;
  let out = '';
  let from = 0;
  let at = value.indexOf('<');
  while (at !== -1) {
    if (!startsTag(value.charCodeAt(at + 1))) {
      at = value.indexOf('<', at + 1);
      continue;
    }
    out += value.slice(from, at);
    let end: number;
    if (value.startsWith('<!--', at)) {
      const close = value.indexOf('-->', at + 4);
      end = close === -1 ? value.length : close + 3;
    } else {
      const close = value.indexOf('>', at);
      end = close === -1 ? value.length : close + 1;
      const name = /^<([a-zA-Z][a-zA-Z0-9]*)/.exec(value.slice(at, Math.min(end, at + 16)));
      const element = name?.[1]?.toLowerCase();
      if (close !== -1 && element !== undefined && RAW_ELEMENTS.has(element)) {
        lower ??= value.toLowerCase();
        const closing = lower.indexOf(`</${element}`, end);
        const gt = closing === -1 ? -1 : value.indexOf('>', closing);
        end = gt === -1 ? value.length : gt + 1;
      }
    }
    from = end;
    at = end >= value.length ? -1 : value.indexOf('<', end);
  }
  return from === 0 ? value : out + value.slice(from);
}

/**
 * Remove HTML tags, comments, and the content of script-like elements, repeating until
 * nothing changes so a tag split by another (`<scr<script>ipt>`) does not reassemble.
 * A convenience for plain-text fields, not an XSS defence: escape on output.
 */
export function stripTags(): Sanitizer {
  return (value) => {
    let out = value;
    for (let pass = 0; pass < 8 && out.includes('<'); pass++) {
      const next = stripTagsOnce(out);
      if (next === out) break;
      out = next;
    }
    return out;
  };
}

export function lowercase(): Sanitizer {
  return (value) => value.toLowerCase();
}

export function uppercase(): Sanitizer {
  return (value) => value.toUpperCase();
}

/**
 * Chain sanitizers left to right.
 *
 * @example
 * ```ts
 * const clean = compose(stripControl({ keep: '\n' }), stripInvisible(), normalize('NFC'), trim());
 * clean(' Ada\u202E\u0000 '); // 'Ada'
 * ```
 */
export function compose(...sanitizers: readonly Sanitizer[]): Sanitizer {
  if (sanitizers.length === 1) return sanitizers[0]!;
  return (value) => {
    let out = value;
    for (const sanitize of sanitizers) out = sanitize(out);
    return out;
  };
}
