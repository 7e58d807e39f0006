/**
 * Inbound mTLS: the first byte of a connection says whether it is a TLS handshake (0x16). Mesh
 * traffic is TLS with a client certificate that must chain to a mesh root; the peer's identity is
 * read only from that verified certificate. Plaintext is refused unless policy admits the peer
 * (mTLS turned off, or an AccessControl rule for a client outside the mesh).
 *
 * Switching the mesh between plaintext and mTLS (MeshConfig sidecarDisabledMTLS) reaches the
 * sidecars one by one, so for a moment a client's sidecar may already speak mTLS to a server's that
 * still runs plaintext, or the other way round. Neither side may refuse the other then:
 * - a server under plaintext still terminates a TLS ClientHello on an HTTP listener (HTTP clients
 *   speak first, so sniffing costs nothing there) and serves it as it serves plaintext, asserting
 *   no identity, so its policies decide exactly as for the plaintext it expects;
 * - a server that just turned mTLS on keeps admitting plaintext for a short window
 *   (`InboundSecurity.admitPlaintext`, the sidecar's MTLS_SWITCH_GRACE_MS): what it admitted a
 *   moment before, no more. After the window, strict means plaintext is refused.
 * TCP listeners do not sniff under plaintext: a server-first protocol would wait for a byte the
 * client never sends.
 *
 * Sniffed sockets are handed to a real `tls.Server` (never listening itself): a server-side
 * TLSSocket built by hand neither verifies the client certificate nor sets `authorized` in Node 20,
 * so only `tls.Server` gives OpenSSL's chain verification with `rejectUnauthorized`.
 */
import type { Socket } from 'node:net';
import { TLSSocket, createServer as createTlsServer, type PeerCertificate, type SecureContextOptions, type Server as TlsServer } from 'node:tls';
import { verifiedPeerIdentity } from '../../identity/index.js';
import type { SidecarLog } from '../observability/log.js';

export interface InboundSecurity {
  /** mTLS is on under the current snapshot */
  enabled(): boolean;
  /** the TLS terminator, or undefined until the sidecar has a certificate */
  terminator(): InboundTls | undefined;
  /** whether a plaintext connection from this peer is let in */
  admitPlaintext(remoteAddress: string, localPort: number): boolean;
  /**
   * Whether a TLS client whose certificate chains to the mesh roots but carries no mesh identity (an
   * AccessCert client outside the mesh) is let in; absent means never.
   */
  admitCertificate?(remoteAddress: string, localPort: number, cert: PeerCertificate): boolean;
}

const TLS_HANDSHAKE = 0x16;
const HANDSHAKE_TIMEOUT_MS = 10_000;

function connectionKey(s: { remoteAddress?: string | undefined; remotePort?: number | undefined; localAddress?: string | undefined; localPort?: number | undefined }): string {
  return `${s.remoteAddress}:${s.remotePort}>${s.localAddress}:${s.localPort}`;
}

/** Terminates mesh mTLS for sockets the listeners sniffed. */
export class InboundTls {
  private readonly server: TlsServer;
  private readonly waiting = new Map<string, (t: TLSSocket) => void>();

  constructor(material: SecureContextOptions, private readonly log: SidecarLog) {
    // ALPN: a peer sidecar asks for h2 for HTTP/2 traffic; HTTP/1.1 clients offer no ALPN or http/1.1
    this.server = createTlsServer({ ...material, requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.2', ALPNProtocols: ['h2', 'http/1.1'] });
    this.server.on('secureConnection', (t: TLSSocket) => {
      const k = connectionKey(t);
      const done = this.waiting.get(k);
      this.waiting.delete(k);
      if (done) done(t);
      else t.destroy();
    });
    this.server.on('tlsClientError', (err: Error, t: TLSSocket) => {
      this.waiting.delete(connectionKey(t));
      this.log.warn('mTLS handshake refused', { peer: t.remoteAddress, error: err.message });
    });
  }

  /** New connections use the new certificate or roots; established ones are not disturbed. */
  update(material: SecureContextOptions): void {
    this.server.setSecureContext(material);
  }

  accept(raw: Socket, done: (t: TLSSocket) => void): void {
    const k = connectionKey(raw);
    this.waiting.set(k, done);
    raw.once('close', () => this.waiting.delete(k));
    this.server.emit('connection', raw);
  }
}

/**
 * Istio's `connection.sni`: the server name the client sent in a handshake that verified its
 * certificate (acceptInbound hands on only such TLS sockets). Plaintext sockets have none.
 */
export function verifiedServerName(socket: Socket): string | undefined {
  if (!(socket instanceof TLSSocket) || !socket.authorized) return undefined;
  const name: unknown = socket.servername;
  return typeof name === 'string' && name !== '' ? name : undefined;
}

/**
 * Calls `ready` with the socket to speak HTTP/TCP on and the verified peer identity, or closes it.
 * `clientSpeaksFirst` (HTTP listeners): under plaintext, a TLS client is still served (see above).
 */
export function acceptInbound(
  socket: Socket,
  security: InboundSecurity | undefined,
  log: SidecarLog,
  ready: (s: Socket, identity: string | undefined) => void,
  clientSpeaksFirst = false,
): void {
  const strict = security?.enabled() === true;
  if (!security || (!strict && (!clientSpeaksFirst || !security.terminator()))) {
    ready(socket, undefined);
    return;
  }
  socket.on('error', () => undefined);
  socket.setTimeout(HANDSHAKE_TIMEOUT_MS, () => socket.destroy());
  socket.once('data', (first: Buffer) => {
    socket.pause();
    socket.unshift(first);
    const peer = socket.remoteAddress ?? '';
    if (first[0] !== TLS_HANDSHAKE) {
      if (!strict || security.admitPlaintext(peer, socket.localPort ?? 0)) {
        socket.setTimeout(0);
        ready(socket, undefined);
        socket.resume();
        return;
      }
      log.warn('plaintext connection refused: mesh traffic must use mTLS', { peer, port: socket.localPort });
      socket.destroy();
      return;
    }
    const tls = security.terminator();
    if (!tls) {
      log.warn('mTLS connection refused: no workload certificate yet', { peer });
      socket.destroy();
      return;
    }
    tls.accept(socket, (t) => {
      socket.setTimeout(0);
      if (!strict) {
        // plaintext mode, a client already on mTLS: served as its plaintext would be, no identity
        t.on('error', () => undefined);
        ready(t, undefined);
        return;
      }
      const identity = t.authorized ? verifiedPeerIdentity(t) : undefined;
      // rejectUnauthorized already refused certificates from other CAs; policy decides the rest.
      if (!identity && t.authorized && security.admitCertificate?.(peer, socket.localPort ?? 0, t.getPeerCertificate())) {
        t.on('error', () => undefined);
        ready(t, undefined);
        return;
      }
      if (!identity) {
        log.warn('mTLS peer has no mesh identity', { peer });
        t.destroy();
        return;
      }
      t.on('error', () => undefined);
      ready(t, identity);
    });
  });
}
