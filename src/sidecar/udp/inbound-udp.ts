/**
 * Inbound UDP under SMI UDPRoutes (`Inbound.UdpAllowed`, `Inbound.IdentityByIP`). UDP carries no
 * certificate, so the sidecar owns the pod's UDP ports on the pod IP, names the sender by its pod
 * address and forwards to the app (on the pod's app address, same port) only what a UDPRoute allows.
 * Each allowed sender gets a session socket towards the app, so the app's replies find their way
 * back and leave from the port the sender wrote to. Everything else is dropped.
 */
import type { Socket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import type { ProxySnapshot } from '../../snapshot/types.js';
import type { SidecarLog } from '../observability/log.js';
import { DropLog } from './drop-log.js';

/** node:dgram is loaded by the first UDP listener: most sidecars have none, and it is one module less in each. */
const udpSocket = (v6: boolean): Socket => process.getBuiltinModule('node:dgram').createSocket({ type: v6 ? 'udp6' : 'udp4' });

export type UdpPolicy = Pick<ProxySnapshot['Inbound'], 'UdpAllowed' | 'IdentityByIP'>;

export interface InboundUdpOptions {
  /** the pod IP: where peers send to */
  bindAddress: string;
  /** where the pod's apps listen (local mode: the pod's private address) */
  appAddress: string;
  log: SidecarLog;
  /**
   * The pod IP a sender's address stands for, when it is not a pod IP itself (local mode: an app
   * that sends from its pod's private app address). Undefined keeps the address as it is.
   */
  senderPodIP?: (address: string) => string | undefined;
  /** a session without traffic in either direction for this long is closed (default 60 s) */
  idleMs?: number;
}

interface Session {
  socket: Socket;
  sender: { address: string; port: number };
  timer: NodeJS.Timeout | undefined;
}

interface PortRelay {
  port: number;
  socket: Socket;
  sessions: Map<string, Session>;
}

export class InboundUdp {
  private readonly relays = new Map<number, PortRelay>();
  private allowed = new Map<number, ReadonlySet<string>>();
  private identityByIP = new Map<string, string>();
  private readonly drops: DropLog;
  /** bind failures of the last update, for the admin status */
  errors: string[] = [];
  readonly stats = { forwarded: 0, replied: 0, dropped: 0 };

  constructor(private readonly opts: InboundUdpOptions) {
    this.drops = new DropLog(opts.log);
  }

  /** Applies a snapshot's UDP policy: opens and closes port relays, and ends sessions it no longer allows. */
  async update(policy: UdpPolicy): Promise<void> {
    this.allowed = new Map(Object.entries(policy.UdpAllowed ?? {}).map(([p, ids]) => [Number(p), new Set(ids)]));
    this.identityByIP = new Map(Object.entries(policy.IdentityByIP ?? {}));
    for (const [port, relay] of this.relays) {
      if (!this.allowed.has(port)) this.closeRelay(relay);
      else for (const [key, s] of relay.sessions) if (this.verdict(port, s.sender.address).identity === undefined) this.endSession(relay, key);
    }
    const errors: string[] = [];
    for (const port of this.allowed.keys()) {
      if (this.relays.has(port)) continue;
      try {
        this.relays.set(port, await this.openRelay(port));
      } catch (err) {
        errors.push(`udp ${this.opts.bindAddress}:${port}: ${(err as Error).message}`);
        this.opts.log.error('inbound udp socket failed', { port, error: (err as Error).message });
      }
    }
    this.errors = errors;
  }

  /** `udp ADDRESS:PORT` of every open relay. */
  list(): string[] {
    return [...this.relays.keys()].sort((a, b) => a - b).map((p) => `inbound-udp ${this.opts.bindAddress}:${p}`);
  }

  close(): void {
    for (const relay of this.relays.values()) this.closeRelay(relay);
  }

  /** The sender's identity when the port allows it, else why not. */
  private verdict(port: number, address: string): { identity?: string; reason?: string } {
    const ids = this.allowed.get(port);
    if (!ids) return { reason: 'port not allowed' };
    const podIP = this.opts.senderPodIP?.(address) ?? address;
    const identity = this.identityByIP.get(podIP);
    if (identity === undefined) return { reason: 'sender address has no mesh identity' };
    return ids.has(identity) ? { identity } : { reason: `identity ${identity} not allowed` };
  }

  private openRelay(port: number): Promise<PortRelay> {
    const socket = udpSocket(isIPv6(this.opts.bindAddress));
    const relay: PortRelay = { port, socket, sessions: new Map() };
    return new Promise((resolve, reject) => {
      socket.once('error', reject);
      socket.bind({ address: this.opts.bindAddress, port, exclusive: true }, () => {
        socket.off('error', reject);
        socket.on('error', (err) => {
          this.opts.log.warn('inbound udp socket error', { port, error: err.message });
          if (this.relays.get(port) === relay) this.relays.delete(port);
          this.closeRelay(relay); // the next snapshot update opens it again
        });
        socket.on('message', (msg, rinfo) => this.onDatagram(relay, msg, rinfo));
        resolve(relay);
      });
    });
  }

  private onDatagram(relay: PortRelay, msg: Buffer, from: { address: string; port: number }): void {
    const v = this.verdict(relay.port, from.address);
    if (v.identity === undefined) {
      this.stats.dropped++;
      this.drops.drop(v.reason ?? 'denied', { port: relay.port, from: `${from.address}:${from.port}` });
      return;
    }
    const key = `${from.address}:${from.port}`;
    const session = relay.sessions.get(key) ?? this.openSession(relay, key, from);
    this.touch(relay, key, session);
    this.stats.forwarded++;
    session.socket.send(msg, relay.port, this.opts.appAddress);
  }

  /** A socket on the app address whose replies go back to this sender through the port relay. */
  private openSession(relay: PortRelay, key: string, sender: { address: string; port: number }): Session {
    const socket = udpSocket(isIPv6(this.opts.appAddress));
    socket.bind({ address: this.opts.appAddress, port: 0 });
    socket.on('error', () => this.endSession(relay, key));
    socket.on('message', (msg, rinfo) => {
      // only the pod's own apps may answer through the session
      if (rinfo.address !== this.opts.appAddress) return;
      const s = relay.sessions.get(key);
      if (!s) return;
      this.touch(relay, key, s);
      this.stats.replied++;
      relay.socket.send(msg, sender.port, sender.address);
    });
    const session: Session = { socket, sender: { ...sender }, timer: undefined };
    relay.sessions.set(key, session);
    return session;
  }

  private touch(relay: PortRelay, key: string, s: Session): void {
    clearTimeout(s.timer);
    s.timer = setTimeout(() => this.endSession(relay, key), this.opts.idleMs ?? 60_000);
    s.timer.unref();
  }

  private endSession(relay: PortRelay, key: string): void {
    const s = relay.sessions.get(key);
    if (!s) return;
    relay.sessions.delete(key);
    clearTimeout(s.timer);
    try {
      s.socket.close();
    } catch {
      // already closed
    }
  }

  private closeRelay(relay: PortRelay): void {
    for (const key of [...relay.sessions.keys()]) this.endSession(relay, key);
    if (this.relays.get(relay.port) === relay) this.relays.delete(relay.port);
    try {
      relay.socket.close();
    } catch {
      // already closed
    }
  }
}
