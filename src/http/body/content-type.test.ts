import { describe, expect, it } from 'vitest';
import {
  bodyKindOf,
  bufferEncodingOf,
  parseContentEncoding,
  parseContentType,
} from './content-type.js';

describe('parseContentType', () => {
  it('lower-cases the type and parameter names, keeps values', () => {
    expect(parseContentType('Application/JSON; Charset=UTF-8')).toEqual({
      type: 'application/json',
      params: { charset: 'UTF-8' },
    });
  });

  it('reads quoted values with escapes', () => {
    const parsed = parseContentType('multipart/form-data; boundary="a b;\\"c"');
    expect(parsed?.params.boundary).toBe('a b;"c');
  });

  it('tolerates spaces and empty parameters', () => {
    expect(parseContentType('  text/plain ;; charset=latin1 ; ')).toEqual({
      type: 'text/plain',
      params: { charset: 'latin1' },
    });
  });

  it('keeps the first of duplicated parameters', () => {
    expect(parseContentType('text/plain; charset=utf-8; charset=latin1')?.params.charset).toBe(
      'utf-8',
    );
  });

  it('returns undefined for malformed headers', () => {
    for (const header of [
      '',
      'json',
      'application/',
      '/json',
      'application/json garbage',
      'text/plain; charset',
      'text/plain; =x',
      'text/plain; charset=',
      'text/plain; charset="unterminated',
      'text/plain; charset="ends-in-escape\\',
      'tëxt/plain',
    ]) {
      expect(parseContentType(header), header).toBeUndefined();
    }
  });

  it('answers a repeated header from its cache, twice malformed or well-formed alike', () => {
    const first = parseContentType('application/json; charset=utf-8');
    expect(parseContentType('application/json; charset=utf-8')).toBe(first);
    expect(parseContentType('application/json garbage')).toBeUndefined();
    expect(parseContentType('application/json garbage')).toBeUndefined();
  });

  it('hands out frozen results, so one request cannot change what the next one reads', () => {
    const parsed = parseContentType('text/plain; charset=latin1')!;
    expect(Object.isFrozen(parsed)).toBe(true);
    expect(Object.isFrozen(parsed.params)).toBe(true);
    expect(() => {
      (parsed.params as Record<string, string>).charset = 'utf-8';
    }).toThrow(TypeError);
    expect(parseContentType('text/plain; charset=latin1')?.params.charset).toBe('latin1');
  });

  it('parses each multipart header anew: its boundary makes it unique', () => {
    const header = 'multipart/form-data; boundary=abc';
    const first = parseContentType(header);
    expect(parseContentType(header)).not.toBe(first);
    expect(parseContentType(header)).toEqual(first);
  });

  it('stays correct past its bound, with endless distinct values', () => {
    for (let i = 0; i < 1000; i++) {
      expect(parseContentType(`application/x-${i}; v=${i}`)).toEqual({
        type: `application/x-${i}`,
        params: { v: String(i) },
      });
    }
    expect(parseContentType('application/json')?.type).toBe('application/json');
  });
});

describe('bodyKindOf', () => {
  it('maps media types to body kinds', () => {
    expect(bodyKindOf('application/json')).toBe('json');
    expect(bodyKindOf('application/problem+json')).toBe('json');
    expect(bodyKindOf('application/vnd.api+json')).toBe('json');
    expect(bodyKindOf('application/x-www-form-urlencoded')).toBe('form');
    expect(bodyKindOf('text/plain')).toBe('text');
    expect(bodyKindOf('text/csv')).toBe('text');
    expect(bodyKindOf('multipart/form-data')).toBe('multipart');
    expect(bodyKindOf('application/octet-stream')).toBe('raw');
    expect(bodyKindOf('application/xml')).toBeUndefined();
    expect(bodyKindOf('multipart/mixed')).toBeUndefined();
  });
});

describe('bufferEncodingOf', () => {
  it('knows UTF-8, Latin-1 and ASCII by their usual labels', () => {
    expect(bufferEncodingOf('UTF-8')).toBe('utf8');
    expect(bufferEncodingOf('utf8')).toBe('utf8');
    expect(bufferEncodingOf('ISO-8859-1')).toBe('latin1');
    expect(bufferEncodingOf('latin1')).toBe('latin1');
    expect(bufferEncodingOf('us-ascii')).toBe('ascii');
    expect(bufferEncodingOf('utf-16')).toBeUndefined();
    expect(bufferEncodingOf('shift_jis')).toBeUndefined();
  });
});

describe('parseContentEncoding', () => {
  it('lists codings to undo, without identity', () => {
    expect(parseContentEncoding(undefined)).toEqual([]);
    expect(parseContentEncoding('identity')).toEqual([]);
    expect(parseContentEncoding('GZIP')).toEqual(['gzip']);
    expect(parseContentEncoding('x-gzip')).toEqual(['gzip']);
    expect(parseContentEncoding('gzip, br')).toEqual(['gzip', 'br']);
    expect(parseContentEncoding(' , identity, zstd')).toEqual(['zstd']);
  });
});
