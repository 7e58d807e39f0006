/**
 * Server side of `pods/portforward` over SPDY/3.1 (`portforward.k8s.io`): per forwarded
 * connection the client opens an `error` and a `data` stream sharing `port` and `requestID`
 * headers; the data stream is spliced to whatever `connect(port)` returns, and a failure is
 * reported as text on the error stream (kubectl prints it and keeps forwarding).
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { StreamingError } from './errors.js';
import { createWebSocketStream } from 'ws';
import { SPDY_PORT_FORWARD_PROTOCOL, WS_PORT_FORWARD_TUNNEL, upgradeKind } from './protocols.js';
import { refuseUpgrade } from './refuse.js';
import { openSpdy, spdyProtocolFor, spdyServer, type SpdyConnection, type SpdyStream } from './spdy.js';
import { openWebSocket, wsProtocolFor } from './websocket.js';

export type PortConnector = (port: number) => Promise<Duplex>;

export interface PortForwardSession {
  protocol: string;
  /** Resolves once the client has hung up. */
  closed: Promise<void>;
}

interface Pair {
  port: number;
  error?: SpdyStream;
  data?: SpdyStream;
}

function splice(port: number, pair: Required<Pair>, connect: PortConnector): void {
  const { data, error } = pair;
  const fail = (message: string): void => {
    if (!error.writableEnded) error.end(`error forwarding port ${port}: ${message}`);
    if (!data.writableEnded) data.end();
  };
  connect(port).then(
    (target) => {
      target.on('error', (e: Error) => fail(e.message));
      data.pipe(target);
      target.pipe(data);
      // Either side going away takes the other with it; the client's stream reset is its "close".
      data.once('close', () => target.destroy());
      target.once('close', () => {
        if (!data.writableEnded) data.end();
        if (!error.writableEnded) error.end();
      });
    },
    (e: unknown) => fail(e instanceof Error ? e.message : String(e)),
  );
}

export interface AcceptPortForwardSettings {
  /** Set false to refuse the WebSocket tunnel (kubectl then falls back to plain SPDY). */
  websocket?: boolean;
}

/**
 * Completes a port-forward upgrade and serves every stream pair the client opens until it hangs
 * up: plain SPDY/3.1, or the same SPDY tunnelled in binary WebSocket messages under the
 * subprotocol `SPDY/3.1+portforward.k8s.io` (what kubectl ≥1.31 tries first). The v4 channel
 * framing of older WebSocket clients is not served; refusing it makes them fall back to SPDY.
 */
export async function acceptPortForward(
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  connect: PortConnector,
  settings: AcceptPortForwardSettings = {},
): Promise<PortForwardSession> {
  const kind = upgradeKind(req);
  let conn: SpdyConnection;
  let protocol: string;
  let transportStream: Duplex;
  if (kind === 'websocket' && settings.websocket !== false && wsProtocolFor(req, [WS_PORT_FORWARD_TUNNEL])) {
    protocol = WS_PORT_FORWARD_TUNNEL;
    const ws = await openWebSocket(req, socket, head, protocol);
    ws.on('error', () => {});
    transportStream = createWebSocketStream(ws);
    transportStream.on('error', () => {});
    conn = spdyServer(transportStream);
  } else if (kind === 'spdy') {
    const negotiated = spdyProtocolFor(req, [SPDY_PORT_FORWARD_PROTOCOL]);
    if ('refusal' in negotiated) {
      refuseUpgrade(socket, negotiated.refusal, negotiated.headers);
      throw negotiated.refusal;
    }
    protocol = negotiated.protocol;
    transportStream = socket;
    conn = openSpdy(req, socket, head, protocol);
  } else {
    const err = new StreamingError('BadRequest', `port-forward is served over SPDY/3.1, plain or tunnelled in a WebSocket (${WS_PORT_FORWARD_TUNNEL})`);
    refuseUpgrade(socket, err);
    throw err;
  }
  const closed = new Promise<void>((resolve) => transportStream.once('close', () => resolve()));
  const pairs = new Map<string, Pair>();

  conn.on('stream', (stream: SpdyStream) => {
    stream.on('error', () => {});
    const type = (stream.headers['streamtype'] ?? '').toLowerCase();
    const port = Number(stream.headers['port']);
    // Clients before requestID paired streams by order; every kubectl this serves sends it.
    const id = stream.headers['requestid'] ?? String(stream.id);
    if ((type !== 'error' && type !== 'data') || !Number.isInteger(port) || port < 1 || port > 65535) {
      stream.abort('PROTOCOL_ERROR');
      return;
    }
    stream.respond(200, {});
    stream._spdyState.window.send.current = Number.MAX_SAFE_INTEGER;
    stream._spdyState.window.send.limit = Infinity;
    const pair = pairs.get(id) ?? { port };
    if (pair[type] || pair.port !== port) {
      stream.abort('PROTOCOL_ERROR');
      return;
    }
    pair[type] = stream;
    pairs.set(id, pair);
    if (type === 'error') stream.resume(); // the client writes nothing on it
    if (pair.error && pair.data) {
      pairs.delete(id);
      splice(port, pair as Required<Pair>, connect);
    }
  });

  return { protocol, closed };
}
