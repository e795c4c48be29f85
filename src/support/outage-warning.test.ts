import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { outageWarning, redisConnectArgs } from './outage-warning.js';

describe('outageWarning', () => {
  it('warns once per outage: again only after the client was ready in between', () => {
    const warned: unknown[] = [];
    const outage = outageWarning((error) => warned.push(error));
    const client = new EventEmitter();
    outage.watch(client);
    outage.onError('down 1');
    outage.onError('down 2');
    expect(warned).toEqual(['down 1']);
    client.emit('ready');
    outage.onError('down 3');
    expect(warned).toEqual(['down 1', 'down 3']);
  });
});

describe('redisConnectArgs', () => {
  it('adds auth and db to a URL, or gives host and port', () => {
    expect(
      redisConnectArgs({ url: 'redis://r:6380', host: 'x', port: 1, password: 's', db: 2 }),
    ).toEqual({
      url: 'redis://r:6380',
      options: { password: 's', db: 2 },
    });
    expect(redisConnectArgs({ host: '127.0.0.1', port: 6379, db: 0 })).toEqual({
      url: undefined,
      options: { host: '127.0.0.1', port: 6379, db: 0 },
    });
  });
});
