/**
 * CONNECT on the outbound proxy (docs/security.md "Tunnels"). A tunnel must not be a way past the
 * outbound chains, so:
 * - to a mesh TCP service it runs the outbound TCP chain, as the per-upstream listener does;
 * - to anything else it is refused (403, an access line with `refused`) unless MeshConfig
 *   `spec.traffic.outboundConnectAllowList` names the destination;
 * - an allowed tunnel to a mesh HTTP service is served as HTTP by the outbound HTTP engine and chain
 *   (plugins, policies, routing, mTLS, metrics and access lines as for a request sent in the open);
 * - an allowed tunnel elsewhere is HTTP when its first bytes are (classify.ts), else it runs the
 *   outbound TCP chain to the CONNECT authority; one whose client stayed silent (the server speaks
 *   first) has its first line judged before it is relayed, so waiting does not smuggle HTTP.
 */
import type { Socket } from 'node:net';
import { connectAllowedBy } from '../../lib/connect-allow-list.js';
import { serveTunnelledHttp, type HttpEngineOptions } from '../engine/index.js';
import { runTcpChain, type ClientGate, type TcpEngineOptions } from '../listeners/tcp-engine.js';
import { outboundMeshService } from '../modules/tcp.js';
import { isoNow, jsonString } from '../observability/log.js';
import { parseAuthority } from '../routing/index.js';
import type { Runtime } from '../runtime.js';
import { classifySilent, classifyTunnel, judgeAfterSilence, type TunnelProtocol } from './classify.js';

export interface ConnectHandlerOptions {
  runtime: () => Runtime | undefined;
  /** the outbound proxy's engine options: tunnelled HTTP is served exactly as it is */
  http: HttpEngineOptions;
  /** the outbound TCP chain */
  tcp: Omit<TcpEngineOptions, 'target'>;
  /** the outbound proxy's address, as a TCP context's local address */
  local: { address: string; port: number };
  /** how long a tunnel to a destination outside the mesh waits for the client's first bytes */
  sniffMs?: number;
}

/** A client silent this long after the 200 waits for the server to speak: TCP. */
const SNIFF_MS = 1000;

export function handleConnect(opts: ConnectHandlerOptions, authority: string, socket: Socket, head: Buffer, source: { address: string; port: number }): void {
  const a = parseAuthority(authority);
  if (!a.host || a.port === undefined) {
    answer(socket, 400, 'CONNECT needs host:port');
    return;
  }
  const target = { host: a.host, port: a.port };
  const rt = opts.runtime();
  if (!rt) {
    answer(socket, 503, 'sidecar has no configuration yet');
    return;
  }
  const peer = { ...source, local: opts.local };
  const mesh = outboundMeshService(rt.tables, a.host, a.port);
  if (mesh?.kind === 'tcp') {
    // the outbound TCP chain, its policies and access line, answered 200 once the upstream is connected
    void runTcpChain(opts.tcp, socket, target, head, peer, () => socket.write('HTTP/1.1 200 Connection Established\r\n\r\n'), (reason) => answer(socket, 502, reason));
    return;
  }
  const allowedBy = connectAllowedBy(rt.snapshot.Spec.Traffic.OutboundConnectAllowList, a.host, a.port);
  if (allowedBy === undefined) {
    const reason = `CONNECT to ${a.host}:${a.port} refused: no entry of MeshConfig spec.traffic.outboundConnectAllowList allows it`;
    refusedLine(opts, rt.snapshot.Spec.ServiceIdentity, source, `${a.host}:${a.port}`, mesh?.rule.service.name, reason, 403);
    answer(socket, 403, reason);
    return;
  }
  socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
  const canonical = `${a.host}:${a.port}`;
  const open = (protocol: TunnelProtocol, first: Buffer): void => {
    opts.tcp.log.log('debug', 'connect tunnel', { target: canonical, allowedBy, protocol });
    if (protocol === 'tcp') {
      // silent so far (the server speaks first): its first line is judged before it is relayed
      const gate: ClientGate | undefined =
        first.length > 0
          ? undefined
          : {
              judge: judgeAfterSilence,
              refused: () => refusedLine(opts, rt.snapshot.Spec.ServiceIdentity, source, canonical, undefined, 'HTTP inside a tunnel that began silent, as TCP: send HTTP first'),
            };
      void runTcpChain(opts.tcp, socket, target, first, peer, undefined, undefined, gate);
      return;
    }
    if (first.length > 0) socket.unshift(first);
    serveTunnelledHttp(socket, opts.http, canonical);
  };
  // a mesh HTTP service speaks HTTP: whatever the client sends is parsed as such
  if (mesh) open('http', head);
  else void firstBytes(socket, head, opts.sniffMs ?? SNIFF_MS).then((r) => (r ? open(r.protocol, r.bytes) : socket.destroy()));
}

/**
 * Reads until the tunnel's protocol is known or `waitMs` passed; the socket is left paused. Undefined
 * when the client closed first.
 */
function firstBytes(socket: Socket, head: Buffer, waitMs: number): Promise<{ protocol: TunnelProtocol; bytes: Buffer } | undefined> {
  const known = classifyTunnel(head);
  if (known) return Promise.resolve({ protocol: known, bytes: head });
  return new Promise((resolve) => {
    let bytes = head;
    const finish = (r: { protocol: TunnelProtocol; bytes: Buffer } | undefined): void => {
      clearTimeout(timer);
      socket.pause();
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.off('close', onEnd);
      resolve(r);
    };
    const onData = (d: Buffer): void => {
      bytes = bytes.length === 0 ? d : Buffer.concat([bytes, d]);
      const p = classifyTunnel(bytes);
      if (p) finish({ protocol: p, bytes });
    };
    const onEnd = (): void => finish(undefined);
    const timer = setTimeout(() => finish({ protocol: classifySilent(bytes), bytes }), waitMs);
    socket.on('data', onData);
    socket.once('end', onEnd);
    socket.once('close', onEnd);
    socket.resume();
  });
}

/** A refused tunnel, at every log level: a warning and an access line (`status` when the CONNECT itself was answered). */
function refusedLine(
  opts: ConnectHandlerOptions,
  sourceService: string,
  source: { address: string; port: number },
  target: string,
  destination: string | undefined,
  reason: string,
  status?: number,
): void {
  opts.tcp.log.warn('connect refused', { target, reason });
  opts.tcp.log.access(
    `{"time":"${isoNow()}","type":"access","protocol":"connect","direction":"outbound","source":${jsonString(`${source.address}:${source.port}`)},` +
      `"sourceService":${jsonString(sourceService)},"port":${opts.local.port},"method":"CONNECT","target":${jsonString(target)},` +
      `"destination":${destination === undefined ? 'null' : jsonString(destination)},"upstream":null,${status === undefined ? '' : `"status":${status},`}"refused":${jsonString(reason)}}`,
  );
}

const STATUS_TEXT: Record<number, string> = { 400: 'Bad Request', 403: 'Forbidden', 502: 'Bad Gateway', 503: 'Service Unavailable' };

/** Answers the CONNECT itself (no tunnel) and closes; the reason in the body and x-tessera-reason. */
function answer(socket: Socket, status: number, reason: string): void {
  const body = `${reason}\n`;
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? ''}\r\ncontent-type: text/plain\r\nx-tessera-reason: ${reason.replace(/[^\x20-\x7e]/g, '?')}\r\n` +
      `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}
