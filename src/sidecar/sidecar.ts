/**
 * One sidecar: admin server, outbound explicit proxy, inbound listeners per service port, and the
 * control-plane stream. Snapshots are applied by building a new Runtime and swapping it in; the
 * last good one is kept on disk and served from at start, so the sidecar works while the control
 * plane is down.
 */
import { loadAccessLogFilters } from './observability/access-gate.js';
import type { Server } from 'node:net';
import { isMeshError } from '../lib/errors.js';
import { listenOn } from '../lib/listen-retry.js';
import type { ProxySnapshot } from '../snapshot/types.js';
import { createAdminServer } from './admin/index.js';
import { StreamClient, loadSnapshot, saveSnapshot } from './config/index.js';
import { createHttpEngine, DEFAULT_PATH_NORMALIZATION, type HttpEngineOptions } from './engine/index.js';
import { handleConnect, type ConnectHandlerOptions } from './tunnels/index.js';
import { createTcpEngine, runTcpChain } from './listeners/tcp-engine.js';
import { SidecarLog, SidecarMetrics, type LogLevel } from './observability/index.js';
import { buildRuntime, loadPluginKinds, type Runtime } from './runtime.js';
import { UpstreamClient } from './upstream/index.js';
import { WorkloadIdentity } from './identity/index.js';
import { InboundTls, type InboundSecurity } from './engine/mtls.js';
import { AccessPolicy } from './access-control.js';
import { InboundUdp } from './udp/index.js';
import { UpstreamListeners } from './listeners/upstreams.js';
import { newHopMarker, type SidecarSelf } from './modules/loop-guard.js';
import { createTransparentInbound, createTransparentOutbound } from './listeners/transparent.js';

export interface SidecarOptions {
  podName: string;
  podNamespace: string;
  podIP: string;
  /** the pod's private address: its apps bind here and reach the outbound proxy here */
  localIP: string;
  /** the pod's service account; with the namespace it is the workload identity `sa.ns` */
  serviceAccount: string;
  uuid: string;
  token: string;
  /** bearer token of the admin port's state-changing endpoints (default: TESSERA_ADMIN_TOKEN) */
  adminToken?: string;
  controllerUrl: string;
  dataDir: string;
  adminPort: number;
  outboundPort: number;
  logLevel?: LogLevel;
  /** UDP: the pod IP a sender's address stands for when it is not one (local mode: a pod's private app address) */
  senderPodIP?: (address: string) => string | undefined;
  /**
   * Transparent mode (iptables interception in the pod's namespace): inbound traffic arrives on this
   * port and is dispatched by original destination; the outbound port serves redirected traffic too.
   */
  transparentInboundPort?: number;
}

/**
 * How long a sidecar that switched from plaintext to mTLS still admits plaintext: long enough for
 * every sidecar to receive the same snapshot (one push from the controller, STALE_AFTER_MS is 5 s),
 * short enough that "strict" is strict a few seconds after the switch.
 */
export const MTLS_SWITCH_GRACE_MS = 10_000;

interface OpenListener {
  key: string;
  server: Server;
}

export class Sidecar {
  readonly log: SidecarLog;
  readonly metrics: SidecarMetrics;
  private runtime: Runtime | undefined;
  private readonly upstream: UpstreamClient;
  private readonly inboundClient: UpstreamClient;
  private readonly inbound = new Map<number, OpenListener>();
  private outbound: Server | undefined;
  private admin: Server | undefined;
  private transparentInbound: Server | undefined;
  private outboundHttp: Server | undefined;
  private stream: StreamClient | undefined;
  private listenerErrors: string[] = [];
  readonly identity: WorkloadIdentity;
  private readonly security: InboundSecurity;
  private inboundTls: InboundTls | undefined;
  private readonly udp: InboundUdp;
  private readonly upstreamListeners: UpstreamListeners;
  private readonly self: SidecarSelf;
  /** epoch ms until which plaintext is still admitted after this sidecar switched to mTLS */
  private plaintextUntil = 0;

  constructor(private readonly opts: SidecarOptions) {
    // transparent: the outbound proxy listens on 127.0.0.1 (start()); explicit: on the pod's private address
    this.self = {
      hopMarker: newHopMarker(),
      outboundListeners: new Set([`${opts.transparentInboundPort !== undefined ? '127.0.0.1' : opts.localIP}:${opts.outboundPort}`]),
    };
    this.log = new SidecarLog(opts.logLevel ?? 'info');
    this.metrics = new SidecarMetrics({ pod: opts.podName, namespace: opts.podNamespace });
    this.identity = new WorkloadIdentity({
      identity: `${opts.serviceAccount || 'default'}.${opts.podNamespace}`,
      controllerUrl: opts.controllerUrl,
      uuid: opts.uuid,
      token: opts.token,
      dataDir: opts.dataDir,
      log: this.log,
    });
    const tls = (): ReturnType<WorkloadIdentity['secureContext']> => this.identity.secureContext();
    // Outbound connections leave from our pod IP so the far side can tell which pod called.
    this.upstream = new UpstreamClient({ localAddress: opts.podIP, timeoutMs: 60_000, tls });
    this.inboundClient = new UpstreamClient({ timeoutMs: 60_000 });
    this.identity.onChange = () => {
      const material = this.identity.secureContextOptions();
      if (!material) return;
      if (this.inboundTls) this.inboundTls.update(material);
      else this.inboundTls = new InboundTls(material, this.log);
    };
    const access = new AccessPolicy(() => this.runtime?.snapshot.Inbound.TrafficMatches);
    this.security = {
      enabled: () => this.mtls,
      terminator: () => this.inboundTls,
      // clients outside the mesh get in only through AccessControl (SourceIPRanges of the port's match)
      // and everyone for a moment after a switch from plaintext to mTLS (engine/mtls.ts explains why)
      admitPlaintext: (address, port) => Date.now() < this.plaintextUntil || access.admitPlaintext(address, port),
      admitCertificate: (address, port, cert) => access.admitCertificate(address, port, cert),
    };
    this.udp = new InboundUdp({ bindAddress: opts.podIP, appAddress: opts.localIP, log: this.log, ...(opts.senderPodIP ? { senderPodIP: opts.senderPodIP } : {}) });
    this.upstreamListeners = new UpstreamListeners({
      localIP: opts.localIP,
      dataDir: opts.dataDir,
      reserved: [opts.outboundPort, opts.adminPort],
      chain: () => this.runtime?.outboundTcp,
      upstream: this.upstream,
      log: this.log,
    });
  }

  /** mTLS between sidecars is on under the applied snapshot (on until a snapshot says otherwise). */
  private get mtls(): boolean {
    return this.runtime?.snapshot.Spec.SidecarDisabledMTLS !== true;
  }

  /** Serving: a snapshot applied and, with mTLS on, a workload certificate. */
  get ready(): boolean {
    return this.runtime !== undefined && (!this.mtls || this.identity.ready);
  }

  get current(): Runtime | undefined {
    return this.runtime;
  }

  async start(): Promise<void> {
    await this.identity.start();
    this.admin = createAdminServer({
      runtime: () => this.runtime,
      ready: () => this.ready,
      certificate: () => this.identity.info(),
      metrics: this.metrics,
      listeners: () => this.listenerList(),
      status: () => ({ version: this.runtime?.version ?? null, connected: this.stream?.connected ?? false, listenerErrors: this.listenerErrors }),
      quit: () => void this.stop().then(() => process.exit(0)),
      ...(this.opts.adminToken ? { adminToken: this.opts.adminToken } : {}),
    });
    await listenOn(this.admin, this.opts.podIP, this.opts.adminPort);
    const outboundHttp: HttpEngineOptions = {
      direction: 'outbound',
      mountPoint: 'outbound-http',
      chain: () => this.runtime?.outboundHttp,
      pathNormalization: () => this.runtime?.pathNormalization ?? DEFAULT_PATH_NORMALIZATION,
      proxy: true,
      upstream: this.upstream,
      log: this.log,
      timeoutMs: 60_000,
      // docs/security.md "Tunnels": allowed or refused by MeshConfig, then through the outbound chains
      onConnect: (authority, socket, head, source) => handleConnect(tunnels, authority, socket, head, source),
    };
    const tunnels: ConnectHandlerOptions = {
      runtime: () => this.runtime,
      http: outboundHttp,
      tcp: { direction: 'outbound', mountPoint: 'outbound-tcp', chain: () => this.runtime?.outboundTcp, upstream: this.upstream, log: this.log },
      local: { address: this.opts.localIP, port: this.opts.outboundPort },
    };
    this.outbound = createHttpEngine(outboundHttp);
    if (this.opts.transparentInboundPort !== undefined) {
      // Redirected connections come from the app (to a cluster IP or a pod) and from other pods.
      this.outboundHttp = this.outbound;
      this.outbound = createTransparentOutbound({
        http: this.outboundHttp,
        tcp: (socket, target) => this.onRedirectedTcp(socket, target),
        matches: () => this.runtime?.snapshot.Outbound.TrafficMatches,
        outOfScope: (dst) => {
          const tables = this.runtime?.tables;
          const named = tables?.serviceIPs.get(dst.address);
          return named !== undefined && !tables!.dns.has(named);
        },
        log: this.log,
      });
      this.transparentInbound = createTransparentInbound({ engineFor: (port) => this.inbound.get(port)?.server, log: this.log });
      await listenOn(this.transparentInbound, '0.0.0.0', this.opts.transparentInboundPort);
    }
    // transparent: REDIRECT delivers the app's connections to 127.0.0.1, whatever address they were for
    await listenOn(this.outbound, this.opts.transparentInboundPort !== undefined ? '127.0.0.1' : this.opts.localIP, this.opts.outboundPort);

    const saved = await loadSnapshot(this.opts.dataDir);
    let fromDisk: { version: string; snapshot: ProxySnapshot } | undefined;
    if (saved) {
      const err = await this.apply(saved.version, saved.snapshot, false);
      if (err) this.log.warn('saved snapshot could not be applied', { error: err });
      else {
        this.log.info('serving the last good snapshot from disk', { version: saved.version });
        fromDisk = saved;
      }
    }
    this.stream = new StreamClient({
      controllerUrl: this.opts.controllerUrl,
      uuid: this.opts.uuid,
      token: this.opts.token,
      log: this.log,
      currentVersion: () => this.runtime?.version,
      apply: (version, snapshot) => this.apply(version, snapshot, true),
      onTrust: (trust) => this.identity.setTrust(trust),
    });
    // the control plane may answer the disk copy's version (Last-Event-ID) with a delta onto it
    if (fromDisk) this.stream.hold(fromDisk.version, fromDisk.snapshot);
    this.stream.start();
  }

  /** Applies a snapshot; returns an error message (NACK) or undefined (ACK). */
  async apply(version: string, snapshot: ProxySnapshot, persist: boolean): Promise<string | undefined> {
    if (this.runtime?.version === version) return undefined;
    let next: Runtime;
    try {
      await loadAccessLogFilters(snapshot);
      await loadPluginKinds(snapshot);
      next = buildRuntime(version, snapshot, { upstream: this.upstream, log: this.log, metrics: this.metrics, self: this.self });
    } catch (err) {
      const message = isMeshError(err) ? err.message : `snapshot rejected: ${(err as Error).message}`;
      this.log.error('snapshot rejected', { version, error: message });
      return message;
    }
    const wasPlaintext = this.runtime !== undefined && !this.mtls;
    this.runtime = next;
    if (wasPlaintext && this.mtls) {
      // Client sidecars still on plaintext get the same switch within moments; until then their
      // new connections must not be refused (engine/mtls.ts). Strict after the window.
      this.plaintextUntil = Date.now() + MTLS_SWITCH_GRACE_MS;
      this.log.info('mTLS turned on: plaintext still admitted while the mesh switches', { forMs: MTLS_SWITCH_GRACE_MS });
    } else if (!this.mtls) this.plaintextUntil = 0;
    // MeshConfig spec.sidecar.logLevel (FSM's default: error); access lines are written at any level
    this.log.setLevel(snapshot.Spec.SidecarLogLevel);
    await this.reconcileInbound(next);
    // UDP relays and per-upstream listeners follow the snapshot like inbound listeners do
    await this.udp.update(snapshot.Inbound);
    // Transparent mode needs no per-upstream listeners: the app dials the service itself.
    if (this.opts.transparentInboundPort === undefined) await this.upstreamListeners.reconcile(snapshot);
    this.listenerErrors.push(...this.udp.errors, ...this.upstreamListeners.errors);
    this.retainPools(next);
    this.log.info('snapshot applied', { version });
    // Saved behind the ACK, not before it: the copy on disk only serves a restart while the control
    // plane is away, and a restart from an older copy names its version (Last-Event-ID) and is
    // sent the current one. Saves run one after another, so the newest lands last.
    if (persist) this.saved = this.saved.then(() => this.persist(version, snapshot));
    return undefined;
  }

  /** Resolves when every snapshot applied so far is on disk (tests, and a clean stop). */
  persisted(): Promise<void> {
    return this.saved;
  }

  private saved: Promise<void> = Promise.resolve();

  private async persist(version: string, snapshot: ProxySnapshot): Promise<void> {
    try {
      await saveSnapshot(this.opts.dataDir, { version, snapshot });
    } catch (err) {
      this.log.warn('could not save snapshot', { error: (err as Error).message });
    }
  }

  private async reconcileInbound(rt: Runtime): Promise<void> {
    const wanted = new Map<number, string>();
    for (const m of Object.values(rt.snapshot.Inbound.TrafficMatches)) wanted.set(m.Port, m.Protocol === 'tcp' ? 'tcp' : 'http');
    for (const [port, l] of this.inbound) {
      if (wanted.get(port) !== l.key) {
        this.inbound.delete(port);
        l.server.close();
      }
    }
    const errors: string[] = [];
    for (const [port, protocol] of wanted) {
      if (this.inbound.has(port)) continue;
      const server =
        protocol === 'tcp'
          ? createTcpEngine({
              direction: 'inbound',
              mountPoint: 'inbound-tcp',
              chain: () => this.runtime?.inboundTcp,
              upstream: this.inboundClient,
              log: this.log,
              // transparent: the app on the pod's loopback (dialing the pod IP would be redirected back to us)
              target: (s) => (this.opts.transparentInboundPort !== undefined ? { host: this.opts.localIP, port } : { host: s.localAddress ?? this.opts.podIP, port: s.localPort ?? port }),
              security: this.security,
            })
          : createHttpEngine({
              direction: 'inbound',
              mountPoint: 'inbound-http',
              chain: () => this.runtime?.inboundHttp,
              pathNormalization: () => this.runtime?.pathNormalization ?? DEFAULT_PATH_NORMALIZATION,
              proxy: false,
              upstream: this.inboundClient,
              log: this.log,
              timeoutMs: 60_000,
              security: this.security,
            });
      try {
        // transparent: connections reach the engine through the inbound port's dispatch, not a listener
        if (this.opts.transparentInboundPort === undefined) await listenOn(server, this.opts.podIP, port);
        this.inbound.set(port, { key: protocol, server });
      } catch (err) {
        errors.push(`${this.opts.podIP}:${port}: ${(err as Error).message}`);
        this.log.error('inbound listener failed', { port, error: (err as Error).message });
      }
    }
    this.listenerErrors = errors;
  }

  private retainPools(rt: Runtime): void {
    const keep = new Set<string>();
    for (const c of rt.tables.clusters.values()) for (const ep of c.endpoints) keep.add(ep);
    this.upstream.retain(keep);
    this.inboundClient.retain(keep);
  }

  /** A redirected outbound connection that is not HTTP: the outbound TCP chain, to its original destination. */
  private onRedirectedTcp(socket: import('node:net').Socket, target: { host: string; port: number }): void {
    void runTcpChain(
      { direction: 'outbound', mountPoint: 'outbound-tcp', chain: () => this.runtime?.outboundTcp, upstream: this.upstream, log: this.log },
      socket,
      target,
      Buffer.alloc(0),
      { address: socket.remoteAddress ?? '', port: socket.remotePort ?? 0, local: { address: socket.localAddress ?? '', port: socket.localPort ?? 0 } },
    );
  }

  private listenerList(): string[] {
    const out = [`admin ${this.opts.podIP}:${this.opts.adminPort}`, `outbound ${this.opts.transparentInboundPort !== undefined ? '127.0.0.1' : this.opts.localIP}:${this.opts.outboundPort}`];
    if (this.opts.transparentInboundPort !== undefined) out.push(`inbound-transparent 0.0.0.0:${this.opts.transparentInboundPort}`);
    for (const [port, l] of this.inbound) out.push(`inbound-${l.key} ${this.opts.podIP}:${port}`);
    out.push(...this.udp.list(), ...this.upstreamListeners.list());
    return out;
  }

  async stop(): Promise<void> {
    this.stream?.stop();
    this.identity.stop();
    const servers = [this.admin, this.outbound, this.transparentInbound, ...[...this.inbound.values()].map((l) => l.server)];
    for (const s of servers) s?.close();
    this.udp.close();
    this.upstreamListeners.close();
    await Promise.allSettled([this.upstream.close(), this.inboundClient.close(), this.saved]);
    this.log.flushSync();
  }
}

