/**
 * Per-upstream local listeners: one TCP listener on the pod's local address for every outbound TCP
 * service of the snapshot, piping into the outbound-tcp chain with that service as the target, so an
 * app that cannot speak CONNECT reaches `svc.ns:port` by connecting to a local port. They are
 * announced to the pod's apps in `<dataDir>/upstreams.json`: {"svc.ns:port": "localIP:port"}.
 *
 * Port choice: the service port when it is free on the local address and is not one of the pod's own
 * inbound ports (the app listens there, maybe not yet); otherwise one the kernel allocates. Services
 * are bound in name order, so the first of two services sharing a port gets it. A listener keeps its
 * port for as long as its service stays in the snapshot, so an app may cache the address.
 */
import { listenOn } from '../../lib/listen-retry.js';
import { createServer, type Server } from 'node:net';
import { rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ProxySnapshot } from '../../snapshot/types.js';
import type { TcpContext } from '../chain/types.js';
import type { SidecarLog } from '../observability/log.js';
import type { UpstreamClient } from '../upstream/client.js';
import { runTcpChain } from './tcp-engine.js';
import { UPSTREAMS_FILE } from '../../local/layout.js';

export { UPSTREAMS_FILE };

export interface UpstreamListenersOptions {
  localIP: string;
  dataDir: string;
  /** ports never taken on the local address besides the pod's inbound ports (the sidecar's own) */
  reserved: readonly number[];
  chain: () => ((ctx: TcpContext) => Promise<void>) | undefined;
  upstream: UpstreamClient;
  log: SidecarLog;
}

interface Open {
  server: Server;
  address: string;
}

/** `svc.ns:port` → {host, port} of every outbound TCP service that has a cluster to go to. */
export function outboundTcpServices(s: ProxySnapshot): Map<string, { host: string; port: number }> {
  const out = new Map<string, { host: string; port: number }>();
  for (const [portKey, matches] of Object.entries(s.Outbound.TrafficMatches)) {
    const port = Number(portKey);
    for (const m of matches) {
      if (m.Protocol !== 'tcp') continue;
      for (const [rule, r] of Object.entries(m.TcpServiceRouteRules ?? {})) {
        // a rule without clusters leads nowhere (SMI: not allowed); announcing it would only mislead
        if (Object.keys(r.TargetClusters).length > 0) out.set(`${rule}:${port}`, { host: rule, port });
      }
    }
  }
  return new Map([...out].sort((a, b) => (a[0] < b[0] ? -1 : 1)));
}

export class UpstreamListeners {
  private readonly open = new Map<string, Open>();
  private written = '';
  errors: string[] = [];

  constructor(private readonly opts: UpstreamListenersOptions) {}

  async reconcile(snapshot: ProxySnapshot): Promise<void> {
    const wanted = outboundTcpServices(snapshot);
    for (const [key, o] of this.open) {
      if (!wanted.has(key)) {
        this.open.delete(key);
        o.server.close();
      }
    }
    const reserved = new Set<number>([...this.opts.reserved, ...Object.values(snapshot.Inbound.TrafficMatches).map((m) => m.Port)]);
    const errors: string[] = [];
    for (const [key, target] of wanted) {
      if (this.open.has(key)) continue;
      try {
        this.open.set(key, await this.listen(target, reserved));
      } catch (err) {
        errors.push(`upstream ${key}: ${(err as Error).message}`);
        this.opts.log.error('upstream listener failed', { upstream: key, error: (err as Error).message });
      }
    }
    this.errors = errors;
    await this.announce();
  }

  /** `upstream svc.ns:port ADDRESS` per listener. */
  list(): string[] {
    return [...this.open].map(([key, o]) => `upstream ${key} ${o.address}`);
  }

  close(): void {
    for (const o of this.open.values()) o.server.close();
    this.open.clear();
  }

  private async listen(target: { host: string; port: number }, reserved: ReadonlySet<number>): Promise<Open> {
    const make = (): Server =>
      createServer((socket) => {
        void runTcpChain(
          { direction: 'outbound', mountPoint: 'outbound-tcp', chain: this.opts.chain, upstream: this.opts.upstream, log: this.opts.log },
          socket,
          target,
          Buffer.alloc(0),
          { address: socket.remoteAddress ?? '', port: socket.remotePort ?? 0, local: { address: socket.localAddress ?? '', port: socket.localPort ?? 0 } },
        );
      });
    let server = make();
    const bound = !reserved.has(target.port) && (await listenOn(server, this.opts.localIP, target.port).then(() => true, () => false));
    if (!bound) {
      server = make(); // a fresh server: the failed one is not reused
      await listenOn(server, this.opts.localIP, 0);
    }
    const a = server.address();
    const port = typeof a === 'object' && a ? a.port : 0;
    return { server, address: `${this.opts.localIP}:${port}` };
  }

  /** Writes upstreams.json when it changed (write then rename, so a reader never sees half a file). */
  private async announce(): Promise<void> {
    const text = JSON.stringify(Object.fromEntries([...this.open].map(([k, o]) => [k, o.address])), null, 2) + '\n';
    if (text === this.written) return;
    const file = join(this.opts.dataDir, UPSTREAMS_FILE);
    try {
      await writeFile(`${file}.tmp`, text);
      await rename(`${file}.tmp`, file);
      this.written = text;
    } catch (err) {
      this.opts.log.warn('could not write upstreams.json', { error: (err as Error).message });
    }
  }
}

