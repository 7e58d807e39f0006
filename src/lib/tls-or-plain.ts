/**
 * One port, TLS first: a control-plane component (controller, injector) serves HTTPS with a
 * certificate of the cluster CA, and still answers plain HTTP on the same port for the few
 * unauthenticated read-only routes the API server's `pods/NAME:PORT/proxy` reaches (health, status).
 * The first byte of a connection tells them apart (0x16: a TLS handshake record). Handlers learn
 * which one a request came over and refuse every credential-bearing route over plain HTTP.
 */
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';

export type DualHandler = (req: IncomingMessage, res: ServerResponse, secure: boolean) => void;

export interface DualServer {
  /** the listening socket: listen/close/address on it */
  readonly server: NetServer;
  readonly https: HttpsServer;
  readonly http: HttpServer;
  /** closes the listener and every open connection of both protocols */
  closeAll(): void;
}

const TLS_HANDSHAKE = 0x16;

export function createDualServer(tls: { cert: string; key: string }, handler: DualHandler, tune?: (s: HttpServer | HttpsServer) => void): DualServer {
  const https = createHttpsServer({ cert: tls.cert, key: tls.key, minVersion: 'TLSv1.2' }, (req, res) => handler(req, res, true));
  const http = createHttpServer((req, res) => handler(req, res, false));
  tune?.(https);
  tune?.(http);
  const sockets = new Set<Socket>();
  const server = createNetServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.once('error', () => socket.destroy());
    socket.once('data', (first: Buffer) => {
      socket.pause();
      socket.unshift(first);
      (first[0] === TLS_HANDSHAKE ? https : http).emit('connection', socket);
      process.nextTick(() => socket.resume());
    });
  });
  return {
    server, https, http,
    closeAll() {
      server.close();
      for (const s of sockets) s.destroy();
      https.closeAllConnections();
      http.closeAllConnections();
    },
  };
}
