import { describe, expect, it } from 'vitest';
import {
  escapeForTerminal,
  escapeLineBreaks,
  maskCardNumbers,
  maskCardNumbersInJson,
  redactSecrets,
} from './redaction.js';

describe('card number masking', () => {
  it('masks Luhn-valid numbers of 13 to 19 digits, bare, spaced or dashed, keeping the last four', () => {
    expect(maskCardNumbers('visa 4111111111111111 ok')).toBe('visa ************1111 ok');
    expect(maskCardNumbers('visa 4111 1111 1111 1111')).toBe('visa **** **** **** 1111');
    expect(maskCardNumbers('mc 5500-0000-0000-0004.')).toBe('mc ****-****-****-0004.');
    expect(maskCardNumbers('amex 3782 822463 10005')).toBe('amex **** ****** *0005');
    // 13 digits (old Visa) and 19 digits.
    expect(maskCardNumbers('4222222222222')).toBe('*********2222');
    expect(maskCardNumbers('6011000990139424009')).toBe(`${'*'.repeat(15)}4009`);
  });

  it('leaves numbers that are not card numbers alone', () => {
    // Fails the Luhn check.
    expect(maskCardNumbers('order 4111111111111112')).toBe('order 4111111111111112');
    // Too short, too long (20 digits), glued to letters, a date, a UUID, a phone number.
    expect(maskCardNumbers('411111111111')).toBe('411111111111');
    expect(maskCardNumbers('41111111111111111113')).toBe('41111111111111111113');
    expect(maskCardNumbers('id4111111111111111')).toBe('id4111111111111111');
    expect(maskCardNumbers('2026-11-27T04:47:53.123Z')).toBe('2026-11-27T04:47:53.123Z');
    const uuid = '12345678-1234-4234-1234-123456789012';
    expect(maskCardNumbers(uuid)).toBe(uuid);
    expect(maskCardNumbers('+1 555 123 4567')).toBe('+1 555 123 4567');
    // Grouped in a shape no card uses.
    expect(maskCardNumbers('41-11111111111111')).toBe('41-11111111111111');
  });

  it('in a JSON line, masks inside strings only: numeric fields keep their value', () => {
    const line = '{"id":4111111111111111,"note":"card 4111111111111111","list":[4111111111111111]}';
    expect(maskCardNumbersInJson(line)).toBe(
      '{"id":4111111111111111,"note":"card ************1111","list":[4111111111111111]}',
    );
    // Escaped quotes do not confuse where strings begin and end.
    const escaped = '{"a":"say \\"hi\\" 4111111111111111","n":4111111111111111}';
    expect(maskCardNumbersInJson(escaped)).toBe(
      '{"a":"say \\"hi\\" ************1111","n":4111111111111111}',
    );
    // A hostile line full of numbers: each one masked, in one pass over the line.
    const many = JSON.stringify({ n: 4111111111111111, s: '4111111111111111 '.repeat(5000) });
    const masked = maskCardNumbersInJson(many);
    expect(masked.match(/\*{12}1111/g)).toHaveLength(5000);
    expect(masked.startsWith('{"n":4111111111111111,')).toBe(true);
    const plain = '{"level":30,"msg":"nothing here"}';
    expect(maskCardNumbersInJson(plain)).toBe(plain);
    // A card number right after a control character: in JSON, after an escape's letter.
    for (const before of ['\n', '\t', '\r', '\b', '\f']) {
      const after = JSON.stringify({ msg: `paid${before}4111 1111 1111 1111${before}` });
      expect(maskCardNumbersInJson(after)).not.toContain('4111 1111 1111 1111');
    }
  });
});

describe('line breaks', () => {
  it('escapes CR, LF and the Unicode separators in messages', () => {
    expect(escapeLineBreaks('a\r\nb\u2028c')).toBe('a\\r\\nb\\u2028c');
    expect(escapeLineBreaks('plain')).toBe('plain');
    expect(escapeLineBreaks(42)).toBe(42);
  });

  it('escapes what a terminal acts on, keeping tabs and text', () => {
    expect(escapeForTerminal('ok\tgo\u001b[2K\rX\n\u0085')).toBe('ok\tgo\\x1b[2K\\rX\\n\\x85');
    expect(escapeForTerminal('héllo ✓')).toBe('héllo ✓');
  });
});

describe('redactSecrets', () => {
  it('redacts secret keys in any case, at every depth up to four, in objects and arrays', () => {
    const line = {
      msg: 'login',
      password: 'hunter2',
      user: { name: 'ann', API_KEY: 'k', tokens: [{ refresh_token: 'r' }] },
      req: { headers: { Authorization: 'Bearer x', 'set-cookie': ['a=1'], accept: '*/*' } },
      deep: { a: { b: { c: { password: 'too deep' } } } },
      nothing: undefined,
    };
    expect(redactSecrets(line)).toEqual({
      msg: 'login',
      password: '[redacted]',
      user: { name: 'ann', API_KEY: '[redacted]', tokens: [{ refresh_token: '[redacted]' }] },
      req: {
        headers: { Authorization: '[redacted]', 'set-cookie': '[redacted]', accept: '*/*' },
      },
      // Depth five is not walked: a line that deep is data, not a request.
      deep: { a: { b: { c: { password: 'too deep' } } } },
      nothing: undefined,
    });
  });

  it("never changes the caller's objects, and returns a line without secrets as it is", () => {
    const headers = { authorization: 'Bearer x', host: 'a' };
    const line = { req: { headers }, other: { kept: true } };
    const out = redactSecrets(line);
    expect(headers.authorization).toBe('Bearer x');
    expect(out.req.headers).not.toBe(headers);
    expect(out.other).toBe(line.other);
    const clean = { a: 1, b: { c: [1, 2] } };
    expect(redactSecrets(clean)).toBe(clean);
  });

  it('does not walk into class instances, and ignores inherited and prototype keys', () => {
    class Credentials {
      password = 'kept in the instance';
    }
    const inherited = Object.create({ password: 'inherited' }) as Record<string, unknown>;
    const line = JSON.parse('{"__proto__": {"password": "x"}, "ok": 1}') as Record<string, unknown>;
    const out = redactSecrets({ creds: new Credentials(), inherited, line });
    expect(out.creds).toBeInstanceOf(Credentials);
    expect(out.inherited).toBe(inherited);
    expect(Object.getPrototypeOf(out.line)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(out.line, '__proto__')?.value).toEqual({
      password: '[redacted]',
    });
    expect(JSON.stringify(out.line)).toBe('{"__proto__":{"password":"[redacted]"},"ok":1}');
    expect(({} as Record<string, unknown>).password).toBeUndefined();
  });
});
