/** TCP connections through the TCP chains: a context whose load balancer pipes bytes to an endpoint. */
import { Socket, createServer, type Server } from 'node:net';
import type { Duplex } from 'node:stream';
import { TLSSocket } from 'node:tls';
import type { MountPoint } from '../../api/types.js';
import type { Direction, RouteMiss, TcpContext, TcpTransfer } from '../chain/types.js';
import type { SidecarLog } from '../observability/log.js';
import type { UpstreamClient } from '../upstream/client.js';
import { acceptInbound, verifiedServerName, type InboundSecurity } from '../engine/mtls.js';

export interface TcpEngineOptions {
  direction: Direction;
  mountPoint: MountPoint;
  chain: () => ((ctx: TcpContext) => Promise<void>) | undefined;
  upstream: UpstreamClient;
  log: SidecarLog;
  /** the destination when the listener stands for one upstream (inbound: the local port) */
  target: (socket: Socket) => { host: string; port: number };
  /** inbound listeners: mTLS termination and the plaintext policy */
  security?: InboundSecurity;
}

export function createTcpEngine(opts: TcpEngineOptions): Server {
  return createServer((raw) => {
    acceptInbound(raw, opts.security, opts.log, (socket, identity) => {
      const target = opts.target(raw);
      void runTcpChain(opts, socket, target, Buffer.alloc(0), {
        address: raw.remoteAddress ?? '',
        port: raw.remotePort ?? 0,
        identity,
        sni: verifiedServerName(socket),
        local: { address: raw.localAddress ?? '', port: raw.localPort ?? 0 },
      });
    });
  });
}

/**
 * Closes a refused client connection. A plain TCP socket is reset (RST, as Envoy's RBAC network
 * filter does); an mTLS one is destroyed: `resetAndDestroy` throws ERR_INVALID_HANDLE_TYPE on a
 * TLSSocket, whose handle is a TLSWrap, which would turn every refusal into a failed chain.
 */
function closeRefused(client: Duplex): void {
  if (client instanceof Socket && !(client instanceof TLSSocket) && !client.destroyed) client.resetAndDestroy();
  else client.destroy();
}

/**
 * Looks at a client's first bytes before any reaches the upstream (a CONNECT tunnel that began
 * silent, sidecar/tunnels): `hold` until more arrive, `pass` them on and relay the rest unseen, or
 * `refuse` (the connection closes both ways and `refused` runs).
 */
export interface ClientGate {
  judge(held: Buffer): 'hold' | 'pass' | 'refuse';
  refused(): void;
}

/**
 * Runs the TCP chain for one client connection (a listener's socket or a CONNECT tunnel).
 * `onEstablished` runs once an upstream connection exists (CONNECT answers 200 then).
 */
export async function runTcpChain(
  opts: Omit<TcpEngineOptions, 'target'>,
  client: Duplex,
  target: { host: string; port: number },
  head: Buffer,
  peer: { address: string; port: number; identity?: string | undefined; sni?: string | undefined; local: { address: string; port: number } },
  onEstablished?: () => void,
  onRejected?: (reason: string) => void,
  gate?: ClientGate,
): Promise<void> {
  client.on('error', () => undefined);
  const ctx: TcpContext = {
    direction: opts.direction,
    mountPoint: opts.mountPoint,
    source: { address: peer.address, port: peer.port, identity: peer.identity, sni: peer.sni },
    local: peer.local,
    target,
    cluster: undefined,
    service: undefined,
    routeMiss: undefined as RouteMiss | undefined,
    upstream: undefined,
    handled: false,
    pipeTo: async (endpoint, identities, connectTimeoutMs) => {
      let upstream: Socket;
      try {
        upstream = await opts.upstream.connectTcp(endpoint, identities, connectTimeoutMs);
      } catch (err) {
        opts.log.warn('tcp upstream failed', { upstream: endpoint, error: (err as Error).message });
        if (onRejected) onRejected(`upstream ${endpoint} unreachable`);
        else client.destroy();
        return undefined;
      }
      onEstablished?.();
      if (head.length > 0) upstream.write(head);
      const transfer: TcpTransfer = { fromClient: head.length, toClient: 0 };
      await new Promise<void>((resolve) => {
        let open = 2;
        const done = (): void => {
          if (--open === 0) resolve();
        };
        upstream.on('error', () => client.destroy());
        client.on('error', () => upstream.destroy());
        upstream.on('close', done);
        client.on('close', done);
        client.on('data', (d: Buffer) => void (transfer.fromClient += d.length));
        upstream.on('data', (d: Buffer) => void (transfer.toClient += d.length));
        if (gate) pipeThroughGate(client, upstream, gate);
        else client.pipe(upstream);
        upstream.pipe(client);
      });
      return transfer;
    },
    reject: (reason) => {
      if (onRejected) onRejected(reason);
      else closeRefused(client);
    },
  };
  const chain = opts.chain();
  if (!chain) {
    ctx.reject('sidecar has no configuration yet');
    return;
  }
  try {
    await chain(ctx);
  } catch (err) {
    opts.log.error('tcp chain failed', { error: (err as Error).message });
    ctx.reject('internal error');
  }
}

/** client → upstream once `gate` passed the first bytes; nothing reaches the upstream before. */
function pipeThroughGate(client: Duplex, upstream: Socket, gate: ClientGate): void {
  let held: Buffer = Buffer.alloc(0);
  const stop = (): void => {
    client.off('data', onData);
    client.off('end', onEnd);
  };
  const onData = (d: Buffer): void => {
    held = held.length === 0 ? d : Buffer.concat([held, d]);
    const verdict = gate.judge(held);
    if (verdict === 'hold') return;
    stop();
    if (verdict === 'refuse') {
      gate.refused();
      upstream.destroy();
      closeRefused(client);
      return;
    }
    client.pause();
    upstream.write(held);
    // resumes the client: the bytes after these follow them
    client.pipe(upstream);
  };
  // ended before a verdict: what was held is not relayed (it could be the start of what the gate refuses)
  const onEnd = (): void => {
    stop();
    upstream.end();
  };
  client.on('data', onData);
  client.on('end', onEnd);
  client.resume();
}
