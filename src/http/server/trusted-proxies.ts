import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import proxyAddr from 'proxy-addr';
import { suggest } from '../../support/index.js';
import { E_INVALID_TRUSTED_PROXY } from './errors.js';
import { kPeerAddress } from './slots.js';

/**
 * Which peers may speak for the client through `X-Forwarded-*` headers:
 * - `false`: none (the default; the socket address is the client),
 * - `true`: every peer (only behind a proxy that overwrites the headers, never on the open internet),
 * - a number: that many hops from the server (`1` = the socket peer only),
 * - addresses or CIDR ranges, as an array or a comma-separated string, including the
 *   names `loopback`, `linklocal` and `uniquelocal`.
 */
export type TrustProxy = boolean | number | string | readonly string[];

/** The parts of a request the resolver reads; an `IncomingMessage` fits. */
export interface ForwardedRequest {
  readonly headers: IncomingHttpHeaders;
  readonly socket: { readonly remoteAddress?: string | undefined; readonly encrypted?: boolean };
}

/** Resolves who the client is and how it reached the first trusted proxy. */
export interface TrustResolver {
  /**
   * The client address: the nearest address in `X-Forwarded-For` that was added by an
   * untrusted hop, walking from the socket peer outwards; the socket address when the
   * peer is not trusted. IPv4-mapped IPv6 addresses are given as IPv4; entries that are
   * not IP addresses are skipped. Empty when the socket is already gone.
   */
  clientIp(req: ForwardedRequest): string;
  /** `X-Forwarded-Proto` from a trusted peer, else whether the socket itself is TLS. */
  protocol(req: ForwardedRequest): 'http' | 'https';
  /** `X-Forwarded-Host` from a trusted peer, else `Host`; `undefined` when absent or invalid. */
  host(req: ForwardedRequest): string | undefined;
  /** {@link host} without its port. */
  hostname(req: ForwardedRequest): string | undefined;
  /** Whether `address` is trusted at `hop` (0 = the socket peer). */
  isTrusted(address: string, hop?: number): boolean;
}

type TrustFn = (address: string, hop: number) => boolean;

const NAMES = ['loopback', 'linklocal', 'uniquelocal'];
/** A host with an optional port: a bracketed IPv6 literal or a registered name / IPv4. */
const HOST = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+)(?::\d{1,5})?$/;

function compileEntries(entries: readonly unknown[]): TrustFn {
  for (const entry of entries) {
    if (typeof entry !== 'string' || entry.trim() === '') {
      throw new E_INVALID_TRUSTED_PROXY(
        String(entry),
        'expected an address, a CIDR range or a name',
      );
    }
    try {
      proxyAddr.compile(entry.trim());
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      const nearest = /^[a-z]+$/i.test(entry.trim()) ? suggest(entry.trim(), NAMES) : undefined;
      throw new E_INVALID_TRUSTED_PROXY(
        entry,
        nearest ? `${reason}; did you mean "${nearest}"?` : reason,
      ).withCause(error);
    }
  }
  return proxyAddr.compile(entries.map((entry) => (entry as string).trim()));
}

function compileTrust(trust: TrustProxy): TrustFn {
  if (trust === true) return () => true;
  if (trust === false) return () => false;
  if (typeof trust === 'number') {
    if (!Number.isInteger(trust) || trust < 0) {
      throw new E_INVALID_TRUSTED_PROXY(String(trust), 'a hop count is a whole number from 0');
    }
    return (_address, hop) => hop < trust;
  }
  if (typeof trust === 'string') {
    return compileEntries(trust.split(',').filter((entry) => entry.trim() !== ''));
  }
  if (Array.isArray(trust)) return compileEntries(trust);
  throw new E_INVALID_TRUSTED_PROXY(
    String(trust),
    'expected a boolean, a number, a string or an array',
  );
}

/** The socket's peer address, normalized (see {@link normalizeIp}) on first use and kept. */
function peerAddress(socket: object, remote: string): string {
  const cached = socket as { [kPeerAddress]?: readonly [string, string] };
  const entry = cached[kPeerAddress];
  if (entry !== undefined && entry[0] === remote) return entry[1];
  const address = normalizeIp(remote) ?? remote;
  cached[kPeerAddress] = [remote, address];
  return address;
}

/** An IP address without port or brackets, IPv4-mapped IPv6 as IPv4; undefined if not an IP. */
export function normalizeIp(value: string): string | undefined {
  let address = value.trim();
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(address);
  if (bracketed?.[1]) address = bracketed[1];
  else if (/^\d{1,3}(?:\.\d{1,3}){3}:\d+$/.test(address))
    address = address.slice(0, address.lastIndexOf(':'));
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address);
  if (mapped?.[1]) address = mapped[1];
  const family = isIP(address);
  if (family === 0) return undefined;
  return family === 6 ? address.toLowerCase() : address;
}

function firstValue(header: string | string[] | undefined): string | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  const first = value?.split(',')[0]?.trim();
  return first === '' ? undefined : first;
}

/**
 * Build the resolver for one trust setting; throws `E_INVALID_TRUSTED_PROXY` at once for
 * a setting proxy-addr cannot parse, so a typo fails at boot rather than on every request.
 *
 * @example
 * ```ts
 * const proxies = createTrustResolver(['loopback', '10.0.0.0/8']);
 * proxies.clientIp(req); // '203.0.113.7' when 10.0.0.5 forwarded it
 * proxies.protocol(req); // 'https' from X-Forwarded-Proto
 * ```
 */
export function createTrustResolver(trust: TrustProxy = false): TrustResolver {
  const trusts = compileTrust(trust);
  const peerTrusted = (req: ForwardedRequest): boolean => {
    const remote = req.socket.remoteAddress;
    return remote !== undefined && trusts(remote, 0);
  };

  const host = (req: ForwardedRequest): string | undefined => {
    const forwarded = peerTrusted(req) ? firstValue(req.headers['x-forwarded-host']) : undefined;
    if (forwarded !== undefined && HOST.test(forwarded)) return forwarded;
    const own = req.headers.host?.trim();
    return own !== undefined && HOST.test(own) ? own : undefined;
  };

  return {
    clientIp(req) {
      const remote = req.socket.remoteAddress;
      if (remote === undefined) return '';
      const xff = req.headers['x-forwarded-for'];
      // Without a forwarded chain, or from a peer not trusted to send one, the client is the
      // peer: its address, normalized once per connection.
      if (xff === undefined || !trusts(remote, 0)) return peerAddress(req.socket, remote);
      // proxy-addr reads only these two fields; a plain object keeps arrays (duplicate
      // headers from a fake request) from reaching its string parser.
      const view = {
        headers: { 'x-forwarded-for': Array.isArray(xff) ? xff.join(',') : (xff ?? '') },
        socket: { remoteAddress: remote },
      } as unknown as IncomingMessage;
      const chain = proxyAddr.all(view, trusts);
      for (let hop = chain.length - 1; hop >= 0; hop--) {
        const address = normalizeIp(chain[hop] ?? '');
        if (address !== undefined) return address;
      }
      return remote;
    },
    protocol(req) {
      const own = req.socket.encrypted === true ? 'https' : 'http';
      if (!peerTrusted(req)) return own;
      const forwarded = firstValue(req.headers['x-forwarded-proto'])?.toLowerCase();
      return forwarded === 'https' || forwarded === 'http' ? forwarded : own;
    },
    host,
    hostname(req) {
      const value = host(req);
      if (value === undefined) return undefined;
      if (value.startsWith('[')) return value.slice(0, value.indexOf(']') + 1);
      const colon = value.indexOf(':');
      return colon === -1 ? value : value.slice(0, colon);
    },
    isTrusted(address, hop = 0) {
      return trusts(address, hop);
    },
  };
}
