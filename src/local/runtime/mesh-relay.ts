/**
 * How sandboxed pods reach the control plane. The control-plane pods (controller, injector,
 * bootstrap) and the API server stay where they are in loopback mode: processes of the host's
 * network namespace on the mesh block's fixed addresses. Pods cannot reach the host (their only
 * route is the mesh bridge), so the daemon serves one Unix socket per relayed port in the 0700
 * state directory, and a relay process in the mesh's node namespace (`runInMesh`) listens on the
 * bridge gateway at the same port and pipes to that socket: a sidecar dials `<gateway>:6060`.
 * Nothing on the host listens on a new TCP address; the gateway is reachable only from the mesh's
 * own namespaces.
 */
import type { ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MeshError } from '../../lib/errors.js';
import { runInMesh, type MeshNetwork } from '../sandbox/index.js';

export interface RelayTarget {
  /** short name for the socket file */
  name: string;
  /** the port on the gateway (and of the target); 0: a free one (MeshRelay.ports says which) */
  port: number;
  /** where the daemon connects on the host */
  host: string;
  /**
   * Where the daemon connects, asked per connection (a Service's endpoints come and go); undefined
   * refuses the connection. Replaces host and port.
   */
  dial?: () => { host: string; port: number } | undefined;
}

export interface MeshRelay {
  readonly gateway: string;
  /** the gateway ports bound, in the targets' order */
  readonly ports: readonly number[];
  close(): Promise<void>;
}

const RELAY_MAIN = fileURLToPath(new URL('./mesh-relay-main.js', import.meta.url));

function pipeBoth(a: Socket, b: Socket): void {
  a.on('error', () => b.destroy());
  b.on('error', () => a.destroy());
  a.pipe(b);
  b.pipe(a);
}

/** Starts the host-side socket servers and the mesh-side relay process; resolves once it listens. */
export async function startMeshRelay(net: MeshNetwork, dir: string, targets: readonly RelayTarget[]): Promise<MeshRelay> {
  const servers: Server[] = [];
  const argv: string[] = [];
  for (const t of targets) {
    const path = join(dir, `relay-${t.name}.sock`);
    rmSync(path, { force: true });
    const server = createServer((s) => {
      const to = t.dial ? t.dial() : { host: t.host, port: t.port };
      if (!to) s.destroy();
      else pipeBoth(s, connect(to));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => resolve());
    });
    servers.push(server);
    argv.push(net.gateway, String(t.port), path);
  }
  const child: ChildProcess = runInMesh(net, [process.execPath, RELAY_MAIN, ...argv], { env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin' }, stdio: ['ignore', 'pipe', 'pipe'] });
  const closeServers = () => servers.forEach((s) => s.close());
  let ports: number[] = [];
  try {
    await new Promise<void>((resolve, reject) => {
      let err = '';
      child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
      child.stdout!.setEncoding('utf8').on('data', (d: string) => {
        const m = /^ready((?: \d+)*)$/m.exec(d);
        if (!m) return;
        ports = m[1]!.trim().split(' ').filter(Boolean).map(Number);
        resolve();
      });
      child.once('exit', (code) => reject(new MeshError('MESH_ERR_INTERNAL', `mesh relay exited (${code}): ${err.trim()}`)));
      setTimeout(() => reject(new MeshError('MESH_ERR_INTERNAL', `mesh relay did not start: ${err.trim()}`)), 10_000).unref();
    });
  } catch (e) {
    child.kill('SIGKILL');
    closeServers();
    throw e;
  }
  child.stdout!.resume();
  return {
    gateway: net.gateway,
    ports,
    async close() {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      closeServers();
    },
  };
}
