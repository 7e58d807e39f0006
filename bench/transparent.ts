/**
 * The transparent data path (namespace mode, the default where namespaces are available): client
 * and server sidecars in pod sandboxes of src/local/sandbox with the pods' real nat rules
 * (podNatRules: FSM's interception plus the services chain), the upstream app in the server pod on
 * its private address, and wrk as the client pod's app (uid 1000). A request goes
 * wrk → iptables REDIRECT → client sidecar :15001 (SO_ORIGINAL_DST, HTTP by Host) → server pod IP →
 * REDIRECT → server sidecar :15003 (handed to the engine of the original port) → app.
 * Sidecars reach the bench's delivery endpoint through the mesh relay, as in a mesh.
 */
import { type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { proxyToken } from '../src/local/layout.js';
import { APP_UID, SIDECAR_UID, decidePodNetwork } from '../src/local/runtime/pod-network.js';
import { podNatRules } from '../src/local/runtime/sandbox-host.js';
import { startMeshRelay, type MeshRelay } from '../src/local/runtime/mesh-relay.js';
import {
  applyInterception, createMeshNetwork, createPodSandbox, destroyMeshNetwork, dialInPod, runInPod, type MeshNetwork, type PodSandbox,
} from '../src/local/sandbox/index.js';
import { SIDECAR_TRANSPARENT_ENV, TRANSPARENT_INBOUND_PORT } from '../src/sidecar/listeners/transparent.js';
import { cpuSeconds, hasCommand, rssMiB, runWrk, type WrkResult } from './support.js';
import { SIDECAR_NODE_FLAGS } from '../src/sidecar/node-flags.js';
import { CLIENT_UUID, SERVER_UUID, snapshots, world, type BenchAddresses, type BenchDelivery } from './world.js';

export interface TransparentRow {
  scenario: string;
  wrk: WrkResult;
  sidecarCpu: number[];
  rss: number[];
  heap: string[];
}

export interface TransparentBenchOptions {
  addresses: BenchAddresses;
  delivery: BenchDelivery;
  dataRoot: string;
  meshKey: string;
  sidecarMain: string;
  upstreamCode: string;
  seconds: number;
  warmup: number;
  connections: number;
  log: (line: string) => void;
}

/** Whether this machine can run the scenario (root or rootless namespaces with the sidecar's uid). */
export async function transparentBenchUnavailable(): Promise<string | undefined> {
  return decidePodNetwork('namespace').then(() => undefined, (e: Error) => e.message);
}

/** One GET through a connection made inside the pod; true on 200. */
async function getInPod(pod: PodSandbox, host: string, port: number, path: string): Promise<boolean> {
  try {
    const s = await dialInPod(pod, host, port);
    return await new Promise<boolean>((resolve) => {
      let got = '';
      s.on('data', (d: Buffer) => (got += d.toString()));
      s.on('end', () => resolve(/^HTTP\/1\.[01] 200/.test(got)));
      s.on('error', () => resolve(false));
      s.end(`GET ${path} HTTP/1.0\r\nhost: ${host}\r\n\r\n`);
    });
  } catch {
    return false;
  }
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`transparent bench: ${what} did not happen`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function runTransparentBench(o: TransparentBenchOptions): Promise<TransparentRow[]> {
  const children: ChildProcess[] = [];
  let net: MeshNetwork | undefined;
  let relay: MeshRelay | undefined;
  const pin = (core: number, argv: string[]): string[] => (hasCommand('taskset') ? ['taskset', '-c', String(core), ...argv] : argv);
  const PATH = process.env['PATH'] ?? '/usr/bin:/bin';
  try {
    const dir = join(o.dataRoot, 'sandbox');
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    net = await createMeshNetwork({ meshName: `bench${process.pid}`, stateDir: dir });
    relay = await startMeshRelay(net, dir, [{ name: 'controller', port: 6060, host: o.addresses.controller }]);
    const client = await createPodSandbox(net, { name: 'curl-0', namespace: 'curl' });
    const server = await createPodSandbox(net, { name: 'httpbin-0', namespace: 'httpbin' });
    const block = o.addresses.block;
    for (const p of [client, server]) await applyInterception(p, podNatRules({ block, podIP: p.ip, hasSidecar: true, backends: [] }));
    // the same workloads at the sandboxes' addresses; apps on the pods' private addresses
    const a: BenchAddresses = { ...o.addresses, clientPod: client.ip, serverPod: server.ip };
    const worlds = {
      plain: await snapshots(await world(a, { mtls: false })),
      mtls: await snapshots(await world(a, { mtls: true })),
    };
    o.delivery.publish(worlds.plain);
    children.push(runInPod(server, pin(1, [process.execPath, '-e', o.upstreamCode]), {
      uid: APP_UID, env: { PATH, HOST: a.serverLocal, PORT: '14001' }, stdio: ['ignore', 'ignore', 'inherit'],
    }));
    // the sidecars' directories: reachable (not listable) through the 0700 bench root, theirs inside
    chmodSync(o.dataRoot, 0o711);
    const sidecar = (p: PodSandbox, uuid: string, name: string, ns: string, localIP: string): ChildProcess => {
      const data = join(o.dataRoot, `sandboxed-${name}`);
      mkdirSync(data, { recursive: true, mode: 0o700 });
      chownSync(data, SIDECAR_UID, SIDECAR_UID);
      const child = runInPod(p, pin(0, [process.execPath, ...SIDECAR_NODE_FLAGS, o.sidecarMain]), {
        uid: SIDECAR_UID,
        env: {
          PATH, TESSERA_POD_NAME: name, TESSERA_POD_NAMESPACE: ns, TESSERA_POD_UID: `${name}-uid`, TESSERA_POD_IP: p.ip, TESSERA_LOCAL_IP: localIP,
          TESSERA_SERVICE_ACCOUNT: ns, TESSERA_PROXY_UUID: uuid, TESSERA_PROXY_TOKEN: proxyToken(o.meshKey, uuid),
          TESSERA_CONTROLLER_URL: `http://${net!.gateway}:6060`, TESSERA_SIDECAR_DIR: data, TESSERA_MESH_NAME: 'bench',
          [SIDECAR_TRANSPARENT_ENV]: String(TRANSPARENT_INBOUND_PORT),
        },
        stdio: ['ignore', 'ignore', 'inherit'],
      });
      children.push(child);
      return child;
    };
    const clientSidecar = sidecar(client, CLIENT_UUID, 'curl-0', 'curl', a.clientLocal);
    const serverSidecar = sidecar(server, SERVER_UUID, 'httpbin-0', 'httpbin', a.serverLocal);
    const onPath = [clientSidecar, serverSidecar];
    const use = async (w: keyof typeof worlds): Promise<void> => {
      o.delivery.publish(worlds[w]);
      await until(`the ${w} snapshot applied`, async () => o.delivery.applied(CLIENT_UUID) && o.delivery.applied(SERVER_UUID));
      await until('the client sidecar ready', () => getInPod(client, client.ip, 15000, '/ready'));
      await until('the server sidecar ready', () => getInPod(server, server.ip, 15000, '/ready'));
    };
    await until('the upstream listening', () => getInPod(server, a.serverLocal, 14001, '/get'));
    const wrkInClient = (argv: string[]) => runInPod(client, argv, { uid: APP_UID, env: { PATH }, stdio: ['ignore', 'pipe', 'pipe'] });
    const url = `http://${server.ip}:14001/get`;
    const headers = ['Host: httpbin.httpbin:14001'];
    const rows: TransparentRow[] = [];
    const measure = async (scenario: string): Promise<void> => {
      await runWrk(url, { connections: o.connections, seconds: o.warmup, core: 1, headers, spawn: wrkInClient });
      const before = onPath.map((p) => cpuSeconds(p.pid!));
      const wrk = await runWrk(url, { connections: o.connections, seconds: o.seconds, core: 1, headers, spawn: wrkInClient });
      const after = onPath.map((p) => cpuSeconds(p.pid!));
      rows.push({
        scenario, wrk,
        sidecarCpu: onPath.map((_, i) => ((after[i]! - before[i]!) * 1e6) / wrk.requests),
        rss: onPath.map((p) => rssMiB(p.pid!)),
        heap: onPath.map(() => '–'),
      });
      o.log(`  ${scenario}: ${Math.round(wrk.rps)} req/s`);
    };
    await use('plain');
    await measure('transparent mesh path (namespace mode): app → REDIRECT → :15001 → :15003 → app, plaintext');
    await use('mtls');
    await measure('transparent mesh path (namespace mode) with mTLS between the sidecars (the default)');
    return rows;
  } finally {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await relay?.close();
    if (net) await destroyMeshNetwork(net);
  }
}
