import { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';

/*
 * The properties Keel keeps on Node's own objects (a request, its response, a connection),
 * declared when the object is made rather than added when first needed.
 *
 * V8 gives every object a hidden class (a map) and shrinks a class's objects to the
 * properties its first few instances had. A property added later to such an object is a
 * map transition and lands out of line, in a separate array allocated for it. When the
 * first requests of a process are GETs (no body read, no `kPlainRead`), every later POST
 * pays that transition and that allocation, and Node's own HTTP code, which handles every
 * request, meets two request maps where it knew one: measured under callgrind, POST /orders
 * cost 8% more instructions after GET traffic than in a process that served only POSTs.
 * With the slots declared, every request, response and connection has one map from birth,
 * whatever the traffic was.
 *
 * Keel's HTTP server makes its requests and responses with the classes below (Node's
 * `IncomingMessage` and `ServerResponse` options). Behind another server (the kernel's
 * `handle` mounted on a plain `http.createServer`, or `inject()`) the slots are added on
 * first use, as plain properties: the same behaviour, without the guarantee.
 */

/** The connection's newest response, for in-flight tracking and for the body layer. */
export const kLatestResponse = Symbol('keel.latestResponse');
/** The connection's peer address, normalized once (trusted-proxies.ts). */
export const kPeerAddress = Symbol('keel.peerAddress');
/** The state of the request's plain (uncompressed) body read (body-stream.ts). */
export const kPlainRead = Symbol('keel.plainRead');
/** The request context, on a response whose 'close' the kernel listens to. */
export const kContext = Symbol('keel.context');
/** The instruments' state, on an observed response. */
export const kObserved = Symbol('keel.observed');

/** Node's request, with Keel's slot declared. */
export class KeelIncomingMessage extends IncomingMessage {
  [kPlainRead]?: unknown = undefined;
}

/** Node's response, with Keel's slots declared. */
export class KeelServerResponse extends ServerResponse {
  [kContext]?: unknown = undefined;
  [kObserved]?: unknown = undefined;
}

/** Declare a new connection's slots, on Keel's 'connection' listener. */
export function declareSocketSlots(socket: Duplex): void {
  const slots = socket as Duplex & { [kLatestResponse]?: unknown; [kPeerAddress]?: unknown };
  slots[kLatestResponse] = undefined;
  slots[kPeerAddress] = undefined;
}
