import http from 'node:http';

/** A response read in full. */
export interface GetResult {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** GET (or another method) through `node:http`, optionally on a keep-alive agent. */
export function get(
  port: number,
  path = '/',
  options: { agent?: http.Agent; method?: string; headers?: http.OutgoingHttpHeaders } = {},
): Promise<GetResult> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: options.method ?? 'GET',
        agent: options.agent ?? false,
        headers: options.headers,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          body += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/** A promise with its resolver exposed, to hold a handler until the test releases it. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}
