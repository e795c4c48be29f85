import { describe, expect, it } from 'vitest';
import { compileSanitizers } from './sanitize-rules.js';
import {
  collapseWhitespace,
  compose,
  limitCombining,
  normalize,
  stripControl,
  stripInvisible,
  stripTags,
  trim,
} from './sanitizers.js';

describe('sanitizers on hostile input', () => {
  it('strips control characters, keeping newlines and tabs only when asked', () => {
    const hostile = 'a\u0000b\u0007c\u001b[31md\u007fe\u0085f\u009bg\r\nh\ti';
    expect(stripControl()(hostile)).toBe('abc[31mdefghi');
    expect(stripControl({ keep: '\n\t' })(hostile)).toBe('abc[31mdefg\nh\ti');
    expect(stripControl({ keep: '\n' })('a\rb\r\nc')).toBe('a\nb\nc');
  });

  it('strips bidi overrides and isolates (Trojan Source), zero-width characters and tags', () => {
    // "admin" written with a right-to-left override and zero-width joiners in between.
    const spoof =
      '\u202Enimda\u202C u\u200Bs\u200Ce\u200Dr\u2060\uFEFF\u2066x\u2069\u00AD\u{E0041}';
    expect(stripInvisible()(spoof)).toBe('nimda userx');
    // Joiners kept for scripts and emoji that need them.
    const family = '\u{1F468}\u200D\u{1F469}\u200D\u{1F467}';
    expect(stripInvisible({ keepJoiners: true })(`${family}\u202E`)).toBe(family);
    expect(stripInvisible({ keepJoiners: true })('\u200B\u2067')).toBe('');
  });

  it('normalises to NFC, or folds compatibility forms with NFKC', () => {
    expect(normalize()('e\u0301')).toBe('\u00e9');
    expect(normalize('NFKC')('\uFF21\uFF44\uFF41 \uFB01 x\u00B2')).toBe('Ada fi x2');
    expect(normalize('NFC')('\uFF21')).toBe('\uFF21');
  });

  it('caps stacked combining marks (Zalgo) and keeps legitimate ones', () => {
    const zalgo = `Z${'\u0336\u0353\u0330\u0324\u031E\u0347'.repeat(20)}a`;
    expect(limitCombining(2)(zalgo)).toBe('Z\u0336\u0353a');
    expect(limitCombining(0)(zalgo)).toBe('Za');
    // Vietnamese: a base letter with two marks survives untouched.
    const viet = 'Vi\u0065\u0323\u0302t';
    expect(limitCombining(2)(viet)).toBe(viet);
    expect(() => limitCombining(-1)).toThrow(RangeError);
  });

  it('strips tags, comments and script content, also when split or unclosed', () => {
    const strip = stripTags();
    expect(strip('<b>Ada</b> <script>alert(1)</script>Lovelace')).toBe('Ada Lovelace');
    expect(strip('<SCRIPT type="x">alert(1)</SCRIPT >ok')).toBe('ok');
    // The split tag is text once its halves are gone; what is left cannot run.
    expect(strip('<scr<script>x</script>ipt>alert(1)</script>')).toBe('xipt>alert(1)');
    // One pass would leave `<script>alert(1)`; passes repeat until nothing changes.
    expect(strip('<<script>script>alert(1)<</script>/script>')).toBe('');
    expect(strip('<img src=x onerror=alert(1)//')).toBe('');
    expect(strip('safe<!-- <script>alert(1)</script> -->text')).toBe('safetext');
    expect(strip('<style>body{}</style><iframe src="//evil"></iframe>done')).toBe('done');
    expect(strip('hi<script>never closed')).toBe('hi');
    expect(strip('a < b and 3<4, <3 you')).toBe('a < b and 3<4, <3 you');
    expect(strip('x<!--unterminated')).toBe('x');
    expect(strip('plain')).toBe('plain');
  });

  it('strips tags in linear time on input made to backtrack', () => {
    const evil = '<script>'.repeat(50_000);
    expect(stripTags()(evil)).toBe('');
    const open = '<a'.repeat(50_000);
    expect(stripTags()(open)).toBe('');
  });

  it('catches fullwidth tags when NFKC runs first', () => {
    const clean = compose(normalize('NFKC'), stripTags());
    expect(clean('\uFF1Cscript\uFF1Ealert(1)\uFF1C/script\uFF1Eok')).toBe('ok');
  });

  it('trims and collapses Unicode whitespace', () => {
    expect(trim()('\u00A0\uFEFF Ada \u3000')).toBe('Ada');
    expect(collapseWhitespace()(' Ada \t\u00A0 \n Lovelace ')).toBe('Ada Lovelace');
    expect(collapseWhitespace({ keepNewlines: true })(' line  one \r\n\t line\u2003two ')).toBe(
      'line one\nline two',
    );
  });

  it('composes named sanitizers in order and refuses unknown names', () => {
    const clean = compileSanitizers(
      [
        'strip_control:keep_newlines',
        'strip_invisible',
        'nfc',
        'max_combining:1',
        'collapse_whitespace:keep_newlines',
        'trim',
      ],
      'test',
    );
    // NFC composes a + the first acute into á; one more mark is allowed, the third goes.
    expect(clean(' \u202EA\u0000da\u0301\u0301\u0301  L\u200Bovelace\r\n ')).toBe(
      'Ad\u00e1\u0301 Lovelace',
    );
    expect(() => compileSanitizers(['trimm'], 'rules')).toThrow(/rules\.0.*did you mean "trim"/);
    expect(() => compileSanitizers(['max_combining:lots'], 'rules')).toThrow(/max_combining/);
    expect(() => compileSanitizers(['trim:yes'], 'rules')).toThrow(/does not take/);
    expect(() => compileSanitizers([], 'rules')).toThrow(/non-empty/);
    expect(compileSanitizers([(s: string) => s.toUpperCase(), 'trim'], 'fn')(' a ')).toBe('A');
  });
});
