/**
 * `npm run bench:scale`: the control plane at mesh scale (issue #18). In one process: the real
 * Controller, ProxyRegistry and TLS delivery endpoint of `tessera up`'s controller, fed a synthetic
 * catalog; in a child process (bench/scale-proxies.ts): one real delivery client per proxy, ACKing
 * every snapshot. Then a series of changes, each measured from the moment the controller sees it.
 *
 * The catalog: one meshed pod behind each Service, its own ServiceAccount, 50 Services a namespace,
 * permissive traffic mode (every proxy may reach every service), as the issue's table was measured.
 *
 * Figures, per size:
 *   fullCompileCpuS     controller CPU from sync until every proxy's snapshot is computed
 *   changeCpuMsP99      controller CPU from a change until its recompute is done (p99 over changes)
 *   convergenceMsP50/99 change seen → an affected proxy's ACK of the new version (over proxies × changes)
 *   bytesPerChange      snapshot and delta event bytes pushed for one change (mean), with the proxies it reached
 *   controllerHeapMiB   heap after the full compile, after a GC; controllerRssMiB beside it
 * The debounce window the controller applies (100 ms after the first change) is inside convergence.
 *
 * Usage: npm run bench:scale [-- --services N[,N…]] [--changes K] [--json]
 * Default sizes 100 and 1,000. Sizes whose full compile cannot finish within --budget-s (default 600 s,
 * estimated from the smaller sizes' growth) are reported as not run, with the estimate.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Pod, Resource, Service } from '../src/api/types.js';
import { Controller, ProxyRegistry } from '../src/control-plane/index.js';
import { createDeliveryEndpoint } from '../src/control-plane/delivery.js';
import { SIDECAR_ENV, proxyToken } from '../src/local/layout.js';
import { ensureClusterPki, issueServingCertificate } from '../src/local/pki/index.js';
import { meshConfig, namespace, pod, service } from '../src/snapshot/testdata/builders.js';

const MESH = 'tessera';
const SERVICES_PER_NAMESPACE = 50;

export interface ScaleResult {
  services: number;
  proxies: number;
  fullCompileCpuS: number;
  changeCpuMsP99: number;
  changeCpuMsP50: number;
  convergenceMsP50: number;
  convergenceMsP99: number;
  bytesPerChange: number;
  proxiesPerChange: number;
  controllerHeapMiB: number;
  controllerRssMiB: number;
  changes: number;
}

interface Args {
  sizes: number[];
  changes: number;
  json: boolean;
  budgetS: number;
}

function parseArgs(argv: string[]): Args {
  const out: Args = { sizes: [100, 1000], changes: 5, json: false, budgetS: 600 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--services') out.sizes = value().split(',').map((s) => positive(s, '--services'));
    else if (a === '--changes') out.changes = positive(value(), '--changes');
    else if (a === '--budget-s') out.budgetS = positive(value(), '--budget-s');
    else if (a === '--json') out.json = true;
    else throw new Error(`unknown argument ${a} (usage: --services N[,N…] [--changes K] [--budget-s S] [--json])`);
  }
  return out;
}

function positive(s: string, flag: string): number {
  const n = Number(s.replace(/_/g, ''));
  if (!Number.isInteger(n) || n < 1) throw new Error(`${flag}: expected a positive integer, got ${JSON.stringify(s)}`);
  return n;
}

interface Mesh {
  resources: Resource[];
  proxies: { uuid: string; namespace: string; name: string }[];
  services: Service[];
}

/** 10.0.0.1 onwards: the i-th address of 10.0.0.0/8, skipping .0 */
function ipOf(i: number): string {
  const n = i + 1 + Math.floor(i / 255);
  return `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;
}

function synthesize(n: number): Mesh {
  const resources: Resource[] = [meshConfig({ traffic: { enablePermissiveTrafficPolicyMode: true } }, MESH)];
  const proxies: Mesh['proxies'] = [];
  const services: Service[] = [];
  // monitored by this mesh: every pod is one of its proxies, every Service one of its services
  for (let ns = 0; ns * SERVICES_PER_NAMESPACE < n; ns++) resources.push(namespace(`ns-${ns}`, { 'flomesh.io/monitored-by': MESH }));
  for (let i = 0; i < n; i++) {
    const ns = `ns-${Math.floor(i / SERVICES_PER_NAMESPACE)}`;
    const name = `svc-${i}`;
    const uuid = randomUUID();
    const p: Pod = pod(ns, `${name}-0`, { labels: { app: name }, ip: ipOf(i), serviceAccount: name, ports: [{ name: 'http', containerPort: 8080 }] });
    p.metadata.labels!['fsm-proxy-uuid'] = uuid;
    const s = service(ns, name, [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }], { app: name });
    resources.push({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, namespace: ns } }, s, p);
    services.push(s);
    proxies.push({ uuid, namespace: ns, name: `${name}-0` });
  }
  return { resources, proxies, services };
}

const cpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

/** Resolves once `done()` holds, polling on macrotasks (a recompute is synchronous, so a poll runs only after it). */
async function until(done: () => boolean, timeoutMs: number, what: string, pollMs = 2, status?: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let nextReport = Date.now() + 10_000;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${status ? ` (${status()})` : ''}`);
    if (status && Date.now() > nextReport) {
      progress(`still waiting for ${what}: ${status()}`);
      nextReport = Date.now() + 10_000;
    }
    await sleep(pollMs);
  }
}

/**
 * The changes, in turns of four: a Service gains a port, then loses it again; another workload gains
 * a second pod (an endpoint more for every client), then the pod goes. Each really changes the catalog.
 */
function change(mesh: Mesh, k: number): { type: 'ADDED' | 'MODIFIED' | 'DELETED'; object: Resource } {
  const round = Math.floor(k / 4);
  const step = k % 4;
  const s = mesh.services[(round * 7919 + (step >= 2 ? 1 : 0)) % mesh.services.length]!;
  const ns = s.metadata.namespace!;
  const name = s.metadata.name;
  const extraPod = (): Pod => pod(ns, `${name}-extra`, { labels: { app: name }, ip: ipOf(mesh.services.length + round), serviceAccount: name, unmeshed: true });
  switch (step) {
    case 0:
      return { type: 'MODIFIED', object: { ...s, spec: { ...s.spec, ports: [...s.spec!.ports!, { name: 'admin', port: 9090, targetPort: 9090, protocol: 'TCP' }] } } as Service };
    case 1:
      return { type: 'MODIFIED', object: s };
    case 2:
      return { type: 'ADDED', object: extraPod() };
    default:
      return { type: 'DELETED', object: extraPod() };
  }
}

async function runSize(n: number, changes: number): Promise<ScaleResult> {
  const mesh = synthesize(n);
  const registry = new ProxyRegistry();
  const quiet = { info: () => undefined, warn: (msg: string, f?: Record<string, unknown>) => process.stderr.write(`controller: ${msg} ${JSON.stringify(f ?? {})}\n`) };
  const controller = new Controller(MESH, registry, quiet);
  let recomputes = 0;
  controller.onRecompute = () => {
    recomputes++;
  };

  // full compile
  global.gc?.();
  const fullStart = cpuMs();
  controller.sync(mesh.resources);
  await until(() => controller.ready && mesh.proxies.every((p) => controller.snapshotFor(p.uuid) !== undefined), 3_600_000, 'the full compile', 20);
  const fullCompileCpuS = (cpuMs() - fullStart) / 1000;
  progress(`${n}: full compile ${fullCompileCpuS.toFixed(2)} s CPU`);
  global.gc?.();
  const mem = process.memoryUsage();

  // delivery over TLS, as the controller serves it
  const dir = mkdtempSync(join(tmpdir(), 'tessera-scale-'));
  let child: ChildProcess | undefined;
  const endpoint = await (async () => {
    await ensureClusterPki(dir, MESH, ['127.0.0.1']);
    const files = await issueServingCertificate(dir, 'controller', ['127.0.0.1']);
    const meshKey = randomBytes(32).toString('hex');
    const ep = createDeliveryEndpoint({ controller, registry, identity: () => undefined, meshKey, log: quiet }, { cert: readFileSync(files.certFile, 'utf8'), key: readFileSync(files.keyFile, 'utf8') });
    await new Promise<void>((r) => ep.server.listen(0, '127.0.0.1', r));
    return { ep, meshKey, caFile: files.caFile };
  })();
  try {
    const port = (endpoint.ep.server.address() as AddressInfo).port;
    child = fork(new URL('./scale-proxies.js', import.meta.url), [], {
      env: { ...process.env, [SIDECAR_ENV.controllerCa]: endpoint.caFile },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const started = new Promise<number>((resolve, reject) => {
      child!.once('message', (m) => resolve((m as { started: number }).started));
      child!.once('exit', (code) => reject(new Error(`the simulated proxies exited (${code})`)));
    });
    child.send({ url: `https://127.0.0.1:${port}`, proxies: mesh.proxies.map((p) => ({ uuid: p.uuid, token: proxyToken(endpoint.meshKey, p.uuid) })) });
    const connected = await started;
    progress(`${n}: ${connected} proxies connected`);
    if (connected !== mesh.proxies.length) throw new Error(`${connected} of ${mesh.proxies.length} simulated proxies connected`);
    const synced = (): boolean =>
      mesh.proxies.every((p) => {
        const r = registry.get(p.uuid);
        return r?.connected === true && r.appliedVersion !== undefined && r.appliedVersion === controller.snapshotFor(p.uuid)?.version;
      });
    const ackCount = (): string => {
      let connectedNow = 0;
      let acked = 0;
      for (const p of mesh.proxies) {
        const r = registry.get(p.uuid);
        if (r?.connected) connectedNow++;
        if (r?.appliedVersion !== undefined && r.appliedVersion === controller.snapshotFor(p.uuid)?.version) acked++;
      }
      return `${connectedNow} connected, ${acked} ACKed`;
    };
    await until(synced, 600_000, 'every proxy to ACK its first snapshot', 20, ackCount);

    progress(`${n}: every proxy ACKed its first snapshot`);
    const changeCpu: number[] = [];
    const convergence: number[] = [];
    let bytes = 0;
    let reached = 0;
    for (let k = 0; k < changes; k++) {
      const before = new Map(mesh.proxies.map((p) => [p.uuid, controller.snapshotFor(p.uuid)?.version]));
      const seen = recomputes;
      const c = change(mesh, k);
      const t0 = Date.now();
      const cpu0 = cpuMs();
      const pushed0 = controller.pushedChars;
      controller.change(c.type, c.object);
      await until(() => recomputes > seen, 3_600_000, `the recompute of change ${k}`);
      changeCpu.push(cpuMs() - cpu0);
      const affected = mesh.proxies.filter((p) => controller.snapshotFor(p.uuid)?.version !== before.get(p.uuid));
      // what went down the streams (delta or whole snapshot events; ASCII JSON, so characters are bytes)
      bytes += controller.pushedChars - pushed0;
      reached += affected.length;
      const want = new Map(affected.map((p) => [p.uuid, controller.snapshotFor(p.uuid)!.version]));
      progress(`${n}: change ${k} recomputed in ${changeCpu.at(-1)!.toFixed(0)} ms CPU; ${affected.length} proxies to ACK`);
      await until(() => [...want].every(([uuid, v]) => registry.get(uuid)?.appliedVersion === v), 600_000, `the ACKs of change ${k}`, 5);
      for (const [uuid] of want) convergence.push((registry.get(uuid)!.ackedAt ?? t0) - t0);
      await sleep(50);
    }
    changeCpu.sort((a, b) => a - b);
    convergence.sort((a, b) => a - b);
    return {
      services: n,
      proxies: mesh.proxies.length,
      fullCompileCpuS: round(fullCompileCpuS, 2),
      changeCpuMsP50: round(quantile(changeCpu, 0.5), 1),
      changeCpuMsP99: round(quantile(changeCpu, 0.99), 1),
      convergenceMsP50: round(quantile(convergence, 0.5), 0),
      convergenceMsP99: round(quantile(convergence, 0.99), 0),
      bytesPerChange: Math.round(bytes / changes),
      proxiesPerChange: Math.round(reached / changes),
      controllerHeapMiB: round(mem.heapUsed / 2 ** 20, 0),
      controllerRssMiB: round(mem.rss / 2 ** 20, 0),
      changes,
    };
  } finally {
    if (child && child.exitCode === null) {
      child.send('stop');
      await new Promise((r) => child!.once('exit', r));
    }
    endpoint.ep.closeAll();
    rmSync(dir, { recursive: true, force: true });
  }
}

const progress = (line: string): void => {
  process.stderr.write(`bench:scale ${line}\n`);
};

const round = (v: number, digits: number): number => Math.round(v * 10 ** digits) / 10 ** digits;

function table(rows: ScaleResult[], skipped: string[]): string {
  const head = ['services = proxies', 'full compile CPU', 'change CPU p50 / p99', 'convergence p50 / p99', 'bytes per change (proxies)', 'heap / RSS'];
  const lines = rows.map((r) => [
    r.services.toLocaleString('en-US'),
    `${r.fullCompileCpuS} s`,
    `${r.changeCpuMsP50} / ${r.changeCpuMsP99} ms`,
    `${r.convergenceMsP50} / ${r.convergenceMsP99} ms`,
    `${(r.bytesPerChange / 1024).toFixed(0)} KiB (${r.proxiesPerChange})`,
    `${r.controllerHeapMiB} / ${r.controllerRssMiB} MiB`,
  ]);
  let out = `| ${head.join(' | ')} |\n|${head.map((_, i) => (i === 0 ? '---:' : '---:')).join('|')}|\n`;
  for (const l of lines) out += `| ${l.join(' | ')} |\n`;
  for (const s of skipped) out += `\n${s}`;
  return out;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  if (!global.gc) process.stderr.write('note: run with --expose-gc (npm run bench:scale does) for heap figures after a GC\n');
  const rows: ScaleResult[] = [];
  const skipped: string[] = [];
  for (const n of [...args.sizes].sort((a, b) => a - b)) {
    // a full recompute grows faster than linearly today: extrapolate from the last size before starting one
    const last = rows.at(-1);
    if (last) {
      const estimate = last.fullCompileCpuS * (n / last.services) ** 2;
      if (estimate > args.budgetS) {
        skipped.push(`${n.toLocaleString('en-US')} services: not run; the full compile alone would take about ${Math.round(estimate)} s of CPU (quadratic growth from ${last.services}), over --budget-s ${args.budgetS}`);
        continue;
      }
    }
    const r = await runSize(n, args.changes);
    rows.push(r);
    if (args.json) process.stdout.write(`${JSON.stringify(r)}\n`);
  }
  if (!args.json) process.stdout.write(`${table(rows, skipped)}\n`);
  else for (const s of skipped) process.stderr.write(`${s}\n`);
}

main().catch((e: Error) => {
  process.stderr.write(`bench:scale: ${e.message}\n`);
  process.exit(1);
});
