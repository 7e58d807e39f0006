/**
 * `node dist/bench/scope.js`: what outbound scoping saves one sidecar whose pod talks to 3 services,
 * in meshes of 10, 100 and 1,000 services (one meshed pod and ServiceAccount behind each, 50 services
 * a namespace): the client's snapshot bytes (whole, and its Outbound, Dns and ServiceIPs sections) and
 * the idle RSS and heap of a real sidecar process that applied it, side by side for
 *   unscoped — permissive mode, no Sidecar: every service;
 *   Sidecar  — permissive mode, an Istio networking Sidecar selecting the client, egress hosts = the 3;
 *   SMI      — permissive mode off, TrafficTargets letting the client reach the 3.
 *
 * Then the control plane's side: CPU and bytes per proxy to compile every proxy of those meshes,
 * unscoped, with a Sidecar `./*` in every namespace, and with SMI letting each proxy reach 3 services.
 *
 * Environment: BENCH_SCOPE_SIZES (default `10,100,1000`), BENCH_MEM_IDLE_MS (settle time before the
 * reading, default 3000), BENCH_SCOPE_NO_RSS=1 (bytes only, no sidecar processes).
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Resource } from '../src/api/types.js';
import { proxyToken } from '../src/local/layout.js';
import { SIDECAR_NODE_FLAGS } from '../src/sidecar/node-flags.js';
import { buildCatalog, compileProxySnapshot, listProxies, snapshotJson, snapshotVersion } from '../src/snapshot/index.js';
import type { VersionedSnapshot } from '../src/snapshot/types.js';
import { rssMiB, spawnPinned, waitForHttp } from './support.js';
import { BenchDelivery, CLIENT_UUID, MESH, addresses, world } from './world.js';

const SIZES = (process.env['BENCH_SCOPE_SIZES'] ?? '10,100,1000').split(',').map(Number);
const IDLE_MS = Number(process.env['BENCH_MEM_IDLE_MS'] ?? 3000);
const WITH_RSS = process.env['BENCH_SCOPE_NO_RSS'] !== '1';
const MESH_KEY = 'ab'.repeat(32);
const PER_NAMESPACE = 50;
const VARIANTS = ['unscoped', 'Sidecar', 'SMI'] as const;
type Variant = (typeof VARIANTS)[number];

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const children: ChildProcess[] = [];
process.on('exit', () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
});
function stop(c: ChildProcess): Promise<void> {
  if (c.exitCode !== null || c.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    c.once('exit', () => resolve());
    c.kill('SIGTERM');
  });
}

/** `n` services `s<i>` in namespaces `mesh-<i / 50>`, each with one meshed pod running as its own ServiceAccount `s<i>`. */
function synthetic(n: number): Resource[] {
  const out: Resource[] = [];
  for (let i = 0; i < n; i++) {
    const ns = `mesh-${Math.floor(i / PER_NAMESPACE)}`;
    if (i % PER_NAMESPACE === 0) out.push({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, labels: { 'flomesh.io/monitored-by': MESH } } });
    const name = `s${i}`;
    const ip = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
    out.push(
      {
        apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: ns },
        spec: { selector: { app: name }, clusterIP: `10.96.${(i >> 8) & 255}.${i & 255}`, ports: [{ name: 'http', port: 8080, targetPort: 8080, protocol: 'TCP' }] },
      },
      {
        apiVersion: 'v1', kind: 'Pod', metadata: { name: `${name}-0`, namespace: ns, uid: `${name}-uid`, labels: { app: name, 'fsm-proxy-uuid': `uuid-${i}` } },
        spec: { serviceAccountName: name, containers: [{ name: 'app', image: 'bench', ports: [{ containerPort: 8080 }] }] },
        status: { phase: 'Running', podIP: ip, conditions: [{ type: 'Ready', status: 'True' }] },
      },
    );
  }
  return out;
}

/** The 3 services the client talks to: spread over the mesh. */
const talksTo = (n: number): number[] => [0, Math.floor(n / 2), n - 1];
const nsOf = (i: number): string => `mesh-${Math.floor(i / PER_NAMESPACE)}`;

function scoping(variant: Variant, n: number): Resource[] {
  if (variant === 'unscoped') return [];
  if (variant === 'Sidecar') {
    return [{
      apiVersion: 'networking.istio.io/v1', kind: 'Sidecar', metadata: { name: 'curl', namespace: 'curl' },
      spec: { workloadSelector: { labels: { app: 'curl' } }, egress: [{ hosts: talksTo(n).map((i) => `${nsOf(i)}/s${i}.${nsOf(i)}.svc.cluster.local`) }] },
    }];
  }
  return talksTo(n).flatMap((i): Resource[] => [
    { apiVersion: 'specs.smi-spec.io/v1alpha4', kind: 'HTTPRouteGroup', metadata: { name: `s${i}`, namespace: nsOf(i) }, spec: { matches: [{ name: 'all', pathRegex: '.*' }] } },
    {
      apiVersion: 'access.smi-spec.io/v1alpha3', kind: 'TrafficTarget', metadata: { name: `curl-to-s${i}`, namespace: nsOf(i) },
      spec: {
        destination: { kind: 'ServiceAccount', name: `s${i}`, namespace: nsOf(i) },
        sources: [{ kind: 'ServiceAccount', name: 'curl', namespace: 'curl' }],
        rules: [{ kind: 'HTTPRouteGroup', name: `s${i}` }],
      },
    },
  ]);
}

interface Row {
  services: number;
  variant: Variant;
  inScope: number;
  bytes: number;
  outbound: number;
  dns: number;
  serviceIPs: number;
  rss: number;
  heap: number;
}

/**
 * The control plane's side: CPU to compile (and version) every proxy's snapshot of the mesh, and the
 * average bytes per proxy, unscoped; with a Sidecar `./*` in every namespace (each proxy gets its
 * namespace's 50 services); with SMI where each service's proxy may reach the next 3 services.
 */
function fullCompile(n: number, base: Resource[], meshConfigOf: (permissive: boolean) => Resource[]): string {
  const services = synthetic(n);
  const namespaces = [...new Set(services.filter((r) => r.kind === 'Namespace').map((r) => r.metadata.name))];
  const variants: [string, Resource[]][] = [
    ['unscoped', [...meshConfigOf(true), ...base, ...services]],
    ['Sidecar ./* per namespace', [...meshConfigOf(true), ...base, ...services, ...namespaces.map((ns): Resource => ({ apiVersion: 'networking.istio.io/v1', kind: 'Sidecar', metadata: { name: 'default', namespace: ns }, spec: { egress: [{ hosts: ['./*'] }] } }))]],
    ['SMI, 3 destinations each', [...meshConfigOf(false), ...base, ...services, ...Array.from({ length: n }, (_, j) => j).flatMap((j): Resource[] => [
      { apiVersion: 'specs.smi-spec.io/v1alpha4', kind: 'HTTPRouteGroup', metadata: { name: `s${j}`, namespace: nsOf(j) }, spec: { matches: [{ name: 'all', pathRegex: '.*' }] } },
      {
        apiVersion: 'access.smi-spec.io/v1alpha3', kind: 'TrafficTarget', metadata: { name: `to-s${j}`, namespace: nsOf(j) },
        spec: {
          destination: { kind: 'ServiceAccount', name: `s${j}`, namespace: nsOf(j) },
          sources: [1, 2, 3].map((d) => (j - d + n) % n).map((i) => ({ kind: 'ServiceAccount', name: `s${i}`, namespace: nsOf(i) })),
          rules: [{ kind: 'HTTPRouteGroup', name: `s${j}` }],
        },
      },
    ])]],
  ];
  let out = '';
  for (const [name, resources] of variants) {
    const started = process.cpuUsage();
    const catalog = buildCatalog({ meshName: MESH, resources, pluginSources: new Map() });
    let bytes = 0;
    let proxies = 0;
    for (const p of listProxies(catalog)) {
      const snap = compileProxySnapshot(catalog, p);
      if (!snap) continue;
      snapshotVersion(snap);
      bytes += Buffer.byteLength(snapshotJson(snap));
      proxies++;
    }
    const cpu = process.cpuUsage(started);
    out += `| ${n} | ${name} | ${proxies} | ${((cpu.user + cpu.system) / 1e6).toFixed(2)} | ${(bytes / proxies / 1024).toFixed(1)} |\n`;
  }
  return out;
}

async function heapUsedMiB(admin: string): Promise<number> {
  const text = await (await fetch(`${admin}/stats/prometheus`)).text();
  return Number(/^tessera_sidecar_nodejs_heap_size_used_bytes(?:\{[^}]*\})? ([\d.e+]+)/m.exec(text)?.[1] ?? NaN) / 1048576;
}

async function main(): Promise<void> {
  const a = addresses(100 + (process.pid % 40));
  const base = await world(a, { mtls: false });
  // permissive mode is the MeshConfig's default; the SMI variant turns it off
  const meshConfigOf = (permissive: boolean): Resource[] =>
    base.filter((r) => r.kind === 'MeshConfig').map((r) => ({ ...r, spec: { ...(r.spec as object), traffic: { enablePermissiveTrafficPolicyMode: permissive } } }));
  const rest = base.filter((r) => r.kind !== 'MeshConfig');
  const delivery = new BenchDelivery();
  await delivery.startCa();
  await delivery.listen(a.controller, 6060);
  const dataRoot = mkdtempSync(join(tmpdir(), 'tessera-bench-scope-'));
  const sidecarMain = fileURLToPath(new URL('../src/sidecar/main.js', import.meta.url));
  const admin = `http://${a.clientPod}:15000`;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    TESSERA_POD_NAME: 'curl-0', TESSERA_POD_NAMESPACE: 'curl', TESSERA_POD_UID: 'curl-0-uid',
    TESSERA_POD_IP: a.clientPod, TESSERA_LOCAL_IP: a.clientLocal, TESSERA_SERVICE_ACCOUNT: 'curl',
    TESSERA_PROXY_UUID: CLIENT_UUID, TESSERA_PROXY_TOKEN: proxyToken(MESH_KEY, CLIENT_UUID),
    TESSERA_CONTROLLER_URL: `http://${a.controller}:6060`, TESSERA_MESH_NAME: MESH,
  };
  const bare = WITH_RSS ? spawnPinned(0, process.execPath, [...SIDECAR_NODE_FLAGS, '-e', 'setInterval(() => {}, 1e9)'], process.env) : undefined;
  if (bare) children.push(bare);
  const rows: Row[] = [];
  for (const n of SIZES) {
    for (const variant of VARIANTS) {
      const resources = [...meshConfigOf(variant !== 'SMI'), ...rest, ...synthetic(n), ...scoping(variant, n)];
      const snapshot = compileProxySnapshot(buildCatalog({ meshName: MESH, resources, pluginSources: new Map() }), { namespace: 'curl', name: 'curl-0' });
      if (!snapshot) throw new Error('no client snapshot');
      const inScope = Object.values(snapshot.Outbound.TrafficMatches).flat().reduce((k, m) => k + Object.keys({ ...m.HttpServiceRouteRules, ...m.TcpServiceRouteRules }).length, 0);
      const row: Row = {
        services: n, variant, inScope,
        bytes: Buffer.byteLength(snapshotJson(snapshot)),
        outbound: Buffer.byteLength(JSON.stringify(snapshot.Outbound)),
        dns: Buffer.byteLength(JSON.stringify(snapshot.Dns)),
        serviceIPs: Buffer.byteLength(JSON.stringify(snapshot.ServiceIPs)),
        rss: NaN, heap: NaN,
      };
      if (WITH_RSS) {
        const v: VersionedSnapshot = { version: snapshotVersion(snapshot), snapshot };
        delivery.acks.length = 0;
        delivery.publish(new Map([[CLIENT_UUID, v]]));
        // a fresh data dir each time: a sidecar starts from its saved snapshot, which would be the previous run's
        const c = spawnPinned(0, process.execPath, [...SIDECAR_NODE_FLAGS, sidecarMain], { ...env, TESSERA_SIDECAR_DIR: join(dataRoot, `curl-${n}-${variant}`) });
        children.push(c);
        await waitForHttp(`${admin}/ready`);
        const deadline = Date.now() + 30_000;
        while (!delivery.applied(CLIENT_UUID)) {
          if (Date.now() > deadline) throw new Error(`the sidecar did not apply its snapshot (${n} services, ${variant})`);
          await sleep(50);
        }
        await sleep(IDLE_MS);
        row.rss = rssMiB(c.pid!);
        row.heap = await heapUsedMiB(admin);
        await stop(c);
      }
      rows.push(row);
      process.stderr.write(`  ${n} services, ${variant}: ${inScope} in scope, ${(row.bytes / 1024).toFixed(1)} KiB, RSS ${row.rss.toFixed(1)} MiB\n`);
    }
  }
  const bareRss = bare ? rssMiB(bare.pid!) : NaN;
  delivery.close();
  for (const c of children) await stop(c);
  rmSync(dataRoot, { recursive: true, force: true });
  const f = (x: number, d = 1): string => (Number.isFinite(x) ? x.toFixed(d) : '–');
  const kib = (b: number): string => (b / 1024).toFixed(1);
  let out = `\noutbound scope: one client sidecar whose pod talks to 3 services (bare node idle RSS ${f(bareRss)} MiB, flags \`${SIDECAR_NODE_FLAGS.join(' ')}\`)\n\n`;
  out += '| services | scope | services in Outbound | snapshot KiB | Outbound KiB | Dns KiB | ServiceIPs KiB | sidecar idle RSS MiB | heap used MiB |\n|---:|---|---:|---:|---:|---:|---:|---:|---:|\n';
  for (const r of rows) out += `| ${r.services} | ${r.variant} | ${r.inScope} | ${kib(r.bytes)} | ${kib(r.outbound)} | ${kib(r.dns)} | ${kib(r.serviceIPs)} | ${f(r.rss)} | ${f(r.heap)} |\n`;
  out += '\ncompiling every proxy (CPU includes the catalog, versions and the wire JSON measured for the bytes)\n\n| services | scope | proxies | CPU s | KiB per proxy |\n|---:|---|---:|---:|---:|\n';
  for (const n of SIZES) out += fullCompile(n, rest, meshConfigOf);
  process.stdout.write(out);
}

main().catch((err: Error) => {
  process.stderr.write(`bench failed: ${err.stack ?? err.message}\n`);
  process.exit(1);
});
