import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { validate } from '../validator.js';
import { rules } from './index.js';

/**
 * The catalogue's contract: every Keel rule accepts its valid samples and rejects its invalid
 * ones with `FieldError.rule` set to its name. docs/validation.md lists the same rules (checked
 * at the bottom).
 */
interface Case {
  schema: () => z.ZodType;
  valid: unknown[];
  invalid: unknown[];
  /** Inputs of the wrong type: Zod reports them (rule 'string', 'number'), not the rule. */
  wrongType?: unknown[];
  /** Where the error lands, for object and array rules. */
  path?: string;
}

const pair = z.object({ a: z.unknown().optional(), b: z.unknown().optional() });
const company = z.object({ type: z.string(), vatId: z.string().optional() });

const CASES: Record<string, Case> = {
  iban: {
    schema: () => rules.iban(),
    valid: [
      'DE89 3704 0044 0532 0130 00',
      'GB82WEST12345698765432',
      'fr14 2004 1010 0505 0001 3m02 606',
      'NO9386011117947',
      'CH9300762011623852957',
    ],
    invalid: [
      'DE89 3704 0044 0532 0130 01', // checksum
      'DE89370400440532013000123', // length for DE
      'ZZ89370400440532013000', // unknown country
      'DE8937040044053201300!',
      '',
    ],
  },
  creditCard: {
    schema: () => rules.creditCard(),
    valid: ['4111 1111 1111 1111', '5555-5555-5555-4444', '378282246310005'],
    invalid: ['4111 1111 1111 1112', '1234', '4111-1111-1111-111a', '0'.repeat(20)],
  },
  isbn: {
    schema: () => rules.isbn(),
    valid: ['0-306-40615-2', '978-0-306-40615-7', '080442957X', '9791090636071'],
    invalid: ['0-306-40615-3', '978-0-306-40615-8', '1234567890123', 'X804429570'],
  },
  ean: {
    schema: () => rules.ean(),
    valid: ['4006381333931', '96385074', '036000291452', '10614141999993'],
    invalid: ['4006381333932', '12345', '40063813339A1', '400638133393'],
  },
  bic: {
    schema: () => rules.bic(),
    valid: ['DEUTDEFF', 'DEUTDEFF500', 'NEDSZAJJXXX'],
    invalid: ['DEUTDE', 'DEUTZZFF', 'deutdeff', 'DEUTDEFF5000'],
  },
  vatNumber: {
    schema: () => rules.vatNumber(),
    valid: [
      'DE123456789',
      'ATU12345678',
      'NL123456789B01',
      'FR40 303 265 045',
      'EL123456789',
      'CHE-123.456.789 MWST',
    ],
    invalid: ['DE12345678', 'GR123456789', 'XX123456789', 'NL123456789C01'],
  },
  currency: {
    schema: () => rules.currency(),
    valid: ['EUR', 'USD', 'JPY', 'CHF'],
    invalid: ['eur', 'EURO', 'XYZ', ''],
  },
  decimal: {
    schema: () => rules.decimal({ precision: 6, scale: 2 }),
    valid: ['1234.56', '-0.5', '+12', '0001234.5', '0'],
    invalid: ['12345.67', '1.234', '1e5', '.5', '5.', 'abc'],
  },
  money: {
    schema: () => rules.money({ currency: 'EUR' }),
    valid: ['19.99', '0.5', '1000', '0'],
    invalid: ['19.999', '-5.00', '1,00', '12.', '1e3'],
  },
  country: {
    schema: () => rules.country(),
    valid: ['DE', 'US', 'AX', 'ZW'],
    invalid: ['de', 'XX', 'DEU', 'UK', ''],
  },
  language: {
    schema: () => rules.language(),
    valid: ['en', 'en-US', 'zh-Hant-TW', 'de-CH-1996', 'sr-Latn'],
    invalid: ['en_US', '123', '', 'english language', 'a'.repeat(65)],
  },
  timezone: {
    schema: () => rules.timezone(),
    valid: [
      'Europe/Berlin',
      'UTC',
      'America/New_York',
      'Asia/Kolkata',
      'America/Argentina/Buenos_Aires',
    ],
    invalid: ['europe/berlin', 'Mars/Olympus', '+01:00', 'Berlin', ''],
  },
  postalCode: {
    schema: () => rules.postalCode('NL'),
    valid: ['1234 AB', '1234AB', '9999zz'],
    invalid: ['0123 AB', '1234 SA', '12345', 'AB 1234'],
  },
  phone: {
    schema: () => rules.phone(),
    valid: ['+14155550123', '030 1234567', '(415) 555-0123', '+49 (0)30 1234-567', '0612345678'],
    invalid: [
      '12345',
      '+0123456789',
      'call me',
      '555--0123',
      '((030)) 123456',
      '+1 415 555 0123 4567 89',
    ],
  },
  latitude: {
    schema: () => rules.latitude(),
    valid: [0, 52.52, -90, 90],
    invalid: [90.0001, -91],
    wrongType: [Number.NaN, '52.5'],
  },
  longitude: {
    schema: () => rules.longitude(),
    valid: [0, 13.405, -180, 180],
    invalid: [180.5, -181],
    wrongType: ['13'],
  },
  ip: {
    schema: () => rules.ip(),
    valid: ['192.168.0.1', '::1', '2001:db8::8a2e:370:7334', '255.255.255.255'],
    invalid: ['256.1.1.1', '1.2.3', '2001:db8:::1', 'localhost', '::1\n'],
  },
  cidr: {
    schema: () => rules.cidr(),
    valid: ['10.0.0.0/8', '192.168.1.0/24', '2001:db8::/32', '0.0.0.0/0'],
    invalid: ['10.0.0.0/33', '10.0.0.0', '2001:db8::/129', '10.0.0.0/08', '/24'],
  },
  domain: {
    schema: () => rules.domain(),
    valid: ['example.com', 'mail.example.co.uk', 'xn--mnchen-3ya.de', 'a-b.io'],
    invalid: [
      'localhost',
      '-bad.com',
      'bad-.com',
      'exa mple.com',
      '1.2.3.4',
      `${'a'.repeat(64)}.com`,
      'münchen.de',
    ],
  },
  macAddress: {
    schema: () => rules.macAddress(),
    valid: ['00:1A:2B:3C:4D:5E', '00-1a-2b-3c-4d-5e', '001a.2b3c.4d5e'],
    invalid: ['00:1A:2B:3C:4D', '00:1A-2B:3C:4D:5E', '00:1A:2B:3C:4D:5G'],
  },
  port: {
    schema: () => rules.port(),
    valid: [1, 80, 8080, 65535],
    invalid: [0, 65536, 80.5, -1],
  },
  notDisposableEmail: {
    schema: () => rules.notDisposableEmail(),
    valid: ['ada@example.com', 'grace@company.io'],
    invalid: ['bob@mailinator.com', 'eve@eu.mailinator.com', 'x@YOPMAIL.com'],
  },
  slug: {
    schema: () => rules.slug(),
    valid: ['hello', 'hello-world', 'report-2024-q1'],
    invalid: ['Hello', 'hello--world', '-hello', 'hello-', 'hello_world', ''],
  },
  username: {
    schema: () => rules.username({ reserved: ['admin'] }),
    valid: ['ada', 'ada.lovelace', 'grace_hopper-1'],
    invalid: ['ab', 'ada..lovelace', '.ada', 'ada.', 'ADMIN', 'a'.repeat(33), 'ada lovelace'],
  },
  password: {
    schema: () =>
      rules.password({ min: 10, mixedCase: true, numbers: true, symbols: true, letters: true }),
    valid: ['Correct-Horse-9', 'Pässwört#2024'],
    invalid: [
      'short1!A',
      'alllowercase1!',
      'ALLUPPERCASE1!',
      'NoNumbers!!!',
      'NoSymbols123',
      '1234567890!',
    ],
  },
  hexColor: {
    schema: () => rules.hexColor(),
    valid: ['#fff', '#1e90ff', '#1E90FF80', '#abcd'],
    invalid: ['fff', '#ff', '#12345', '#gggggg', '#1e90ff8'],
  },
  semver: {
    schema: () => rules.semver(),
    valid: ['1.0.0', '0.1.2-alpha.1', '2.0.0-rc.1+build.5', '10.20.30'],
    invalid: ['1.0', 'v1.0.0', '01.0.0', '1.0.0-', '1.0.0-01'],
  },
  ulid: {
    schema: () => rules.ulid(),
    valid: [
      '01ARZ3NDEKTSV4RRFFQ69G5FAV',
      '01arz3ndektsv4rrffq69g5fav',
      '7ZZZZZZZZZZZZZZZZZZZZZZZZZ',
    ],
    invalid: [
      '8ZZZZZZZZZZZZZZZZZZZZZZZZZ',
      '01ARZ3NDEKTSV4RRFFQ69G5FA',
      '01ARZ3NDEKTSV4RRFFQ69G5FAI',
    ],
  },
  json: {
    schema: () => rules.json(),
    valid: ['{"a":1}', '[1,2]', '"text"', 'null'],
    invalid: ['{a:1}', "{'a':1}", '', '[1,'],
  },
  base64: {
    schema: () => rules.base64(),
    valid: ['S2VlbA==', 'S2VlbHM=', 'S2VlbHMh', 'YQ=='],
    invalid: ['S2VlbA=', 'S2V@bA==', 'S2VlbA', '', 'YQ==YQ==', 'S2-_bA=='],
  },
  alpha: {
    schema: () => rules.alpha(),
    valid: ['Keel', 'Zoë', 'Ελληνικά', 'Café'],
    invalid: ['Keel2', 'two words', 'dash-ed', ''],
  },
  alphaNum: {
    schema: () => rules.alphaNum(),
    valid: ['Order42', 'Ünit7', '123'],
    invalid: ['Order-42', 'a b', '!'],
  },
  alphaDash: {
    schema: () => rules.alphaDash(),
    valid: ['stock_item-7', 'abc', 'Ärger_1'],
    invalid: ['stock item', 'a.b', 'a/b'],
  },
  digits: {
    schema: () => rules.digits(6),
    valid: ['004217', '123456'],
    invalid: ['12345', '1234567', '12345a', '-12345'],
  },
  filename: {
    schema: () => rules.filename(),
    valid: ['invoice-2024-03.pdf', 'Résumé final.docx', '.env.example'],
    invalid: [
      '../etc/passwd',
      'a/b.txt',
      'a\\b.txt',
      'CON',
      'nul.txt',
      'name.',
      'tab\tname',
      '..',
      'x'.repeat(256),
    ],
  },
  duration: {
    schema: () => rules.duration({ max: '1d' }),
    valid: ['500ms', '10s', '1h30m', '1d'],
    invalid: ['10 parsecs', 'forever', '2d', ''],
  },
  mimeType: {
    schema: () => rules.mimeType(),
    valid: ['text/plain', 'application/vnd.api+json', 'text/html; charset=utf-8', 'image/svg+xml'],
    invalid: ['text', 'text/', '/plain', 'text/plain; charset', 'text plain'],
  },
  cron: {
    schema: () => rules.cron(),
    valid: [
      '* * * * *',
      '*/15 9-17 * * MON-FRI',
      '0 0 1 JAN ?',
      '0 0 L * *',
      '0 12 * * 5#3',
      '30 0 0 * * *',
      '@daily',
    ],
    invalid: [
      '* * * *',
      '60 * * * *',
      '* 24 * * *',
      '* * 0 * *',
      '* * * 13 *',
      '5-1 * * * *',
      '*/0 * * * *',
      '@reboot',
      'a b c d e',
    ],
  },
  sameAs: {
    schema: () => pair.check(rules.sameAs('b', 'a')),
    valid: [{ a: 'x', b: 'x' }, {}],
    invalid: [{ a: 'x', b: 'y' }, { a: 'x' }],
    path: 'b',
  },
  different: {
    schema: () => pair.check(rules.different('b', 'a')),
    valid: [{ a: 'x', b: 'y' }, { a: 'x' }],
    invalid: [{ a: 'x', b: 'x' }],
    path: 'b',
  },
  confirmed: {
    schema: () =>
      z
        .object({ password: z.string(), passwordConfirmation: z.string().optional() })
        .check(rules.confirmed('password')),
    valid: [{ password: 'secret', passwordConfirmation: 'secret' }],
    invalid: [{ password: 'secret', passwordConfirmation: 'Secret' }, { password: 'secret' }],
    path: 'passwordConfirmation',
  },
  requiredIf: {
    schema: () => company.check(rules.requiredIf('vatId', 'type', 'company')),
    valid: [{ type: 'company', vatId: 'DE123456789' }, { type: 'person' }],
    invalid: [{ type: 'company' }, { type: 'company', vatId: '' }],
    path: 'vatId',
  },
  requiredUnless: {
    schema: () => company.check(rules.requiredUnless('vatId', 'type', 'person')),
    valid: [{ type: 'person' }, { type: 'company', vatId: 'X' }],
    invalid: [{ type: 'company' }],
    path: 'vatId',
  },
  requiredWith: {
    schema: () => pair.check(rules.requiredWith('b', ['a'])),
    valid: [{}, { a: 1, b: 2 }, { b: 2 }],
    invalid: [{ a: 1 }, { a: 1, b: null }],
    path: 'b',
  },
  requiredWithout: {
    schema: () => pair.check(rules.requiredWithout('b', ['a'])),
    valid: [{ a: 1 }, { b: 2 }, { a: 1, b: 2 }],
    invalid: [{}, { a: '', b: [] }],
    path: 'b',
  },
  prohibitedIf: {
    schema: () => company.check(rules.prohibitedIf('vatId', 'type', 'person')),
    valid: [{ type: 'person' }, { type: 'company', vatId: 'X' }],
    invalid: [{ type: 'person', vatId: 'X' }],
    path: 'vatId',
  },
  prohibitedUnless: {
    schema: () => company.check(rules.prohibitedUnless('vatId', 'type', 'company')),
    valid: [{ type: 'company', vatId: 'X' }, { type: 'person' }],
    invalid: [{ type: 'person', vatId: 'X' }],
    path: 'vatId',
  },
  distinct: {
    schema: () => z.array(z.string()).check(rules.distinct()),
    valid: [['a', 'b'], []],
    invalid: [['a', 'b', 'a']],
    path: '2',
  },
};

describe('Keel rules: valid and invalid samples', () => {
  for (const [name, testCase] of Object.entries(CASES)) {
    describe(name, () => {
      it.each(testCase.valid.map((value) => [value]))('accepts %j', async (value) => {
        const result = await validate(testCase.schema(), value);
        expect(result.errors).toBeUndefined();
      });
      it.each(testCase.invalid.map((value) => [value]))('rejects %j', async (value) => {
        const result = await validate(testCase.schema(), value);
        expect(result.success).toBe(false);
        const error = result.errors?.find((e) => e.rule === name);
        expect(error, JSON.stringify(result.errors)).toBeDefined();
        expect(error?.path).toBe(testCase.path ?? '');
        expect(error?.code).toBe('custom');
        expect(error?.message).toMatch(/\w/);
        expect(error?.message).not.toMatch(/\{\w+\}/); // placeholders filled
      });
      if (testCase.wrongType) {
        it.each(testCase.wrongType.map((value) => [value]))(
          'refuses the type of %j',
          async (value) => {
            const result = await validate(testCase.schema(), value);
            expect(result.errors?.[0]?.code).toBe('invalid_type');
          },
        );
      }
    });
  }
});

/** Evaluate a code span of the docs (an expression or a sample literal). */
function evaluate(code: string): unknown {
  return new Function('z', 'rules', `return (${code});`)(z, rules);
}

function asSchema(built: unknown, expression: string): z.ZodType {
  if (built instanceof z.ZodType) return built;
  const check = built as z.core.$ZodCheck<unknown>;
  return expression.startsWith('rules.distinct')
    ? z.array(z.unknown()).check(check)
    : z.looseObject({}).check(check);
}

describe('the docs catalogue', () => {
  it('holds: each row passes its valid sample and fails its invalid one', async () => {
    const doc = await readFile(new URL('../../../docs/validation.md', import.meta.url), 'utf8');
    const rows = [...doc.matchAll(/^\| `((?:rules|z)\..+?)` \| .+? \| `(.+?)` \| `(.+?)` \|$/gm)];
    expect(rows.length).toBeGreaterThanOrEqual(70);
    for (const [, expression, valid, invalid] of rows) {
      const schema = asSchema(evaluate(expression!), expression!);
      const good = await validate(schema, evaluate(valid!));
      expect(good.errors, `${expression} should accept ${valid}`).toBeUndefined();
      const bad = await validate(schema, evaluate(invalid!));
      expect(bad.success, `${expression} should reject ${invalid}`).toBe(false);
    }
  });

  it('lists every Keel rule, and every listed Keel rule exists and has samples here', async () => {
    const doc = await readFile(new URL('../../../docs/validation.md', import.meta.url), 'utf8');
    const section = doc.slice(doc.indexOf('## Rule catalogue'));
    const listed = [...section.matchAll(/^\| `rules\.(\w+)\(/gm)].map((m) => m[1]!);
    const implemented = Object.keys(rules).filter((name) => name !== 'async' && name !== 'when');
    expect(new Set(listed)).toEqual(new Set([...implemented, 'async', 'when']));
    for (const name of implemented) expect(CASES[name], name).toBeDefined();
    const rows = [...section.matchAll(/^\| `(?:rules|z)\./gm)];
    expect(rows.length).toBeGreaterThanOrEqual(50);
  });
});
