import net from 'node:net';

/** What came back on a raw connection before the server closed it. */
export interface RawExchange {
  /** Status of the first response, 0 when none arrived. */
  status: number;
  /** Lower-cased header names to values, for the first response. */
  headers: Record<string, string>;
  /** The first response's body. */
  body: string;
  /** Everything received. */
  text: string;
  /** True when the server closed (or reset) the connection; false when the test gave up. */
  closedByServer: boolean;
}

export interface RawOptions {
  /** Further writes, one every `interval` ms after the first, until the socket closes. */
  trickle?: string;
  interval?: number;
  /** Give up (and destroy the socket) after this long. Default 5 s. */
  giveUpAfter?: number;
}

/** Parse the first HTTP response in `text`. */
export function parseResponse(text: string): Pick<RawExchange, 'status' | 'headers' | 'body'> {
  const end = text.indexOf('\r\n\r\n');
  if (end === -1) return { status: 0, headers: {}, body: '' };
  const [statusLine = '', ...lines] = text.slice(0, end).split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const length = Number(headers['content-length'] ?? 0);
  return {
    status: Number(statusLine.split(' ')[1] ?? 0),
    headers,
    body: text.slice(end + 4, end + 4 + length),
  };
}

/**
 * Write `data` to a fresh connection in one write (so headers and body arrive in one read)
 * and collect everything until the server closes the connection.
 */
export function sendRaw(
  port: number,
  data: string | Buffer,
  options: RawOptions = {},
): Promise<RawExchange> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let closedByServer = true;
    let trickle: NodeJS.Timeout | undefined;
    socket.on('connect', () => {
      socket.write(data);
      if (options.trickle !== undefined) {
        trickle = setInterval(() => {
          if (socket.writable) socket.write(options.trickle ?? '');
        }, options.interval ?? 20);
      }
    });
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', () => {});
    const giveUp = setTimeout(() => {
      closedByServer = false;
      socket.destroy();
    }, options.giveUpAfter ?? 5_000);
    socket.on('close', () => {
      clearTimeout(giveUp);
      clearInterval(trickle);
      const text = Buffer.concat(chunks).toString('latin1');
      resolve({ ...parseResponse(text), text, closedByServer });
    });
  });
}

/** A kept-open connection for keep-alive and shutdown tests. */
export class RawConnection {
  readonly socket: net.Socket;
  readonly closed: Promise<void>;
  #received = '';

  private constructor(socket: net.Socket) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => {
      this.#received += chunk.toString('latin1');
    });
    socket.on('error', () => {});
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
  }

  static open(port: number): Promise<RawConnection> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => resolve(new RawConnection(socket)));
      socket.once('error', reject);
    });
  }

  get received(): string {
    return this.#received;
  }

  write(data: string): void {
    this.socket.write(data);
  }

  destroy(): void {
    this.socket.destroy();
  }
}
