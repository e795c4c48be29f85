import type { IncomingMessage } from 'node:http';
import { describe, expect, expectTypeOf, it } from 'vitest';
import * as body from './index.js';
import {
  type BodyKind,
  type BodyLimits,
  type BodyOptions,
  BodyReader,
  defaultBodyLimits,
  type ParsedBody,
  parseBody,
  parseCookies,
  parseQuery,
  type QueryObject,
  type QueryValue,
  readBody,
  type UploadedFile,
} from './index.js';

describe('keel/http body: public face', () => {
  it('exports the parsers, the reader and the catalogue', () => {
    for (const name of [
      'parseQuery',
      'parseCookies',
      'parseBody',
      'readBody',
      'parseContentType',
      'BodyReader',
      'cleanupUploads',
      'mustCloseConnection',
      'hasBody',
      'defaultBodyLimits',
      'defaultQueryLimits',
      'DEFAULT_BODY_TIMEOUT_MS',
      'E_BODY_TOO_LARGE',
      'E_PROTOTYPE_POISONING',
    ]) {
      expect(body, name).toHaveProperty(name);
    }
    expect(body).not.toHaveProperty('QueryBuilder');
    expect(body).not.toHaveProperty('pumpBody');
  });

  it('has the documented default limits', () => {
    const MiB = 1024 * 1024;
    expect(defaultBodyLimits).toMatchObject({
      json: MiB,
      form: MiB,
      text: MiB,
      raw: 5 * MiB,
      multipart: { fileSize: 20 * MiB, files: 10 },
    });
    expect(Object.isFrozen(defaultBodyLimits)).toBe(true);
    expect(body.DEFAULT_BODY_TIMEOUT_MS).toBe(30_000);
  });

  it('types ParsedBody as a union narrowed by kind', () => {
    expectTypeOf(parseBody).returns.resolves.toEqualTypeOf<ParsedBody>();
    expectTypeOf<Extract<ParsedBody, { kind: 'json' }>['data']>().toBeUnknown();
    expectTypeOf<Extract<ParsedBody, { kind: 'text' }>['data']>().toBeString();
    expectTypeOf<Extract<ParsedBody, { kind: 'raw' }>['data']>().toEqualTypeOf<Buffer>();
    expectTypeOf<Extract<ParsedBody, { kind: 'form' }>['data']>().toEqualTypeOf<
      Record<string, unknown>
    >();
    expectTypeOf<Extract<ParsedBody, { kind: 'multipart' }>['files']>().toEqualTypeOf<
      UploadedFile[]
    >();
    expectTypeOf<ParsedBody['kind']>().toEqualTypeOf<BodyKind | 'none'>();
  });

  it('types the options, the reader and the small parsers', () => {
    expectTypeOf<BodyOptions['allowed']>().toEqualTypeOf<readonly BodyKind[] | undefined>();
    expectTypeOf<BodyLimits['multipart']['fileSize']>().toBeNumber();
    expectTypeOf<BodyOptions>().toMatchTypeOf<{ limits?: { multipart?: { files?: number } } }>();
    expectTypeOf(readBody).returns.resolves.toEqualTypeOf<Buffer>();
    expectTypeOf(parseQuery).returns.toEqualTypeOf<QueryObject>();
    expectTypeOf<QueryObject[string]>().toEqualTypeOf<QueryValue>();
    expectTypeOf(parseCookies).returns.toEqualTypeOf<{ [name: string]: string }>();
    expectTypeOf<BodyReader['parse']>().returns.resolves.toEqualTypeOf<ParsedBody>();
    expectTypeOf<BodyReader['raw']>().returns.resolves.toEqualTypeOf<Buffer>();
    expectTypeOf(BodyReader).constructorParameters.toEqualTypeOf<
      [IncomingMessage, (BodyOptions | undefined)?]
    >();
    expectTypeOf<UploadedFile['move']>().parameters.toEqualTypeOf<[string]>();
  });
});
